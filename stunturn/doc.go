// Package stunturn serves STUN and TURN inside the Noom process, on
// github.com/pion/turn/v4 and github.com/pion/stun/v3.
//
// # What it serves
//
// STUN Binding (RFC 8489) answers anyone. TURN (RFC 8656) requires
// long-term credentials of the TURN REST API scheme, which coturn's
// use-auth-secret also uses: the username is "<expiry-unix>:<user>" and the
// password base64(HMAC-SHA1(secret, username)). An Issuer mints them for
// the signaling side; ICEServers hands a browser ready RTCIceServer
// entries. UDP and TCP share one port (Config.Addr, default 3478); TLS
// (turns:, default port 5349) runs when a certificate and key are given.
// Relays are UDP over IPv4, on a port range (default 49152-65535), bound to
// the listening or primary address and advertised as PublicIP when set.
//
// # Secure by default
//
// Relays may not reach any address that IANA's special-purpose registries
// do not call globally reachable: loopback, RFC 1918, link-local (cloud
// metadata 169.254.169.254 included), CGNAT 100.64/10, multicast,
// reserved, unspecified, documentation and benchmarking ranges
// (192.0.2/24, 198.18/15, ...), IETF protocol assignments, IPv6 ULA,
// link-local, 6to4 and Teredo, nor their IPv4-mapped or NAT64
// (64:ff9b::/96) forms: CreatePermission and ChannelBind get 403, Send
// indications are dropped. Config.AllowPeers opens ranges on purpose. The
// server's own relayed addresses are always allowed, so that two of its
// clients relay to each other, but a relay reaches no other port of the
// server's addresses (not the TURN port, not another service).
//
// Allocations are limited per user, per client IP (an IPv6 /64) and in
// total (486), permissions and channels per allocation (508), TCP and TLS
// connections in total and per client IP. A TCP or TLS connection that
// holds no allocation is closed after TCPIdleTimeout of silence, or
// TCPAuthTimeout after it began to hold none however busy it is, and one
// whose client stops reading after 10 s of blocked writes. Nonces are
// pion's stateless HMAC nonces; allocation state is bounded by the quotas.
//
// With Config.Presence, TURN use follows signaling presence: a user (the
// socket a credential was minted for) must be present to allocate, and
// may refresh, create permissions and bind channels until it has been
// absent for Config.PresenceGrace (403 after that; deallocation always
// works). A sweep asks about every user holding allocations every quarter
// of the grace, so that the grace is measured from when the user left.
//
// One credential check (Issuer.verify) serves the gate, pion's
// AuthHandler and Issuer.Validate; the gate hands the key it derived to
// pion, so a request costs one HMAC-SHA1 and one MD5.
//
// # Observability
//
// Metrics are built in New on the given prometheus.Registerer; names start
// with noom_stun_ and noom_turn_, labels are closed sets created at zero.
// Relayed bytes and packets are counted as they pass the relay sockets.
// Gauges of allocations, permissions, channels and connections are read
// from the server's state at scrape time; the metrics are one
// prometheus.Collector registered once. For an admin console,
// Allocations returns a snapshot of plain values, Counts the numbers now,
// Observe adds hooks (allocation created, refreshed and deleted,
// permission created, authentication failed, peer denied) and
// EndAllocation ends one allocation through pion's own deletion path.
//
// # Concurrency contract
//
// Every method of Server and Issuer is safe for concurrent use. New starts
// goroutines, all of them pion's but one: one read loop per UDP socket
// (UDPReadWorkers), one accept loop per listener, one per TCP or TLS
// connection, one per allocation, and timers; and, with Config.Presence,
// the presence sweep, which Close stops and waits for first. Close closes every socket,
// then waits until each read and accept loop has seen its socket closed,
// every connection has been closed by its goroutine and every allocation
// has been deleted by its goroutine; what remains of those goroutines is
// their return. Close returns ErrCloseTimeout if that takes over 10 s.
//
// pion reports allocation events from its goroutines, sometimes under its
// own locks. The handlers here only update the server's own state under
// its one mutex (state.mu), never block otherwise, and never call into
// pion, so no lock order with pion exists. The relay sockets read the
// permission set of their allocation lock-free (copy on write). Observer
// hooks and Config.Presence are called after state.mu is released, from
// the goroutine that saw the event; the observer list is copy on write,
// read with one atomic load. EndAllocation closes our relay socket; pion's
// allocation goroutine then deletes the allocation.
//
// # How pion's answers are corrected
//
// Every message from a client passes a gate (gate.go) before pion sees it,
// and every response is observed on its way out. pion/turn v4.1.4 deviates
// from RFC 8489/8656 in ways fixed here from outside:
//
//   - Wrong, expired or unknown credentials: pion answers 400 Bad Request;
//     the gate answers 401 with REALM and NONCE.
//   - A peer refused by the filter: pion answers CreatePermission with an
//     error response that has no ERROR-CODE, and ChannelBind with 401; the
//     gate answers 403 Forbidden (443 for IPv6 peers, relays being IPv4).
//   - Refresh, CreatePermission and ChannelBind without an allocation:
//     pion sends nothing; the gate answers 437 Allocation Mismatch.
//   - REQUESTED-TRANSPORT TCP (RFC 6062): pion allocates a UDP relay
//     anyway; the gate answers 442. REQUESTED-ADDRESS-FAMILY IPv6: pion
//     allocates IPv4; the gate answers 440.
//   - Quota checks race between concurrent Allocates; here a slot is
//     reserved when pion asks and settled when the request is done.
//   - pion's accept loop ends for good on the first accept error (EMFILE)
//     and its UDP read loop on any read error; the sockets here retry.
//   - pion's Close does not wait for its goroutines, and its TCP
//     connections never time out; see above.
//
// Deviations that cannot be fixed from outside, as of pion/turn v4.1.4:
//
//   - LIFETIME: pion grants a requested lifetime below one hour as asked,
//     even 1 s (RFC 8656 §7.2: never below the 10-minute default); above
//     one hour it grants the default instead of the maximum; LIFETIME 0 in
//     an Allocate gets 508. Changing the request would break its
//     MESSAGE-INTEGRITY.
//   - The gate checks credentials before pion checks the nonce, so a
//     request with bad credentials and a stale nonce gets 401 (echoing the
//     client's nonce: pion's nonce key is internal) rather than 438 first.
//   - pion's own error responses (400, 420, 437, 486, 508) carry no
//     MESSAGE-INTEGRITY. Browsers check integrity on success responses
//     only.
//   - No MESSAGE-INTEGRITY-SHA256, PASSWORD-ALGORITHMS or USERHASH (RFC
//     8489 §9.2); every browser uses MESSAGE-INTEGRITY (HMAC-SHA1).
//   - No IPv6 relays (RFC 6156) and no TCP relays (RFC 6062), refused as
//     above; ADDITIONAL-ADDRESS-FAMILY is ignored (an IPv4 relay alone, no
//     ADDRESS-ERROR-CODE).
//   - EVEN-PORT: pion probes for an even port, returns a RESERVATION-TOKEN
//     and never honours it in a later Allocate.
//   - Unknown comprehension-required attributes are ignored instead of
//     answered with 420 (DONT-FRAGMENT alone gets 420), and requests of
//     methods pion does not implement get no answer.
//   - Channel numbers 0x5000-0x7FFF, reserved by RFC 8656, are accepted
//     (RFC 5766 allowed them, and pion's client uses them).
package stunturn
