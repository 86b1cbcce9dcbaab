// Package adminwire implements the admin console's sources (package
// admin/source) over the public APIs of the hub, TURN and the call
// service. It is wiring, shared by cmd/noom and cmd/noom-load (which
// attaches a console to the hub it measures): no component imports it.
//
// Hub is safe for concurrent use; its observer runs on the hub's
// goroutines and never blocks (the console's sink is non-blocking).
package adminwire

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/admin/source"
	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/stunturn"
)

// Hub implements source.Hub and source.Actions over the hub's public
// API. It keeps a small index of what the hub does not track per socket
// (the call app's nickname, packet and byte counters), fed by its
// observer; address, transport and connect time come from the hub.
type Hub struct {
	hub          *signaling.Server
	showPayloads bool
	sink         atomic.Pointer[func(source.Event)]
	remove       func()

	mu sync.RWMutex
	// mu guards the following field.
	socks map[sockKey]*sockMeta
}

type sockKey struct{ nsp, sid string }

type sockMeta struct {
	name atomic.Pointer[string]

	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
}

// NewHub observes hub; with showPayloads the main namespace's incoming
// payloads are reported too. Close stops observing.
func NewHub(hub *signaling.Server, showPayloads bool) *Hub {
	b := &Hub{hub: hub, showPayloads: showPayloads, socks: map[sockKey]*sockMeta{}}
	b.remove = hub.Observe(signaling.Observer{Connect: b.onConnect, Disconnect: b.onDisconnect,
		Join:  func(e signaling.RoomEvent) { b.onRoom(source.KindJoin, e) },
		Leave: func(e signaling.RoomEvent) { b.onRoom(source.KindLeave, e) }, Event: b.onEvent})
	// The call app's nickname and, with payloads shown, incoming payloads
	// are read from the main namespace's events.
	hub.Of("/").OnConnection(func(s *signaling.Socket) { s.OnAny(func(ev string, args []any) { b.onAny(s, ev, args) }) })
	return b
}

// Close stops observing the hub.
func (b *Hub) Close() { b.remove() }

func (b *Hub) emit(e source.Event) {
	if f := b.sink.Load(); f != nil {
		(*f)(e)
	}
}

func (b *Hub) meta(nsp, sid string) *sockMeta {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.socks[sockKey{nsp, sid}]
}

func (b *Hub) onConnect(e signaling.SocketEvent) {
	b.mu.Lock()
	b.socks[sockKey{e.Namespace, e.SID}] = &sockMeta{}
	b.mu.Unlock()
	b.emit(source.Event{Time: e.Time, Kind: source.KindConnect, Namespace: e.Namespace, SID: e.SID, Transport: e.Transport, Address: e.RemoteAddr})
}

func (b *Hub) onDisconnect(e signaling.SocketEvent) {
	b.mu.Lock()
	delete(b.socks, sockKey{e.Namespace, e.SID})
	b.mu.Unlock()
	b.emit(source.Event{Time: e.Time, Kind: source.KindDisconnect, Namespace: e.Namespace, SID: e.SID, Address: e.RemoteAddr, Reason: e.Reason})
}

func (b *Hub) onRoom(k source.EventKind, e signaling.RoomEvent) {
	b.emit(source.Event{Time: e.Time, Kind: k, Namespace: e.Namespace, SID: e.SID, Rooms: []string{e.Room}})
}

func (b *Hub) onEvent(e signaling.MessageEvent) {
	if e.Direction == signaling.In {
		if m := b.meta(e.Namespace, e.SID); m != nil {
			m.packetsIn.Add(1)
			m.bytesIn.Add(uint64(e.Bytes))
		}
		if b.showPayloads && e.Namespace == "/" {
			return // onAny reports it, with its payload
		}
		b.emit(source.Event{Time: time.Now(), Kind: source.KindIn, Namespace: e.Namespace, SID: e.SID, Event: e.Event, Bytes: e.Bytes})
		return
	}
	ev := source.Event{Time: time.Now(), Kind: source.KindOut, Namespace: e.Namespace, SID: e.SID, Event: e.Event,
		Recipients: e.Recipients, Bytes: e.Bytes}
	if len(e.Rooms) == 1 && len(e.Except) == 0 && b.hub.Of(e.Namespace).Socket(e.Rooms[0]) != nil {
		ev.SID = e.Rooms[0] // to one socket through its own room
	} else if len(e.Rooms) > 0 {
		ev.Rooms = slices.Clone(e.Rooms)
	}
	if ev.SID != "" {
		if m := b.meta(e.Namespace, ev.SID); m != nil {
			m.packetsOut.Add(1)
			m.bytesOut.Add(uint64(e.Bytes))
		}
	}
	b.emit(ev)
}

// onAny runs on the reading goroutine of a main-namespace socket.
func (b *Hub) onAny(s *signaling.Socket, event string, args []any) {
	if event == "join" && len(args) > 0 {
		if raw, ok := args[0].(json.RawMessage); ok {
			var req struct{ Name string }
			if json.Unmarshal(raw, &req) == nil && req.Name != "" {
				if m := b.meta("/", s.ID()); m != nil {
					m.name.Store(&req.Name)
				}
			}
		}
	}
	if !b.showPayloads {
		return
	}
	payload, _ := json.Marshal(args)
	b.emit(source.Event{Time: time.Now(), Kind: source.KindIn, Namespace: "/", SID: s.ID(), Event: event,
		Bytes: len(payload), Payload: string(payload)})
}

// Observe implements source.Hub: one sink, the console.
func (b *Hub) Observe(f func(source.Event)) func() {
	b.sink.Store(&f)
	return func() { b.sink.Store(nil) }
}

// Stats implements source.Hub from the hub's own counts: atomics and
// O(namespaces).
func (b *Hub) Stats() source.HubStats {
	st := b.hub.Stats()
	out := source.HubStats{
		Polling: st.Polling, WebSocket: st.WebSocket, Namespaces: len(st.Namespaces),
		EventsIn: st.PacketsIn, EventsOut: st.PacketsOut, BytesIn: st.BytesIn, BytesOut: st.BytesOut,
		SlowConsumers: st.SlowConsumers,
	}
	for _, n := range st.Namespaces {
		out.Sockets += n.Sockets
		out.PublicRooms += n.Rooms
	}
	return out
}

// namespace returns a namespace, never creating one.
func (b *Hub) namespace(name string) *signaling.Namespace { return b.hub.Lookup(name) }

// Namespaces implements source.Hub.
func (b *Hub) Namespaces() []source.Namespace {
	var out []source.Namespace
	for _, n := range b.hub.Namespaces() {
		if n.Name() == "" {
			continue // a parent of dynamic namespaces
		}
		out = append(out, source.Namespace{Name: n.Name(), Sockets: n.Len()})
	}
	return out
}

// eachSocket calls fn for every socket of n selected by q, page by page:
// no lock is held for more than one page.
func eachSocket(n *signaling.Namespace, q signaling.SocketQuery, fn func(signaling.SocketView)) {
	q.Limit = signaling.MaxPageSize
	for {
		p := n.ListSockets(q)
		for _, v := range p.Items {
			fn(v)
		}
		if p.Next == "" {
			return
		}
		q.Cursor = p.Next
	}
}

// Rooms implements source.Hub: the public rooms page by page, then the
// sockets' own rooms.
func (b *Hub) Rooms(nsp string) ([]source.Room, bool) {
	n := b.namespace(nsp)
	if n == nil {
		return nil, false
	}
	var out []source.Room
	q := signaling.RoomQuery{Limit: signaling.MaxPageSize}
	for {
		p := n.ListRooms(q)
		for _, r := range p.Items {
			out = append(out, source.Room{Name: r.Name, Size: r.Size})
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	eachSocket(n, signaling.SocketQuery{}, func(v signaling.SocketView) {
		out = append(out, source.Room{Name: v.ID, Size: 1, Private: true})
	})
	return out, true
}

// RoomPage implements source.Pager with one page of the hub's sorted
// listing.
func (b *Hub) RoomPage(nsp string, bySize bool, cursor string, limit int) (source.Page[source.Room], bool) {
	n := b.namespace(nsp)
	if n == nil {
		return source.Page[source.Room]{}, false
	}
	q := signaling.RoomQuery{Cursor: cursor, Limit: limit}
	if bySize {
		q.Sort = signaling.RoomsBySize
	}
	p := n.ListRooms(q)
	out := source.Page[source.Room]{Items: make([]source.Room, len(p.Items)), Next: p.Next, Total: p.Total}
	for i, r := range p.Items {
		out.Items[i] = source.Room{Name: r.Name, Size: r.Size}
	}
	return out, true
}

// SocketPage implements source.Pager with one page of the hub's sorted
// listing.
func (b *Hub) SocketPage(nsp, room, cursor string, limit int) (source.Page[source.Socket], bool) {
	n := b.namespace(nsp)
	if n == nil {
		return source.Page[source.Socket]{}, false
	}
	p := n.ListSockets(signaling.SocketQuery{Room: room, Cursor: cursor, Limit: limit})
	out := source.Page[source.Socket]{Items: make([]source.Socket, 0, len(p.Items)), Next: p.Next, Total: p.Total}
	for _, v := range p.Items {
		out.Items = append(out.Items, b.listed(n, v))
	}
	return out, true
}

// SearchSockets implements source.Pager: one pass over the hub's views in
// id order, keeping the first limit+1 matches after the cursor.
func (b *Hub) SearchSockets(nsp, q, room, cursor string, limit int) (source.Page[source.Socket], bool) {
	n := b.namespace(nsp)
	if n == nil {
		return source.Page[source.Socket]{}, false
	}
	lq := strings.ToLower(q)
	var out source.Page[source.Socket]
	var page []signaling.SocketView
	eachSocket(n, signaling.SocketQuery{Room: room}, func(v signaling.SocketView) {
		idMatch := len(v.ID) >= len(q) && strings.EqualFold(v.ID[:len(q)], q)
		if !idMatch && !strings.HasPrefix(v.RemoteAddr, q) && !b.nameContains(nsp, v.ID, lq) {
			return
		}
		out.Total++
		if (cursor != "" && v.ID <= cursor) || len(page) > limit {
			return
		}
		page = append(page, v)
	})
	if len(page) > limit {
		page = page[:limit]
		out.Next = page[limit-1].ID
	}
	out.Items = make([]source.Socket, 0, len(page))
	for _, v := range page {
		out.Items = append(out.Items, b.listed(n, v))
	}
	return out, true
}

// nameContains reports whether the socket's name (the call app's
// nickname), lowered, contains lq.
func (b *Hub) nameContains(nsp, sid, lq string) bool {
	if m := b.meta(nsp, sid); m != nil {
		if p := m.name.Load(); p != nil {
			return strings.Contains(strings.ToLower(*p), lq)
		}
	}
	return false
}

// RoomMembers implements source.Hub.
func (b *Hub) RoomMembers(nsp, room string) ([]string, bool) {
	n := b.namespace(nsp)
	if n == nil || n.RoomSize(room) == 0 {
		return nil, false
	}
	var ids []string
	eachSocket(n, signaling.SocketQuery{Room: room}, func(v signaling.SocketView) { ids = append(ids, v.ID) })
	return ids, len(ids) > 0
}

// listed is a socket of a list: its view, with its rooms read now.
func (b *Hub) listed(n *signaling.Namespace, v signaling.SocketView) source.Socket {
	var rooms []string
	if s := n.Socket(v.ID); s != nil {
		rooms = s.Rooms()
	}
	return b.socketOf(n, v, rooms)
}

func (b *Hub) socketOf(n *signaling.Namespace, v signaling.SocketView, rooms []string) source.Socket {
	s := source.Socket{Namespace: n.Name(), SID: v.ID, Address: v.RemoteAddr, Transport: v.Transport, ConnectedAt: v.Connected,
		Rooms: slices.DeleteFunc(rooms, func(r string) bool { return r == v.ID })}
	if s.Rooms == nil {
		s.Rooms = []string{}
	}
	if m := b.meta(n.Name(), v.ID); m != nil {
		if p := m.name.Load(); p != nil {
			s.Name = *p
		}
		s.PacketsIn, s.BytesIn, s.PacketsOut, s.BytesOut = m.packetsIn.Load(), m.bytesIn.Load(), m.packetsOut.Load(), m.bytesOut.Load()
	}
	return s
}

// Sockets implements source.Hub, page by page.
func (b *Hub) Sockets(nsp string) ([]source.Socket, bool) {
	n := b.namespace(nsp)
	if n == nil {
		return nil, false
	}
	var out []source.Socket
	eachSocket(n, signaling.SocketQuery{}, func(v signaling.SocketView) {
		out = append(out, b.listed(n, v))
	})
	return out, true
}

// Socket implements source.Hub.
func (b *Hub) Socket(nsp, sid string) (source.SocketDetail, bool) {
	n := b.namespace(nsp)
	if n == nil {
		return source.SocketDetail{}, false
	}
	s := n.Socket(sid)
	if s == nil {
		return source.SocketDetail{}, false
	}
	hs := s.Handshake()
	return source.SocketDetail{Socket: b.socketOf(n, s.View(), s.Rooms()), Headers: hs.Headers, Query: hs.Query,
		Auth: string(hs.Auth), Host: hs.Host, Secure: hs.Secure}, true
}

func (b *Hub) liveSocket(nsp, sid string) (*signaling.Socket, error) {
	if n := b.namespace(nsp); n != nil {
		if s := n.Socket(sid); s != nil {
			return s, nil
		}
	}
	return nil, &source.NotFound{What: "socket " + sid + " of " + nsp}
}

// DisconnectSocket implements source.Actions.
func (b *Hub) DisconnectSocket(nsp, sid string, client bool) error {
	s, err := b.liveSocket(nsp, sid)
	if err != nil {
		return err
	}
	s.Disconnect(client)
	return nil
}

// JoinRoom implements source.Actions.
func (b *Hub) JoinRoom(nsp, sid, room string) error {
	s, err := b.liveSocket(nsp, sid)
	if err != nil {
		return err
	}
	return s.Join(room)
}

// LeaveRoom implements source.Actions.
func (b *Hub) LeaveRoom(nsp, sid, room string) error {
	s, err := b.liveSocket(nsp, sid)
	if err != nil {
		return err
	}
	s.Leave(room)
	return nil
}

func (b *Hub) room(nsp, room string) (*signaling.Namespace, error) {
	if _, ok := b.RoomMembers(nsp, room); !ok {
		return nil, &source.NotFound{What: "room " + room + " of " + nsp}
	}
	return b.namespace(nsp), nil
}

// ClearRoom implements source.Actions.
func (b *Hub) ClearRoom(nsp, room string) error {
	n, err := b.room(nsp, room)
	if err != nil {
		return err
	}
	n.In(room).SocketsLeave(room)
	return nil
}

// DisconnectRoom implements source.Actions.
func (b *Hub) DisconnectRoom(nsp, room string) error {
	n, err := b.room(nsp, room)
	if err != nil {
		return err
	}
	n.In(room).DisconnectSockets(false)
	return nil
}

// TURN implements source.TURN.
type TURN struct{ S *stunturn.Server }

func (t TURN) Allocations() []source.Allocation {
	in := t.S.Allocations()
	out := make([]source.Allocation, len(in))
	for i, a := range in {
		perms := make([]string, len(a.Permissions))
		for j, p := range a.Permissions {
			perms[j] = p.String()
		}
		out[i] = source.Allocation{ID: allocationID(a.Transport, a.Client, a.Server), User: a.User, Transport: a.Transport, Client: a.Client.String(), Relay: a.Relay.String(),
			Created: a.Created, BytesToPeer: a.BytesToPeer, BytesToClient: a.BytesToClient,
			PacketsToPeer: a.PacketsToPeer, PacketsToClient: a.PacketsToClient, Permissions: perms, Channels: a.Channels}
	}
	return out
}

// allocationID names an allocation by its five-tuple: transport, client
// and server address.
func allocationID(transport string, client, server netip.AddrPort) string {
	return transport + "," + client.String() + "," + server.String()
}

// EndAllocation implements source.TURNActions.
func (t TURN) EndAllocation(id string) error {
	gone := &source.NotFound{What: "TURN allocation " + id}
	parts := strings.Split(id, ",")
	if len(parts) != 3 {
		return gone
	}
	client, err1 := netip.ParseAddrPort(parts[1])
	server, err2 := netip.ParseAddrPort(parts[2])
	if err1 != nil || err2 != nil || !t.S.EndAllocation(parts[0], client, server) {
		return gone
	}
	return nil
}

// Calls implements source.Calls: each report with the room the two
// peers share and their nicknames.
type Calls struct {
	Svc *call.Service
	Hub *Hub
}

func (c Calls) Reports() []source.CallReport {
	stats := c.Svc.Stats()
	out := make([]source.CallReport, len(stats))
	main := c.Hub.hub.Of("/")
	name := func(sid string) string {
		if m := c.Hub.meta("/", sid); m != nil {
			if p := m.name.Load(); p != nil {
				return *p
			}
		}
		return ""
	}
	for i, st := range stats {
		r := source.CallReport{SID: st.SID, Name: name(st.SID), Peer: st.Peer, PeerName: name(st.Peer), State: st.State,
			CandidateType: st.CandidateType, Protocol: st.Protocol, RTTMs: st.RTTMs, BytesSent: st.BytesSent,
			BytesReceived: st.BytesReceived, Time: st.Time}
		if a, b := main.Socket(st.SID), main.Socket(st.Peer); a != nil && b != nil {
			peerRooms := b.Rooms()
			for _, room := range a.Rooms() {
				if room != st.SID && slices.Contains(peerRooms, room) {
					r.Room = room
					break
				}
			}
		}
		out[i] = r
	}
	return out
}

// Nodes is what the cluster adapter tells of its nodes
// (*redisadapter.Cluster).
type Nodes interface {
	Up() bool
	UID() string
	Nodes() []string
}

// Cluster implements source.Cluster over the hub's cluster-wide
// operations (FetchSockets through the adapter) and the adapter's nodes.
type Cluster struct {
	Hub   *signaling.Server
	Nodes Nodes
}

// ClusterNodes implements source.Cluster.
func (c Cluster) ClusterNodes() source.ClusterNodes {
	return source.ClusterNodes{Up: c.Nodes.Up(), Self: c.Nodes.UID(), Nodes: c.Nodes.Nodes()}
}

// ClusterSockets implements source.Cluster: one request to every node.
func (c Cluster) ClusterSockets(ctx context.Context, nsp, room string) ([]source.ClusterSocket, error) {
	n := c.Hub.Lookup(nsp)
	if n == nil {
		return nil, &source.NotFound{What: "namespace " + nsp}
	}
	var socks []*signaling.RemoteSocket
	var err error
	if room == "" {
		socks, err = n.FetchSockets(ctx)
	} else {
		socks, err = n.In(room).FetchSockets(ctx)
	}
	out := make([]source.ClusterSocket, len(socks))
	for i, s := range socks {
		out[i] = source.ClusterSocket{SID: s.ID, Address: s.Handshake.RemoteAddr,
			Rooms: slices.DeleteFunc(slices.Clone(s.Rooms), func(r string) bool { return r == s.ID })}
	}
	return out, err
}
