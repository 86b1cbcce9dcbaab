package signaling

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/noomrtc/noom/signaling/engineio"
)

// This file is a namespace's own bookkeeping of its local sockets and
// rooms, and the Local interface its adapter drives. Rooms live here, not
// in the adapter, so that every adapter gets the room limit, observer
// events, metrics and ack bookkeeping, and so that room sizes and sorted
// listings are cheap (views.go).
//
// A socket's own room (named by its id) is implicit: n.sockets has every
// socket, and n.rooms holds only the rooms the app joins.

// localNode is the Local a namespace gives its adapter.
type localNode struct{ n *Namespace }

func (l localNode) Name() string { return l.n.name }

func (l localNode) Deliver(p *Packet, opts BroadcastOptions) int { return l.n.deliver(p, opts) }

func (l localNode) DeliverWithAck(ctx context.Context, p *Packet, opts BroadcastOptions, ack func(string, []any)) int {
	return l.n.deliverWithAck(ctx, p, opts, ack)
}

func (l localNode) Sockets(opts BroadcastOptions) []SocketInfo {
	var out []SocketInfo
	l.n.each(opts, func(s *Socket) { out = append(out, s.info()) })
	return out
}

func (l localNode) Join(opts BroadcastOptions, rooms []string) {
	l.n.each(opts, func(s *Socket) { l.n.join(s, rooms) })
}

func (l localNode) Leave(opts BroadcastOptions, rooms []string) {
	l.n.each(opts, func(s *Socket) { l.n.leave(s, rooms...) })
}

func (l localNode) Disconnect(opts BroadcastOptions, close bool) {
	l.n.each(opts, func(s *Socket) { s.Disconnect(close) })
}

func (l localNode) AppendRooms(dst []string) []string {
	n := l.n
	n.mu.RLock()
	defer n.mu.RUnlock()
	dst = slices.Grow(dst, n.roomNames.len()+n.sids.len())
	n.roomNames.ascend("", false, func(r string) bool { dst = append(dst, r); return true })
	n.sids.ascend("", false, func(r string) bool { dst = append(dst, r); return true })
	return dst
}

func (l localNode) ServerSideEvent(event string, args []any, ack func([]any)) {
	l.n.onServerSideEvent(event, args, ack)
}

// inLocked reports whether s is in room, its own room included.
func (n *Namespace) inLocked(s *Socket, room string) bool {
	if room == s.id {
		return true
	}
	_, ok := n.rooms[room][s.id]
	return ok
}

// selectLocked appends the selected sockets to dst, each once.
func (n *Namespace) selectLocked(dst []*Socket, opts BroadcastOptions) []*Socket {
	excluded := func(s *Socket) bool {
		for _, e := range opts.Except {
			if n.inLocked(s, e) {
				return true
			}
		}
		return false
	}
	seen := func(s *Socket, before []string) bool {
		for _, r := range before {
			if n.inLocked(s, r) {
				return true
			}
		}
		return false
	}
	if len(opts.Rooms) == 0 {
		for _, s := range n.sockets {
			if !excluded(s) {
				dst = append(dst, s)
			}
		}
		return dst
	}
	for i, r := range opts.Rooms {
		if s := n.sockets[r]; s != nil { // a socket's own room
			if !excluded(s) && !seen(s, opts.Rooms[:i]) {
				dst = append(dst, s)
			}
			continue
		}
		for _, s := range n.rooms[r] {
			if !excluded(s) && !seen(s, opts.Rooms[:i]) {
				dst = append(dst, s)
			}
		}
	}
	return dst
}

var socketSlices = sync.Pool{New: func() any { s := make([]*Socket, 0, 64); return &s }}

// each calls fn for each selected socket, outside the namespace's lock,
// with the sockets selected under one read lock.
func (n *Namespace) each(opts BroadcastOptions, fn func(s *Socket)) {
	buf := socketSlices.Get().(*[]*Socket)
	n.mu.RLock()
	socks := n.selectLocked((*buf)[:0], opts)
	n.mu.RUnlock()
	for _, s := range socks {
		fn(s)
	}
	clear(socks)
	*buf = socks[:0]
	socketSlices.Put(buf)
}

// deliver queues p to the selected sockets: the same frames for each.
func (n *Namespace) deliver(p *Packet, opts BroadcastOptions) int {
	first, more, err := p.frames()
	if err != nil {
		n.srv.log.Warn("signaling: broadcast not encoded", "namespace", n.name, "event", p.Event, "err", err)
		return 0
	}
	d := n.srv.observeDetail(n.name)
	var sids []string
	buf := socketSlices.Get().(*[]*Socket)
	n.mu.RLock()
	socks := n.selectLocked((*buf)[:0], opts)
	n.mu.RUnlock()
	wantSIDs := d.wantSIDs(len(socks))
	reached := 0
	var fo engineio.Fanout
	for _, s := range socks {
		if s.Connected() && fo.Send(s.client.conn, opts.Volatile, len(socks), first, more...) {
			reached++
			if wantSIDs {
				sids = append(sids, s.id)
			}
		}
	}
	clear(socks)
	*buf = socks[:0]
	socketSlices.Put(buf)
	n.sent(p, opts, reached, sids)
	fo.Wait() // backpressure: see engineio.Fanout
	return reached
}

// deliverWithAck queues p with an ack id of this node's to the selected
// sockets. The sockets reached forget the ack when ctx ends: the cleanup
// walks the recipients, not the namespace.
func (n *Namespace) deliverWithAck(ctx context.Context, p *Packet, opts BroadcastOptions, ack func(string, []any)) int {
	id := n.nextAckID()
	first, more, err := p.withID(id)
	if err != nil {
		n.srv.log.Warn("signaling: broadcast not encoded", "namespace", n.name, "event", p.Event, "err", err)
		return 0
	}
	d := n.srv.observeDetail(n.name)
	var sids []string
	n.mu.RLock()
	socks := n.selectLocked(nil, opts)
	n.mu.RUnlock()
	wantSIDs := d.wantSIDs(len(socks))
	reached := socks[:0]
	var fo engineio.Fanout
	defer fo.Wait() // backpressure: see engineio.Fanout
	for _, s := range socks {
		sid := s.id
		if !s.addAck(id, func(args []any, err error) {
			if err == nil {
				ack(sid, args)
			}
		}) {
			continue
		}
		if fo.Send(s.client.conn, opts.Volatile, len(socks), first, more...) {
			reached = append(reached, s)
			if wantSIDs {
				sids = append(sids, s.id)
			}
		} else {
			s.dropAck(id)
		}
	}
	clear(socks[len(reached):])
	if len(reached) > 0 {
		forget := func() {
			for _, s := range reached {
				s.dropAck(id)
			}
		}
		if sc, ok := ctx.Value(ackScopeKey{}).(*ackScope); ok {
			sc.add(forget) // this node's EmitWithAck: forget before it returns
		} else {
			context.AfterFunc(ctx, forget)
		}
	}
	n.sent(p, opts, len(reached), sids)
	return len(reached)
}

// ackScope collects, for an EmitWithAck of this node, what to forget when
// it returns, so that no unanswered ack outlives its waiter.
type ackScope struct {
	mu  sync.Mutex
	fns []func()
}

type ackScopeKey struct{}

func (sc *ackScope) add(f func()) {
	sc.mu.Lock()
	sc.fns = append(sc.fns, f)
	sc.mu.Unlock()
}

func (sc *ackScope) run() {
	sc.mu.Lock()
	fns := sc.fns
	sc.fns = nil
	sc.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// sent counts and reports a broadcast that reached n local sockets.
func (n *Namespace) sent(p *Packet, opts BroadcastOptions, reached int, sids []string) {
	n.srv.metrics.eventOut(reached)
	if !n.srv.observing(func(o *Observer) bool { return o.Event != nil }) {
		return
	}
	e := MessageEvent{Direction: Out, Namespace: n.name, Event: p.Event, Rooms: opts.Rooms, Except: opts.Except,
		Recipients: reached, Bytes: p.Bytes(), SIDs: sids}
	if n.srv.observeDetail(n.name).payload {
		e.Args = p.Args
	}
	n.srv.notifyEvent(e)
}

// join adds s to rooms, all or none: ErrTooManyRooms past the limit,
// ErrClosed once s has left the namespace.
func (n *Namespace) join(s *Socket, rooms []string) error {
	var added []string
	n.mu.Lock()
	if n.sockets[s.id] != s {
		n.mu.Unlock()
		return ErrClosed
	}
	for _, r := range rooms {
		if r != s.id && !slices.Contains(s.rooms, r) && !slices.Contains(added, r) {
			added = append(added, r)
		}
	}
	if 1+len(s.rooms)+len(added) > n.srv.cfg.MaxRoomsPerSocket {
		n.mu.Unlock()
		return ErrTooManyRooms
	}
	for _, r := range added {
		members := n.rooms[r]
		if members == nil {
			members = make(map[string]*Socket, 1)
			n.rooms[r] = members
			n.roomNames.insert(r)
		}
		members[s.id] = s
	}
	s.rooms = append(s.rooms, added...)
	n.mu.Unlock()
	n.notifyRooms(true, s.id, added)
	return nil
}

// leave removes s from rooms; a socket cannot leave its own room.
func (n *Namespace) leave(s *Socket, rooms ...string) {
	var left []string
	n.mu.Lock()
	for _, r := range rooms {
		if i := slices.Index(s.rooms, r); i >= 0 {
			s.rooms = slices.Delete(s.rooms, i, i+1)
			n.dropMemberLocked(r, s.id)
			left = append(left, r)
		}
	}
	n.mu.Unlock()
	n.notifyRooms(false, s.id, left)
}

func (n *Namespace) dropMemberLocked(room, sid string) {
	members := n.rooms[room]
	delete(members, sid)
	if len(members) == 0 {
		delete(n.rooms, room)
		n.roomNames.remove(room)
	}
}

func (n *Namespace) notifyRooms(join bool, sid string, rooms []string) {
	if len(rooms) == 0 || !n.srv.observing(func(o *Observer) bool { return o.Join != nil || o.Leave != nil }) {
		return
	}
	now := time.Now()
	for _, r := range rooms {
		n.srv.notifyRoom(join, RoomEvent{Namespace: n.name, Room: r, SID: sid, Time: now})
	}
}

// OnServerSideEmit registers a handler for events other nodes send with
// ServerSideEmit (Socket.IO's io.on for server-side events). ack answers
// a ServerSideEmitWithAck; only its first call, by the first handler that
// makes one, is sent.
func (n *Namespace) OnServerSideEmit(event string, h EventHandler) {
	n.mu.Lock()
	n.serverSide = append(n.serverSide, namedHandler{event, h})
	n.mu.Unlock()
}

func (n *Namespace) onServerSideEvent(event string, args []any, ack func([]any)) {
	n.mu.RLock()
	handlers := n.serverSide
	n.mu.RUnlock()
	answer := Ack(noAck)
	if ack != nil {
		var once sync.Once
		answer = func(a ...any) { once.Do(func() { ack(a) }) }
	}
	for _, h := range handlers {
		if h.event == event {
			h.fn(args, answer)
		}
	}
}
