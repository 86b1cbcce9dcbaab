package signaling

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// BroadcastOptions select the sockets of a namespace: those in any of Rooms
// (every socket when empty) and in none of Except.
type BroadcastOptions struct {
	Rooms    []string
	Except   []string
	Volatile bool // drop for clients not ready to write at once
	Local    bool // this node only (for adapters spanning several nodes)
}

// Adapter keeps which sockets are in which rooms of one namespace and
// delivers broadcasts, as Socket.IO's adapters do. The in-memory adapter
// serves one node; an adapter for several nodes (Redis) implements the same
// interface, typically by embedding a *MemoryAdapter for the local part and
// forwarding to the other nodes unless opts.Local is set.
//
// Implementations must be safe for concurrent use, must not call back into
// the namespace while holding their own locks, and must never block on a
// client: delivery is Socket-side queueing, which does not block.
type Adapter interface {
	// AddAll adds a socket to rooms, all or none (ErrTooManyRooms).
	AddAll(sid string, rooms []string) error
	// Del removes a socket from a room.
	Del(sid, room string)
	// DelAll removes a socket from every room.
	DelAll(sid string)
	// Broadcast queues an encoded packet to the selected sockets.
	Broadcast(p *Packet, opts BroadcastOptions)
	// BroadcastWithAck does Broadcast and reports how many sockets were
	// sent to (clientCount may be called more than once, to add) and each
	// answer.
	BroadcastWithAck(p *Packet, opts BroadcastOptions, clientCount func(int), ack func(sid string, args []any))
	// SocketRooms lists the rooms of a socket.
	SocketRooms(sid string) []string
	// Rooms is a snapshot of room → socket ids, like adapter.rooms.
	Rooms() map[string][]string
	// SIDs is a snapshot of socket id → rooms, like adapter.sids.
	SIDs() map[string][]string
	// FetchSockets describes the selected sockets.
	FetchSockets(opts BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the selected sockets join rooms.
	AddSockets(opts BroadcastOptions, rooms []string)
	// DelSockets makes the selected sockets leave rooms.
	DelSockets(opts BroadcastOptions, rooms []string)
	// DisconnectSockets disconnects the selected sockets.
	DisconnectSockets(opts BroadcastOptions, close bool)
	// Close releases the adapter's resources.
	Close() error
}

// RoomInfo describes a room of a snapshot.
type RoomInfo struct {
	Name    string
	Members []string
	// Private is true for a socket's own room (named by its id), which
	// every socket is in; public rooms are those the app joins.
	Private bool
}

// MemoryAdapter is the in-memory Adapter of one node.
//
// A socket's private room (named by its id) is implicit: sids has a key for
// every socket, and rooms holds only public rooms, so an idle socket costs
// one map entry rather than two maps. Snapshots show private rooms as
// Socket.IO's adapter.rooms does.
type MemoryAdapter struct {
	nsp *Namespace

	mu sync.RWMutex
	// mu guards the following fields.
	rooms map[string]map[string]struct{} // public room → sids
	sids  map[string]map[string]struct{} // sid → public rooms (nil when none)
}

// NewMemoryAdapter makes the in-memory adapter of nsp.
func NewMemoryAdapter(nsp *Namespace) *MemoryAdapter {
	return &MemoryAdapter{
		nsp:   nsp,
		rooms: make(map[string]map[string]struct{}),
		sids:  make(map[string]map[string]struct{}),
	}
}

// AddAll implements Adapter.
func (a *MemoryAdapter) AddAll(sid string, rooms []string) error {
	a.mu.Lock()
	mine, known := a.sids[sid]
	var added []string
	for _, r := range rooms {
		if r == sid {
			continue
		}
		if _, ok := mine[r]; !ok && !slices.Contains(added, r) {
			added = append(added, r)
		}
	}
	if 1+len(mine)+len(added) > a.nsp.srv.cfg.MaxRoomsPerSocket {
		a.mu.Unlock()
		return ErrTooManyRooms
	}
	if len(added) > 0 && mine == nil {
		mine = make(map[string]struct{}, len(added))
	}
	if !known || len(added) > 0 {
		a.sids[sid] = mine
	}
	for _, r := range added {
		mine[r] = struct{}{}
		members := a.rooms[r]
		if members == nil {
			members = make(map[string]struct{}, 1)
			a.rooms[r] = members
		}
		members[sid] = struct{}{}
	}
	a.mu.Unlock()
	for _, r := range added {
		a.nsp.srv.notifyRoom(true, RoomEvent{Namespace: a.nsp.name, Room: r, SID: sid, Time: time.Now()})
	}
	return nil
}

// Del implements Adapter. A socket cannot leave its private room.
func (a *MemoryAdapter) Del(sid, room string) {
	a.mu.Lock()
	ok := a.delLocked(sid, room)
	a.mu.Unlock()
	if ok {
		a.nsp.srv.notifyRoom(false, RoomEvent{Namespace: a.nsp.name, Room: room, SID: sid, Time: time.Now()})
	}
}

func (a *MemoryAdapter) delLocked(sid, room string) bool {
	mine := a.sids[sid]
	if _, ok := mine[room]; !ok {
		return false
	}
	delete(mine, room)
	if members := a.rooms[room]; members != nil {
		delete(members, sid)
		if len(members) == 0 {
			delete(a.rooms, room)
		}
	}
	return true
}

// DelAll implements Adapter.
func (a *MemoryAdapter) DelAll(sid string) {
	a.mu.Lock()
	var left []string
	for r := range a.sids[sid] {
		left = append(left, r)
	}
	for _, r := range left {
		a.delLocked(sid, r)
	}
	delete(a.sids, sid)
	a.mu.Unlock()
	now := time.Now()
	for _, r := range left {
		a.nsp.srv.notifyRoom(false, RoomEvent{Namespace: a.nsp.name, Room: r, SID: sid, Time: now})
	}
}

// inLocked reports whether sid is in room, private rooms included.
func (a *MemoryAdapter) inLocked(sid, room string) bool {
	if sid == room {
		_, ok := a.sids[sid]
		return ok
	}
	_, ok := a.rooms[room][sid]
	return ok
}

var sidSlices = sync.Pool{New: func() any { s := make([]string, 0, 64); return &s }}

// selectLocked appends the ids of the selected sockets to dst.
func (a *MemoryAdapter) selectLocked(dst []string, opts BroadcastOptions) []string {
	excluded := func(sid string) bool {
		for _, e := range opts.Except {
			if a.inLocked(sid, e) {
				return true
			}
		}
		return false
	}
	if len(opts.Rooms) == 0 {
		for sid := range a.sids {
			if !excluded(sid) {
				dst = append(dst, sid)
			}
		}
		return dst
	}
	seen := func(sid string, before []string) bool {
		for _, prev := range before {
			if a.inLocked(sid, prev) {
				return true
			}
		}
		return false
	}
	for i, r := range opts.Rooms {
		if _, private := a.sids[r]; private {
			if !excluded(r) && !seen(r, opts.Rooms[:i]) {
				dst = append(dst, r)
			}
			continue
		}
		for sid := range a.rooms[r] {
			if !excluded(sid) && !seen(sid, opts.Rooms[:i]) {
				dst = append(dst, sid)
			}
		}
	}
	return dst
}

// inlineRecipients is the largest broadcast whose sender writes to idle
// clients itself (see session.send): a private message, a call room.
const inlineRecipients = 8

// apply calls fn for each selected local socket, outside the adapter's
// lock, with the number of sockets selected.
func (a *MemoryAdapter) apply(opts BroadcastOptions, fn func(s *Socket, total int)) {
	buf := sidSlices.Get().(*[]string)
	a.mu.RLock()
	ids := a.selectLocked((*buf)[:0], opts)
	a.mu.RUnlock()
	socks := make([]*Socket, 0, len(ids))
	a.nsp.mu.RLock()
	for _, id := range ids {
		if s := a.nsp.sockets[id]; s != nil {
			socks = append(socks, s)
		}
	}
	a.nsp.mu.RUnlock()
	clear(ids)
	*buf = ids[:0]
	sidSlices.Put(buf)
	for _, s := range socks {
		fn(s, len(socks))
	}
}

// Broadcast implements Adapter: the packet is already encoded; each
// recipient gets the same bytes.
func (a *MemoryAdapter) Broadcast(p *Packet, opts BroadcastOptions) {
	first, more := p.frames()
	n := 0
	var fo fanout
	a.apply(opts, func(s *Socket, total int) {
		if s.Connected() && s.client.sess.sendFanout(&fo, first, opts.Volatile, total, more...) {
			n++
		}
	})
	a.sent(p, opts, n)
	fo.wait(a.nsp.srv)
}

// sent counts and reports a broadcast that reached n local sockets.
func (a *MemoryAdapter) sent(p *Packet, opts BroadcastOptions, n int) {
	a.nsp.srv.metrics.eventOut(n)
	a.nsp.srv.notifyEvent(MessageEvent{Direction: Out, Namespace: a.nsp.name, Event: p.Event,
		Rooms: opts.Rooms, Except: opts.Except, Recipients: n, Bytes: p.Bytes()})
}

// BroadcastWithAck implements Adapter.
func (a *MemoryAdapter) BroadcastWithAck(p *Packet, opts BroadcastOptions, clientCount func(int), ack func(string, []any)) {
	first, more := p.frames()
	n := 0
	a.apply(opts, func(s *Socket, total int) {
		s.mu.Lock()
		if !s.connected {
			s.mu.Unlock()
			return
		}
		if s.acks == nil {
			s.acks = make(map[int64]func([]any, error))
		}
		sid := s.id
		s.acks[p.ID] = func(args []any, err error) {
			if err == nil {
				ack(sid, args)
			}
		}
		s.mu.Unlock()
		if s.client.sess.sendBroadcast(first, opts.Volatile, total, more...) {
			n++
		} else {
			s.mu.Lock()
			delete(s.acks, p.ID)
			s.mu.Unlock()
		}
	})
	clientCount(n)
	a.sent(p, opts, n)
}

// SocketRooms implements Adapter.
func (a *MemoryAdapter) SocketRooms(sid string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine, ok := a.sids[sid]
	if !ok {
		return nil
	}
	out := make([]string, 0, 1+len(mine))
	out = append(out, sid)
	for r := range mine {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

func sortedKeys(set map[string]struct{}, extra ...string) []string {
	l := make([]string, 0, len(set)+len(extra))
	l = append(l, extra...)
	for v := range set {
		l = append(l, v)
	}
	slices.Sort(l)
	return l
}

// Rooms implements Adapter: every room, private ones included, as
// Socket.IO's adapter.rooms.
func (a *MemoryAdapter) Rooms() map[string][]string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make(map[string][]string, len(a.rooms)+len(a.sids))
	for r, set := range a.rooms {
		out[r] = sortedKeys(set)
	}
	for sid := range a.sids {
		out[sid] = []string{sid}
	}
	return out
}

// SIDs implements Adapter: each socket's rooms, its private room included,
// as Socket.IO's adapter.sids.
func (a *MemoryAdapter) SIDs() map[string][]string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make(map[string][]string, len(a.sids))
	for sid, set := range a.sids {
		out[sid] = sortedKeys(set, sid)
	}
	return out
}

// RoomList lists the rooms, public and private told apart, sorted by name.
func (a *MemoryAdapter) RoomList() []RoomInfo {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]RoomInfo, 0, len(a.rooms)+len(a.sids))
	for name, set := range a.rooms {
		out = append(out, RoomInfo{Name: name, Members: sortedKeys(set)})
	}
	for sid := range a.sids {
		out = append(out, RoomInfo{Name: sid, Members: []string{sid}, Private: true})
	}
	slices.SortFunc(out, func(x, y RoomInfo) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// PublicRoomCount counts the rooms that are not a socket's own room.
func (a *MemoryAdapter) PublicRoomCount() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.rooms)
}

// FetchSockets implements Adapter.
func (a *MemoryAdapter) FetchSockets(opts BroadcastOptions) ([]SocketInfo, error) {
	var out []SocketInfo
	a.apply(opts, func(s *Socket, _ int) {
		out = append(out, SocketInfo{ID: s.id, Namespace: a.nsp.name, Handshake: s.Handshake(), Rooms: s.Rooms(), Data: s.Data()})
	})
	return out, nil
}

// AddSockets implements Adapter. Sockets at their room limit are skipped.
func (a *MemoryAdapter) AddSockets(opts BroadcastOptions, rooms []string) {
	a.apply(opts, func(s *Socket, _ int) { a.AddAll(s.id, rooms) })
}

// DelSockets implements Adapter.
func (a *MemoryAdapter) DelSockets(opts BroadcastOptions, rooms []string) {
	a.apply(opts, func(s *Socket, _ int) {
		for _, r := range rooms {
			a.Del(s.id, r)
		}
	})
}

// DisconnectSockets implements Adapter.
func (a *MemoryAdapter) DisconnectSockets(opts BroadcastOptions, close bool) {
	a.apply(opts, func(s *Socket, _ int) { s.Disconnect(close) })
}

// Close implements Adapter.
func (a *MemoryAdapter) Close() error { return nil }
