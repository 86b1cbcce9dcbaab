package stunturn

import (
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// tupleKey names the 5-tuple of an allocation: the client's address, the
// server's address it reached, and whether the two speak over a stream
// (TCP or TLS) or UDP. It is the key of pion's allocation managers too.
type tupleKey struct {
	stream   bool
	src, dst netip.AddrPort
}

// srcKey is what pion's QuotaHandler knows of a request: the client's
// address.
type srcKey struct {
	stream bool
	src    netip.AddrPort
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	case *net.TCPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

func keyOf(src, dst net.Addr) tupleKey {
	_, stream := src.(*net.TCPAddr)
	return tupleKey{stream: stream, src: addrPort(src), dst: addrPort(dst)}
}

func srcKeyOf(src net.Addr) srcKey {
	_, stream := src.(*net.TCPAddr)
	return srcKey{stream: stream, src: addrPort(src)}
}

// ipKeyOf is the key of the per-IP limits for a client address: the IPv4
// address, or the /64 of an IPv6 address (what one subscriber usually
// holds, so that an IPv6 client cannot get around a limit by changing its
// interface identifier).
func ipKeyOf(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

// allocation is our record of one pion allocation, built from pion's
// lifecycle events.
type allocation struct {
	// Set at creation, then read-only.
	key       tupleKey
	transport transport
	username  string       // the REST username
	user      string       // its <user> part: the quota key
	ip        netip.Prefix // ipKeyOf the client: the key of the per-IP quota
	relay     netip.AddrPort
	created   time.Time
	relayConn *relayConn  // nil if the relay socket was not ours (never in practice)
	conn      *streamConn // the TCP or TLS connection carrying it, nil for UDP

	// perms is the set of permitted peer IPs, replaced (never mutated)
	// under state.mu, read lock-free by the relay socket for every datagram.
	perms atomic.Pointer[map[netip.Addr]struct{}]

	// Guarded by state.mu.
	channels map[uint16]struct{}
}

func (a *allocation) permitted(ip netip.Addr) bool {
	p := a.perms.Load()
	if p == nil {
		return false
	}
	_, ok := (*p)[ip]
	return ok
}

// state is the server's picture of what pion holds, plus the quota
// accounts and the open stream connections.
//
// mu guards every field below it. pion calls the event methods from its
// own goroutines, sometimes while holding its own locks; so nothing here
// calls into pion, and no method blocks on anything but mu.
type state struct {
	userQuota, totalQuota, ipQuota int // 0: no limit
	maxConns, maxConnsPerIP        int // 0: no limit

	mu          sync.Mutex
	allocs      map[tupleKey]*allocation
	byTransport [numTransports]int
	permissions int
	channels    int
	perUser     map[string]int       // live allocations plus reservations, by user
	perIP       map[netip.Prefix]int // the same, by ipKeyOf the client
	total       int                  // the same, over all users
	reserved    map[srcKey][]string  // QuotaHandler said yes, creation not seen yet
	conns       map[tupleKey]*streamConn
	connCount   [numTransports]int
	connsPerIP  map[netip.Prefix]int // TCP and TLS connections by ipKeyOf the client
	closed      bool                 // Close began: no new connections
	changed     chan struct{}        // one slot: an allocation or connection went away
}

// newState returns the state of a server with the limits of st.
func newState(st *settings) *state {
	return &state{
		userQuota:     st.UserQuota,
		totalQuota:    st.TotalQuota,
		ipQuota:       st.IPQuota,
		maxConns:      st.MaxConnections,
		maxConnsPerIP: st.MaxTCPConnsPerIP,
		allocs:        make(map[tupleKey]*allocation),
		perUser:       make(map[string]int),
		perIP:         make(map[netip.Prefix]int),
		connsPerIP:    make(map[netip.Prefix]int),
		reserved:      make(map[srcKey][]string),
		conns:         make(map[tupleKey]*streamConn),
		changed:       make(chan struct{}, 1),
	}
}

func (st *state) notify() {
	select {
	case st.changed <- struct{}{}:
	default:
	}
}

// reserve takes a quota slot for user before pion creates an allocation
// for src. The slot becomes the allocation's (allocationCreated) or is
// given back (settle) once the request has been handled.
func (st *state) reserve(src srcKey, user string) bool {
	ip := ipKeyOf(src.src.Addr())
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.totalQuota > 0 && st.total >= st.totalQuota {
		return false
	}
	if st.userQuota > 0 && st.perUser[user] >= st.userQuota {
		return false
	}
	if st.ipQuota > 0 && st.perIP[ip] >= st.ipQuota {
		return false
	}
	st.addSlot(user, ip, 1)
	st.reserved[src] = append(st.reserved[src], user)
	return true
}

// settle gives back the slot reserved for src if no allocation took it.
func (st *state) settle(src srcKey) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if user, ok := st.popReservation(src); ok {
		st.addSlot(user, ipKeyOf(src.src.Addr()), -1)
	}
}

func (st *state) popReservation(src srcKey) (string, bool) {
	users := st.reserved[src]
	if len(users) == 0 {
		return "", false
	}
	user := users[len(users)-1]
	if len(users) == 1 {
		delete(st.reserved, src)
	} else {
		st.reserved[src] = users[:len(users)-1]
	}
	return user, true
}

// addSlot adds d to the quota accounts of user at ip.
func (st *state) addSlot(user string, ip netip.Prefix, d int) {
	st.total += d
	addCount(st.perUser, user, d)
	addCount(st.perIP, ip, d)
}

// addCount adds d to m[k], deleting the entry at zero.
func addCount[K comparable](m map[K]int, k K, d int) {
	if n := m[k] + d; n > 0 {
		m[k] = n
	} else {
		delete(m, k)
	}
}

// allocationCreated records a new allocation; a is filled in but for its
// permission set.
func (st *state) allocationCreated(a *allocation) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if old := st.allocs[a.key]; old != nil { // cannot happen: pion refuses a busy 5-tuple
		st.dropLocked(old)
	}
	// The reservation of this request becomes the allocation's slot. The
	// reservation found may be another request's from the same address
	// (TCP and TLS at once); accounts stay right either way.
	a.ip = ipKeyOf(a.key.src.Addr())
	if user, ok := st.popReservation(srcKey{stream: a.key.stream, src: a.key.src}); ok {
		st.addSlot(user, a.ip, -1)
	}
	st.addSlot(a.user, a.ip, 1)
	empty := map[netip.Addr]struct{}{}
	a.perms.Store(&empty)
	a.channels = make(map[uint16]struct{})
	a.transport = transportUDP
	if c := st.conns[a.key]; c != nil {
		a.conn, a.transport = c, c.tr
		c.setAllocated(true)
	}
	st.allocs[a.key] = a
	st.byTransport[a.transport]++
}

// allocationDeleted forgets the allocation of key and returns it, or nil.
// allocationDeleted forgets key's allocation and returns it; ended, if
// set, runs under the lock first, so that whoever waits for the state to
// empty (Close) also sees what ended records (the lifetime metric).
func (st *state) allocationDeleted(key tupleKey, ended func(*allocation)) *allocation {
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.allocs[key]
	if a == nil {
		return nil
	}
	if ended != nil {
		ended(a)
	}
	st.dropLocked(a)
	return a
}

func (st *state) dropLocked(a *allocation) {
	delete(st.allocs, a.key)
	st.byTransport[a.transport]--
	st.permissions -= len(*a.perms.Load())
	st.channels -= len(a.channels)
	st.addSlot(a.user, a.ip, -1)
	if a.conn != nil {
		a.conn.setAllocated(false)
	}
	st.notify()
}

// permissionCreated adds peer to the permissions of key's allocation and
// reports whether it is new there.
func (st *state) permissionCreated(key tupleKey, peer netip.Addr) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.allocs[key]
	if a == nil {
		return false
	}
	old := *a.perms.Load()
	if _, ok := old[peer]; ok {
		return false
	}
	next := maps.Clone(old)
	next[peer] = struct{}{}
	a.perms.Store(&next)
	st.permissions++
	return true
}

// permissionDeleted may be called twice for one permission (pion's timer
// and its Close can race); the set makes it count once.
func (st *state) permissionDeleted(key tupleKey, peer netip.Addr) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.allocs[key]
	if a == nil {
		return
	}
	old := *a.perms.Load()
	if _, ok := old[peer]; !ok {
		return
	}
	next := maps.Clone(old)
	delete(next, peer)
	a.perms.Store(&next)
	st.permissions--
}

func (st *state) channelCreated(key tupleKey, number uint16) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if a := st.allocs[key]; a != nil {
		if _, ok := a.channels[number]; !ok {
			a.channels[number] = struct{}{}
			st.channels++
		}
	}
}

func (st *state) channelDeleted(key tupleKey, number uint16) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if a := st.allocs[key]; a != nil {
		if _, ok := a.channels[number]; ok {
			delete(a.channels, number)
			st.channels--
		}
	}
}

// lookup returns the allocation of key, or nil.
func (st *state) lookup(key tupleKey) (a *allocation, channels map[uint16]struct{}) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a = st.allocs[key]
	if a == nil {
		return nil, nil
	}
	return a, maps.Clone(a.channels)
}

// addConn registers a new TCP or TLS connection, or says which limit
// refuses it (connDropLimit for MaxConnections and for a closing server,
// connDropIPLimit for MaxTCPConnsPerIP).
func (st *state) addConn(c *streamConn) (ok bool, refused connDrop) {
	ip := ipKeyOf(c.key.src.Addr())
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.closed || (st.maxConns > 0 && len(st.conns) >= st.maxConns):
		return false, connDropLimit
	case st.maxConnsPerIP > 0 && st.connsPerIP[ip] >= st.maxConnsPerIP:
		return false, connDropIPLimit
	}
	st.conns[c.key] = c
	st.connCount[c.tr]++
	addCount(st.connsPerIP, ip, 1)
	return true, 0
}

func (st *state) removeConn(c *streamConn) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.conns[c.key] == c {
		delete(st.conns, c.key)
		st.connCount[c.tr]--
		addCount(st.connsPerIP, ipKeyOf(c.key.src.Addr()), -1)
		st.notify()
	}
}

// closeConns refuses connections from now on.
func (st *state) closeConns() {
	st.mu.Lock()
	st.closed = true
	st.mu.Unlock()
}

func (st *state) openConns() []*streamConn {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Collect(maps.Values(st.conns))
}

// counts implements gaugeSource.
func (st *state) counts() stateCounts {
	st.mu.Lock()
	defer st.mu.Unlock()
	return stateCounts{
		allocations: st.byTransport,
		permissions: st.permissions,
		channels:    st.channels,
		connections: st.connCount,
	}
}

// waitEmpty waits until no allocation and no stream connection is left, or
// until the deadline; it reports whether they are all gone.
func (st *state) waitEmpty(deadline time.Time) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		st.mu.Lock()
		empty := len(st.allocs) == 0 && len(st.conns) == 0
		st.mu.Unlock()
		if empty {
			return true
		}
		select {
		case <-st.changed:
		case <-t.C:
			return false
		}
	}
}

// infos copies every allocation's record into plain values.
func (st *state) infos(now time.Time) []AllocationInfo {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]AllocationInfo, 0, len(st.allocs))
	for _, a := range st.allocs {
		out = append(out, a.infoLocked(now))
	}
	return out
}

// info copies one allocation's record, or reports that it is gone.
func (st *state) info(key tupleKey, now time.Time) (AllocationInfo, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.allocs[key]
	if a == nil {
		return AllocationInfo{}, false
	}
	return a.infoLocked(now), true
}

// infoLocked copies a's record into plain values. The caller holds
// state.mu, or a has been deleted (its channels no longer change).
func (a *allocation) infoLocked(now time.Time) AllocationInfo {
	info := AllocationInfo{
		User:        a.user,
		Username:    a.username,
		Transport:   a.transport.String(),
		Client:      a.key.src,
		Server:      a.key.dst,
		Relay:       a.relay,
		Created:     a.created,
		Age:         now.Sub(a.created),
		Permissions: slices.SortedFunc(maps.Keys(*a.perms.Load()), netip.Addr.Compare),
		Channels:    len(a.channels),
	}
	if rc := a.relayConn; rc != nil {
		info.BytesToPeer = rc.bytes[dirToPeer].Load()
		info.BytesToClient = rc.bytes[dirToClient].Load()
		info.PacketsToPeer = rc.packets[dirToPeer].Load()
		info.PacketsToClient = rc.packets[dirToClient].Load()
	}
	return info
}

// users lists the users that hold allocations now.
func (st *state) users() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]string, 0, len(st.perUser))
	for _, a := range st.allocs {
		out = append(out, a.user)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
