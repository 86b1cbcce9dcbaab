package stunturn

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Observer is a set of optional hooks into the life of allocations, for
// an admin console. A hook is called synchronously by the goroutine that
// saw the event (a socket reader, or pion's allocation goroutine), after
// the server's own lock is released; it may call the Server's methods
// but must not block: hand the event to a bounded queue and drop when it
// is full (Close waits for AllocationDeleted hooks, which run on the
// ending allocation's goroutine). pion holds none of its locks when a
// hook runs. Slices in events must not be modified.
type Observer struct {
	// AllocationCreated: pion granted an Allocate.
	AllocationCreated func(AllocationInfo)
	// AllocationRefreshed: a Refresh with a non-zero lifetime succeeded.
	AllocationRefreshed func(AllocationInfo)
	// AllocationDeleted: the allocation ended (deallocated, expired,
	// its connection closed, ended by EndAllocation, or Close); the
	// info has the final byte and packet counts, and Age is its lifetime.
	AllocationDeleted func(AllocationInfo)
	// PermissionCreated: an allocation got a permission for a new peer
	// IP (by CreatePermission or ChannelBind).
	PermissionCreated func(PermissionEvent)
	// AuthFailed: a TURN request was refused for its credentials (401),
	// or for the absence of its user (403, Config.Presence).
	AuthFailed func(AuthEvent)
	// PeerDenied: the peer filter or a permission limit refused a peer
	// in CreatePermission, ChannelBind, a Send indication or relayed
	// data to one of this host's own ports.
	PeerDenied func(PeerDeniedEvent)
}

// PermissionEvent tells of a new permission.
type PermissionEvent struct {
	Allocation AllocationInfo // after the permission was added
	Peer       netip.Addr
}

// Reasons of an AuthEvent.
const (
	AuthExpired      = "expired"       // the credential's expiry time passed
	AuthBadIntegrity = "bad_integrity" // wrong password or secret
	AuthUnknown      = "unknown"       // not a REST username, or another realm
	AuthAbsent       = "absent"        // Config.Presence says the user is gone
)

// AuthEvent tells of a refused TURN request.
type AuthEvent struct {
	User      string // the <user> part of the username; "" when it has none
	Username  string // the username as the client sent it
	Client    netip.AddrPort
	Transport string // "udp", "tcp" or "tls"
	Method    string // "allocate", "refresh", "create_permission" or "channel_bind"
	Reason    string // AuthExpired, AuthBadIntegrity, AuthUnknown or AuthAbsent
	Time      time.Time
}

// PeerDeniedEvent tells of a refused peer. Reason is a label value of
// noom_turn_peers_denied_total: "private", "loopback", "special_purpose",
// "own_address", "quota", ...
type PeerDeniedEvent struct {
	User   string // the allocation's user; "" if the client holds none
	Client netip.AddrPort
	Peer   netip.Addr
	Reason string
	Time   time.Time
}

// Observe adds hooks; the returned function removes them. Hooks added
// during an event may or may not see it.
func (s *Server) Observe(o Observer) (remove func()) {
	e := &observerEntry{o: o}
	s.obs.update(func(l []*observerEntry) []*observerEntry { return append(l, e) })
	var once sync.Once
	return func() {
		once.Do(func() {
			s.obs.update(func(l []*observerEntry) []*observerEntry {
				return slices.DeleteFunc(l, func(x *observerEntry) bool { return x == e })
			})
		})
	}
}

type observerEntry struct{ o Observer }

// observers is a copy-on-write list: an event reads it with one atomic
// load and no lock.
type observers struct {
	mu   sync.Mutex // serialises updates
	list atomic.Pointer[[]*observerEntry]
}

func (o *observers) update(f func([]*observerEntry) []*observerEntry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var cur []*observerEntry
	if p := o.list.Load(); p != nil {
		cur = slices.Clone(*p)
	}
	next := f(cur)
	o.list.Store(&next)
}

func (o *observers) load() []*observerEntry {
	if p := o.list.Load(); p != nil {
		return *p
	}
	return nil
}

// each calls f for every observer whose hook pick returns non-nil.
func each[E any](s *Server, pick func(*Observer) func(E), e func() E) {
	var ev E
	built := false
	for _, oe := range s.obs.load() {
		if h := pick(&oe.o); h != nil {
			if !built {
				ev, built = e(), true
			}
			h(ev)
		}
	}
}

func (s *Server) observed() bool { return len(s.obs.load()) > 0 }

// notifyAllocation fires hook pick with the current record of key; the
// record is built only if someone listens.
func (s *Server) notifyAllocation(key tupleKey, pick func(*Observer) func(AllocationInfo)) {
	if !s.observed() {
		return
	}
	info, ok := s.st.info(key, time.Now())
	if !ok {
		return
	}
	each(s, pick, func() AllocationInfo { return info })
}

func (s *Server) notifyAuthFailed(e func() AuthEvent) {
	each(s, func(o *Observer) func(AuthEvent) { return o.AuthFailed }, e)
}

func (s *Server) notifyPeerDenied(e func() PeerDeniedEvent) {
	each(s, func(o *Observer) func(PeerDeniedEvent) { return o.PeerDenied }, e)
}

// Counts are how many of each thing the server holds now.
type Counts struct {
	Allocations TransportCounts // by the transport between client and server
	Permissions int             // over all allocations
	Channels    int             // channel bindings over all allocations
	Connections TransportCounts // TCP and TLS connections open (UDP is 0)
}

// TransportCounts count by the transport between client and server.
type TransportCounts struct{ UDP, TCP, TLS int }

// Total is UDP + TCP + TLS.
func (c TransportCounts) Total() int { return c.UDP + c.TCP + c.TLS }

func transportCounts(n [numTransports]int) TransportCounts {
	return TransportCounts{UDP: n[transportUDP], TCP: n[transportTCP], TLS: n[transportTLS]}
}

// Counts returns the numbers of allocations, permissions, channels and
// connections now: what the noom_turn_* gauges report, at O(1) cost.
func (s *Server) Counts() Counts {
	n := s.st.counts()
	return Counts{
		Allocations: transportCounts(n.allocations),
		Permissions: n.permissions,
		Channels:    n.channels,
		Connections: transportCounts(n.connections),
	}
}

// EndAllocation ends the allocation that Allocations reported with this
// transport, client and server address, as if it had expired: its relay
// socket is closed and pion deletes it (AllocationDeleted follows). The
// client is not told; its next Refresh gets 437 and it may allocate
// again if its credentials (and presence) still allow. It reports whether
// such an allocation existed.
func (s *Server) EndAllocation(transport string, client, server netip.AddrPort) bool {
	key := tupleKey{stream: transport != transportUDP.String(), src: client, dst: server}
	a, _ := s.st.lookup(key)
	if a == nil || a.relayConn == nil {
		return false
	}
	a.relayConn.end()
	return true
}
