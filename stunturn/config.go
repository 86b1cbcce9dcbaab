package stunturn

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultAddr                = ":3478"
	DefaultTLSPort             = 5349
	DefaultRealm               = "noom"
	DefaultRelayPortMin        = 49152
	DefaultRelayPortMax        = 65535
	DefaultCredentialTTL       = 12 * time.Hour
	DefaultUserQuota           = 64
	DefaultIPQuota             = 256
	DefaultTotalQuota          = 8192
	DefaultMaxPermissions      = 64
	DefaultTCPIdleTimeout      = 30 * time.Second
	DefaultTCPAuthTimeout      = 10 * time.Second
	DefaultMaxConnections      = 4096
	DefaultMaxTCPConnsPerIP    = 32
	DefaultPresenceGrace       = 30 * time.Second
	DefaultSecretLen           = 32
	maxSupportedCredentialTTL  = 30 * 24 * time.Hour
	maxSupportedRealmLen       = 763 // RFC 8489 §14.9: fewer than 128 characters, up to 763 bytes.
	maxSupportedUDPReadWorkers = 64
)

// Config configures a Server. The zero value is a working configuration:
// every field's comment names the default that its zero value stands for.
type Config struct {
	// Addr is the host:port of STUN and TURN over UDP and over TCP: both
	// listen on the same port. Port 0 picks a free port (the same one for
	// UDP and TCP); Server.Addrs tells which. Default ":3478" (all
	// interfaces, IPv4 and IPv6).
	Addr string

	// TLSCertFile and TLSKeyFile are PEM files. When both are set, TURN
	// over TLS (turns:) listens on TLSAddr. The files are read again when
	// their modification time changes, so a renewed certificate is picked
	// up without a restart. Default: empty, no TLS.
	TLSCertFile, TLSKeyFile string

	// TLSAddr is the host:port of TURN over TLS. Default: the host of Addr
	// with port 5349. Ignored without TLSCertFile and TLSKeyFile.
	TLSAddr string

	// PublicIP is the IPv4 address advertised to peers in relayed
	// addresses, for hosts behind a 1:1 NAT. Relay sockets still bind to
	// the local address. Default: the IP of Addr when Addr names one,
	// otherwise the host's primary IPv4 address (the one on the interface
	// of the default route, found by reading the routing table and the
	// interfaces; no packet is sent).
	PublicIP netip.Addr

	// RelayPortMin and RelayPortMax bound the UDP ports of relayed
	// addresses (inclusive). Set both or neither. Default 49152-65535.
	RelayPortMin, RelayPortMax uint16

	// Realm is the REALM of long-term credentials. Default "noom".
	Realm string

	// Secret is the shared secret of the TURN REST API credentials
	// (coturn's static-auth-secret). Default: empty, which means a random
	// secret made for this process: credentials die with the process.
	Secret []byte

	// CredentialTTL is how long credentials minted by ICEServers and by
	// the Issuer stay valid. It also bounds how long a call can use its
	// relays without fresh credentials (each Refresh is checked), which
	// is why the default stays long: with Presence, a credential whose
	// socket is gone stops working after PresenceGrace whatever its
	// TTL. Default 12h.
	CredentialTTL time.Duration

	// AllowPeers opens peer address ranges that are denied by default
	// (every range of IANA's special-purpose registries that is not
	// globally reachable: loopback, RFC 1918, link-local, CGNAT,
	// multicast, unspecified, documentation, benchmarking, IPv6 ULA and
	// link-local, ...), for example 127.0.0.0/8 in tests or a LAN that
	// is meant to be reachable. Default: none.
	AllowPeers []netip.Prefix

	// Presence tells whether a user (the <user> part of the REST
	// username: the signaling socket the credential was minted for) is
	// present now. When set, an Allocate of an absent user is refused
	// (403), and so are Refresh, CreatePermission and ChannelBind once
	// the user has been absent for PresenceGrace: TURN use follows
	// signaling presence, and a credential outlives its socket by no
	// more than the grace. It is called from the server's goroutines
	// without its locks held; it must be safe for concurrent use, fast,
	// and must not block. Default: nil, no presence check (credentials
	// work until they expire, whoever holds them).
	Presence func(user string) bool

	// PresenceGrace is how long a user may be absent before its
	// allocations can no longer be refreshed or given permissions: long
	// enough for a signaling reconnect and an ICE restart with fresh
	// credentials. Default 30s. Ignored without Presence.
	PresenceGrace time.Duration

	// UserQuota is the number of allocations one user (the <user> part of
	// the REST username) may hold at once, like coturn's user-quota.
	// Default 64; negative means no limit.
	UserQuota int

	// IPQuota is the number of allocations the clients at one IP address
	// (one IPv6 /64) may hold at once, whatever their users: a browser
	// in a full 8-person mesh holds up to about 30, so 256 leaves room
	// for a few offices behind one NAT. Default 256; negative means no
	// limit.
	IPQuota int

	// TotalQuota is the number of allocations the server holds at once,
	// like coturn's total-quota. Default 8192; negative means no limit
	// (the relay port range still limits).
	TotalQuota int

	// MaxPermissions is the number of permissions, and separately of
	// channel bindings, that one allocation may hold. Default 64.
	MaxPermissions int

	// TCPIdleTimeout closes a TCP or TLS connection that holds no
	// allocation after the client has sent nothing for this long; it also
	// bounds the TLS handshake. A connection with an allocation lives as
	// long as the allocation (which the client must refresh). Default 30s.
	TCPIdleTimeout time.Duration

	// TCPAuthTimeout closes a TCP or TLS connection that has held no
	// allocation for this long, from its start or from the end of its
	// last allocation, however busy the client keeps it (Binding
	// requests, failed Allocates): TURN clients allocate at once.
	// Default 10s.
	TCPAuthTimeout time.Duration

	// MaxConnections is the number of TCP and TLS connections open at
	// once; further connections are closed at once. Default 4096;
	// negative means no limit.
	MaxConnections int

	// MaxTCPConnsPerIP is the number of TCP and TLS connections one
	// client IP address (one IPv6 /64) may hold at once; further ones are
	// closed at once. Default 32; negative means no limit.
	MaxTCPConnsPerIP int

	// UDPReadWorkers is the number of UDP sockets that share the UDP port
	// (SO_REUSEPORT, Linux only), each read by its own goroutine, for
	// hosts with cores to spare: one reader handles about 100k-200k
	// requests or relayed datagrams from clients per second. Note that
	// with SO_REUSEPORT another process of the same user can bind the port
	// too. Default 1.
	UDPReadWorkers int
}

// settings is a Config with defaults applied and text parsed.
type settings struct {
	Config
	listenHost string // host part of Addr ("" for all interfaces)
	listenPort uint16
	tlsEnabled bool
	tlsHost    string
	tlsPort    uint16
	secretSet  bool // Secret was given (not random)
}

// validate replaces zero values with their defaults, parses the
// addresses and checks every field; New runs it first.
func (cfg Config) validate() (settings, error) {
	st := settings{Config: cfg}
	c := &st.Config
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	host, port, err := splitHostPort(c.Addr)
	if err != nil {
		return st, invalidf("Addr %q: %v", c.Addr, err)
	}
	st.listenHost, st.listenPort = host, port

	switch {
	case c.TLSCertFile != "" && c.TLSKeyFile != "":
		st.tlsEnabled = true
	case c.TLSCertFile != "" || c.TLSKeyFile != "":
		return st, invalidf("TLSCertFile and TLSKeyFile must be set together")
	}
	if st.tlsEnabled {
		if c.TLSAddr == "" {
			c.TLSAddr = net.JoinHostPort(host, strconv.Itoa(DefaultTLSPort))
		}
		st.tlsHost, st.tlsPort, err = splitHostPort(c.TLSAddr)
		if err != nil {
			return st, invalidf("TLSAddr %q: %v", c.TLSAddr, err)
		}
	}

	if c.PublicIP.IsValid() {
		c.PublicIP = c.PublicIP.Unmap()
		if !c.PublicIP.Is4() || c.PublicIP.IsUnspecified() {
			return st, invalidf("PublicIP %v: relayed addresses are IPv4; give a unicast IPv4 address", c.PublicIP)
		}
	}

	switch {
	case c.RelayPortMin == 0 && c.RelayPortMax == 0:
		c.RelayPortMin, c.RelayPortMax = DefaultRelayPortMin, DefaultRelayPortMax
	case c.RelayPortMin == 0 || c.RelayPortMax == 0:
		return st, invalidf("RelayPortMin and RelayPortMax must be set together")
	case c.RelayPortMin > c.RelayPortMax:
		return st, invalidf("RelayPortMin %d is above RelayPortMax %d", c.RelayPortMin, c.RelayPortMax)
	}

	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if len(c.Realm) > maxSupportedRealmLen {
		return st, invalidf("Realm is longer than %d bytes", maxSupportedRealmLen)
	}

	if len(c.Secret) == 0 {
		c.Secret = make([]byte, DefaultSecretLen)
		_, _ = rand.Read(c.Secret) // crypto/rand.Read never fails (Go 1.24+).
	} else {
		c.Secret = append([]byte(nil), c.Secret...) // the caller keeps its slice
		st.secretSet = true
	}

	switch {
	case c.CredentialTTL == 0:
		c.CredentialTTL = DefaultCredentialTTL
	case c.CredentialTTL < time.Second || c.CredentialTTL > maxSupportedCredentialTTL:
		return st, invalidf("CredentialTTL %v is outside 1s..%v", c.CredentialTTL, maxSupportedCredentialTTL)
	}

	allow := make([]netip.Prefix, 0, len(c.AllowPeers))
	for _, p := range c.AllowPeers {
		if !p.IsValid() {
			return st, invalidf("AllowPeers has an invalid prefix %v", p)
		}
		allow = append(allow, p.Masked())
	}
	c.AllowPeers = allow

	c.UserQuota = intDefault(c.UserQuota, DefaultUserQuota)
	c.IPQuota = intDefault(c.IPQuota, DefaultIPQuota)
	c.TotalQuota = intDefault(c.TotalQuota, DefaultTotalQuota)
	c.MaxConnections = intDefault(c.MaxConnections, DefaultMaxConnections)
	c.MaxTCPConnsPerIP = intDefault(c.MaxTCPConnsPerIP, DefaultMaxTCPConnsPerIP)
	if c.MaxPermissions < 0 {
		return st, invalidf("MaxPermissions %d is negative", c.MaxPermissions)
	}
	c.MaxPermissions = cmp.Or(c.MaxPermissions, DefaultMaxPermissions)
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"TCPIdleTimeout", &c.TCPIdleTimeout, DefaultTCPIdleTimeout},
		{"TCPAuthTimeout", &c.TCPAuthTimeout, DefaultTCPAuthTimeout},
		{"PresenceGrace", &c.PresenceGrace, DefaultPresenceGrace},
	} {
		if *f.v < 0 {
			return st, invalidf("%s %v is negative", f.name, *f.v)
		}
		*f.v = cmp.Or(*f.v, f.def)
	}
	switch {
	case c.UDPReadWorkers == 0:
		c.UDPReadWorkers = 1
	case c.UDPReadWorkers < 0 || c.UDPReadWorkers > maxSupportedUDPReadWorkers:
		return st, invalidf("UDPReadWorkers %d is outside 1..%d", c.UDPReadWorkers, maxSupportedUDPReadWorkers)
	}
	return st, nil
}

// intDefault maps 0 to def and any negative value to "no limit" (0 in
// settings, where limits are checked as limit > 0).
func intDefault(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	default:
		return v
	}
}

func splitHostPort(hostport string) (string, uint16, error) {
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("port %q is not a number in 0..65535", portText)
	}
	if host != "" {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return "", 0, fmt.Errorf("host %q is not an IP address (names are not resolved)", host)
		}
		if ip.IsUnspecified() {
			host = "" // "0.0.0.0" and "::" listen on all interfaces like ""
		}
	}
	return host, uint16(port), nil
}

// ParsePortRange parses a relay port range written "min-max" (both
// inclusive, 1..65535, min <= max), or a single port "p" meaning p-p.
// It is the format of the --turn-relay-ports flag.
func ParsePortRange(s string) (lo, hi uint16, err error) {
	loText, hiText, isRange := strings.Cut(s, "-")
	if !isRange {
		hiText = loText
	}
	lo, err = parsePort(loText)
	if err == nil {
		hi, err = parsePort(hiText)
	}
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("%w: port range %q: %v", ErrInvalidConfig, s, err)
	case lo > hi:
		return 0, 0, fmt.Errorf("%w: port range %q: %d is above %d", ErrInvalidConfig, s, lo, hi)
	}
	return lo, hi, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" || len(s) > 5 {
		return 0, fmt.Errorf("%q is not a port", s)
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a port", s)
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%d is outside 1..65535", n)
	}
	return uint16(n), nil
}
