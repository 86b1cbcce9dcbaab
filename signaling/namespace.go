package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/noomrtc/noom/signaling/socketio"
)

// Middleware runs when a socket connects to a namespace, before the
// connection handlers. A non-nil error refuses the connection: the client
// gets a CONNECT_ERROR with the error's message, and with Data when the
// error is a *ConnectError.
type Middleware func(s *Socket) error

// Namespace is a Socket.IO namespace: its sockets, middlewares, handlers
// and adapter. Its methods are safe for concurrent use.
type Namespace struct {
	name    string
	srv     *Server
	adapter Adapter
	ackIDs  atomic.Int64
	parent  *Namespace  // for namespaces made by a matcher
	noBin   atomic.Bool // RefuseBinary

	mu sync.RWMutex
	// mu guards the following fields, and each socket's rooms.
	sockets     map[string]*Socket
	sids        sortedSet                     // the keys of sockets, in order
	rooms       map[string]map[string]*Socket // public room → its sockets by id
	roomNames   sortedSet                     // the keys of rooms, in order
	addrs       sortedSet                     // remote address, NUL, id: for address search
	middlewares []Middleware
	onConn      []func(*Socket)
	serverSide  []namedHandler // OnServerSideEmit handlers
	children    []*Namespace   // for a parent of dynamic namespaces
}

// RefuseBinary makes the namespace refuse packets with binary attachments:
// a client that announces one is disconnected (reason "parse error")
// before any attachment is kept. For protocols that never send binary
// (the call protocol), it takes away a way to pin memory.
func (n *Namespace) RefuseBinary() { n.noBin.Store(true) }

func (n *Namespace) refusesBinary() bool {
	return n.noBin.Load() || (n.parent != nil && n.parent.noBin.Load())
}

func newNamespace(srv *Server, name string, parent *Namespace) *Namespace {
	n := &Namespace{name: name, srv: srv, parent: parent,
		sockets: make(map[string]*Socket), rooms: make(map[string]map[string]*Socket)}
	n.ackIDs.Store(-1)
	n.adapter = srv.cfg.Adapter(localNode{n})
	return n
}

// Of returns the namespace with that name, creating it if needed. Names
// start with "/"; one without is given one.
func (srv *Server) Of(name string) *Namespace {
	if n := srv.Lookup(name); n != nil {
		return n
	}
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if n := srv.nsps[name]; n != nil {
		return n
	}
	n := newNamespace(srv, name, nil)
	srv.nsps[name] = n
	return n
}

// OfFunc registers dynamic namespaces: when a client connects to a name no
// static namespace has and match accepts it (given the name and the
// CONNECT auth payload), a child namespace is created. The returned parent
// takes middlewares and connection handlers for all its children, and its
// broadcasts reach every child.
func (srv *Server) OfFunc(match func(name string, auth json.RawMessage) bool) *Namespace {
	parent := newNamespace(srv, "", nil)
	srv.mu.Lock()
	srv.dynamic = append(srv.dynamic, dynamicNamespace{match: match, parent: parent})
	srv.mu.Unlock()
	return parent
}

func (srv *Server) namespaceFor(name string, auth json.RawMessage) *Namespace {
	srv.mu.RLock()
	n := srv.nsps[name]
	dyn := srv.dynamic
	srv.mu.RUnlock()
	if n != nil {
		return n
	}
	for _, d := range dyn {
		if !d.match(name, auth) {
			continue
		}
		srv.mu.Lock()
		if n = srv.nsps[name]; n == nil {
			n = newNamespace(srv, name, d.parent)
			srv.nsps[name] = n
			d.parent.mu.Lock()
			d.parent.children = append(d.parent.children, n)
			d.parent.mu.Unlock()
		}
		srv.mu.Unlock()
		return n
	}
	return nil
}

func (srv *Server) namespaces() []*Namespace {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	out := make([]*Namespace, 0, len(srv.nsps))
	for _, n := range srv.nsps {
		out = append(out, n)
	}
	return out
}

// Namespaces lists the namespaces that exist, static and dynamic, sorted by
// name. It never creates one.
func (srv *Server) Namespaces() []*Namespace {
	out := srv.namespaces()
	slices.SortFunc(out, func(a, b *Namespace) int { return strings.Compare(a.name, b.name) })
	return out
}

// Lookup returns the namespace with that name, or nil: unlike Of, it never
// creates one. A name without a leading "/" is given one.
func (srv *Server) Lookup(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.nsps[name]
}

func (srv *Server) closeAdapters() {
	for _, n := range srv.namespaces() {
		n.adapter.Close()
	}
}

// Name is the namespace's name, such as "/".
func (n *Namespace) Name() string { return n.name }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter }

// Use adds a connection middleware.
func (n *Namespace) Use(m Middleware) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, m)
	n.mu.Unlock()
}

// OnConnection registers a handler called for every socket that connects,
// on that socket's reading goroutine: register the socket's handlers there.
func (n *Namespace) OnConnection(h func(*Socket)) {
	n.mu.Lock()
	n.onConn = append(n.onConn, h)
	n.mu.Unlock()
}

// Socket returns the local socket with that id, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// Len is the number of sockets connected to this node's namespace.
func (n *Namespace) Len() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

func (n *Namespace) nextAckID() int64 { return n.ackIDs.Add(1) }

func (n *Namespace) runMiddlewares(s *Socket) error {
	var mws []Middleware
	if n.parent != nil {
		n.parent.mu.RLock()
		mws = append(mws, n.parent.middlewares...)
		n.parent.mu.RUnlock()
	}
	n.mu.RLock()
	mws = append(mws, n.middlewares...)
	n.mu.RUnlock()
	for _, m := range mws {
		if err := m(s); err != nil {
			return err
		}
	}
	return nil
}

func (n *Namespace) connect(s *Socket) {
	n.mu.Lock()
	n.sockets[s.id] = s
	n.sids.insert(s.id)
	n.addrs.insert(addrKey(s))
	s.connectedAt = time.Now().UnixNano()
	handlers := n.onConn
	n.mu.Unlock()
	if n.parent != nil {
		n.parent.mu.RLock()
		handlers = append(append([]func(*Socket){}, n.parent.onConn...), handlers...)
		n.parent.mu.RUnlock()
	}
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	reply := append([]byte(`{"sid":`), socketio.AppendString(nil, s.id)...)
	s.client.conn.Send(engineio.TextFrame(encodeControl(socketio.Connect, n.name, append(reply, '}'))))
	n.srv.metrics.socketsConnected.Inc()
	if n.srv.observing(func(o *Observer) bool { return o.Connect != nil }) {
		n.srv.notifyConnect(SocketEvent{Namespace: n.name, SID: s.id, Session: s.client.conn.ID(),
			RemoteAddr: s.client.hd.remoteAddr, Transport: s.Transport(), Time: time.Now()})
	}
	for _, h := range handlers {
		h(s)
	}
}

// remove takes s out of the namespace and all its rooms.
func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] != s {
		n.mu.Unlock()
		return
	}
	delete(n.sockets, s.id)
	n.sids.remove(s.id)
	n.addrs.remove(addrKey(s))
	left := s.rooms
	s.rooms = nil
	for _, r := range left {
		n.dropMemberLocked(r, s.id)
	}
	n.mu.Unlock()
	n.notifyRooms(false, s.id, left)
}

// operator returns a broadcast operator over this namespace, or over every
// child of a parent of dynamic namespaces.
func (n *Namespace) operator() *BroadcastOperator { return newOperator(n, nil, nil) }

// To selects the sockets in any of rooms (a union; chain To to add more).
// To(sid) of a socket of this node is the direct 1:1 path.
func (n *Namespace) To(rooms ...string) *BroadcastOperator { return newOperator(n, rooms, nil) }

// In is To.
func (n *Namespace) In(rooms ...string) *BroadcastOperator { return n.To(rooms...) }

// Except excludes the sockets in rooms.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator {
	return newOperator(n, nil, rooms)
}

// Volatile marks the broadcast as droppable for clients not ready to write.
func (n *Namespace) Volatile() *BroadcastOperator { return n.operator().Volatile() }

// Local restricts the broadcast to this node.
func (n *Namespace) Local() *BroadcastOperator { return n.operator().Local() }

// Timeout sets how long EmitWithAck waits for every client.
func (n *Namespace) Timeout(d time.Duration) *BroadcastOperator { return n.operator().Timeout(d) }

// Emit sends an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error { return n.operator().Emit(event, args...) }

// SocketsJoin makes every socket of the namespace join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) error { return n.operator().SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the namespace leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) error { return n.operator().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the namespace.
func (n *Namespace) DisconnectSockets(close bool) error { return n.operator().DisconnectSockets(close) }

// FetchSockets lists every socket of the namespace, on every node.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.operator().FetchSockets(ctx)
}

// ServerSideEmit sends an event to this namespace on every other node,
// whose OnServerSideEmit handlers receive it (Socket.IO's serverSideEmit).
// With one node it goes nowhere.
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	if reserved[event] {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	return n.adapter.ServerSideEmit(ctx, event, args, nil)
}

// ServerSideEmitWithAck sends an event to this namespace on every other
// node and returns each node's answer (the first argument its handler
// acked with), waiting until all have answered or ctx is done, when it
// returns the answers it has with ctx's error (ErrAckTimeout for a
// deadline).
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	if reserved[event] {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	var mu sync.Mutex
	var out []any
	err := n.adapter.ServerSideEmit(ctx, event, args, func(a []any) {
		var first any
		if len(a) > 0 {
			first = a[0]
		}
		mu.Lock()
		out = append(out, first)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	if errors.Is(err, context.DeadlineExceeded) {
		err = ErrAckTimeout
	}
	return slices.Clone(out), err
}

// ServerCount is the number of nodes serving this namespace, this one
// included.
func (n *Namespace) ServerCount(ctx context.Context) (int, error) { return n.adapter.ServerCount(ctx) }

// AllRooms lists the rooms of this namespace on every node, sockets' own
// rooms included (Socket.IO's allRooms).
func (n *Namespace) AllRooms(ctx context.Context) ([]string, error) { return n.adapter.AllRooms(ctx) }

// The main namespace's API, on the server, as in Socket.IO.

// OnConnection registers a connection handler on the main namespace.
func (srv *Server) OnConnection(h func(*Socket)) { srv.Of("/").OnConnection(h) }

// Use adds a connection middleware to the main namespace.
func (srv *Server) Use(m Middleware) { srv.Of("/").Use(m) }

// To selects sockets of the main namespace by room.
func (srv *Server) To(rooms ...string) *BroadcastOperator { return srv.Of("/").To(rooms...) }

// In is To.
func (srv *Server) In(rooms ...string) *BroadcastOperator { return srv.To(rooms...) }

// Except excludes rooms of the main namespace.
func (srv *Server) Except(rooms ...string) *BroadcastOperator { return srv.Of("/").Except(rooms...) }

// Emit sends an event to every socket of the main namespace.
func (srv *Server) Emit(event string, args ...any) error { return srv.Of("/").Emit(event, args...) }

// Volatile broadcasts on the main namespace without queueing.
func (srv *Server) Volatile() *BroadcastOperator { return srv.Of("/").Volatile() }

// Timeout sets the ack timeout of a broadcast on the main namespace.
func (srv *Server) Timeout(d time.Duration) *BroadcastOperator { return srv.Of("/").Timeout(d) }

// SocketsJoin makes every socket of the main namespace join rooms.
func (srv *Server) SocketsJoin(rooms ...string) error { return srv.Of("/").SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace leave rooms.
func (srv *Server) SocketsLeave(rooms ...string) error { return srv.Of("/").SocketsLeave(rooms...) }

// FetchSockets lists the sockets of the main namespace, on every node.
func (srv *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return srv.Of("/").FetchSockets(ctx)
}

// DisconnectSockets disconnects every socket of the main namespace.
func (srv *Server) DisconnectSockets(close bool) error { return srv.Of("/").DisconnectSockets(close) }

// OnServerSideEmit registers a handler for server-side events of the main
// namespace.
func (srv *Server) OnServerSideEmit(event string, h EventHandler) {
	srv.Of("/").OnServerSideEmit(event, h)
}

// ServerSideEmit sends an event to the main namespace of every other node.
func (srv *Server) ServerSideEmit(event string, args ...any) error {
	return srv.Of("/").ServerSideEmit(event, args...)
}

// ServerSideEmitWithAck sends an event to the main namespace of every other
// node and collects their answers.
func (srv *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	return srv.Of("/").ServerSideEmitWithAck(ctx, event, args...)
}

// ServerCount is the number of nodes serving the main namespace.
func (srv *Server) ServerCount(ctx context.Context) (int, error) { return srv.Of("/").ServerCount(ctx) }
