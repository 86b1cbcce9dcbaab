package signaling

import (
	"context"
	"time"
)

// BroadcastOptions select the sockets of a namespace and say how to reach
// them, as the rooms, except and flags of Socket.IO's adapter.
type BroadcastOptions struct {
	// Rooms: the sockets in any of these rooms (a socket id names the
	// socket's own room); every socket when empty.
	Rooms []string
	// Except: minus the sockets in any of these rooms (or with these ids).
	Except []string
	// Volatile lets a client not ready to write at once miss the event.
	Volatile bool
	// Local keeps the operation on this node: an adapter does not forward
	// it to other nodes.
	Local bool
	// Timeout bounds how long a broadcast with acks waits for answers, on
	// every node; 0 when there are none to wait for.
	Timeout time.Duration
}

// Adapter carries a namespace's operations to every node that serves it,
// as Socket.IO's adapters do. Each node's Namespace keeps its own sockets
// and rooms (see Local) and applies the room limit, observer events,
// metrics and ack bookkeeping itself, so an adapter only moves operations
// between nodes: for each one, it applies it to this node through Local
// (unless the operation came from elsewhere and is already applied) and,
// unless opts.Local is set, sends it to the other nodes, whose adapters
// apply it through their own Local.
//
// MemoryAdapter, the default, serves one node. A multi-node adapter (Redis)
// is made by Config.Adapter once per namespace. Implementations must be
// safe for concurrent use, must not hold their own locks while calling
// Local, and must never block on a client. ctx bounds waiting for other
// nodes; operations that wait for none may ignore it.
type Adapter interface {
	// Broadcast delivers p to the selected sockets of every node.
	Broadcast(ctx context.Context, p *Packet, opts BroadcastOptions) error

	// BroadcastWithAck delivers p to the selected sockets of every node,
	// each node assigning its own ack id (Local.DeliverWithAck), and
	// reports each node's recipient count to count (called once per node,
	// from any goroutine) and each client's answer to ack. It returns once
	// every node has reported its count, or with ctx's error if ctx ends
	// first; answers may still arrive after it returns, until ctx ends
	// (opts.Timeout is how long the other nodes keep waiting for them).
	BroadcastWithAck(ctx context.Context, p *Packet, opts BroadcastOptions, count func(n int), ack func(sid string, args []any)) error

	// FetchSockets describes the selected sockets of every node.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the selected sockets of every node join rooms.
	AddSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DelSockets makes the selected sockets of every node leave rooms.
	DelSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DisconnectSockets disconnects the selected sockets of every node.
	DisconnectSockets(ctx context.Context, opts BroadcastOptions, close bool) error

	// ServerSideEmit sends an event to the namespace on every other node
	// (never to this one), whose Local.ServerSideEvent dispatches it. With
	// ack set, it waits until every other node has answered, calling ack
	// once per answer, or returns ctx's error.
	ServerSideEmit(ctx context.Context, event string, args []any, ack func(args []any)) error

	// ServerCount is the number of nodes serving the namespace, this one
	// included.
	ServerCount(ctx context.Context) (int, error)
	// AllRooms lists the rooms of every node, sockets' own rooms included,
	// as Socket.IO's allRooms.
	AllRooms(ctx context.Context) ([]string, error)

	// Close releases the adapter's resources, once, at Server.Shutdown.
	Close() error
}

// Local is what a Namespace gives its adapter: this node's sockets of the
// namespace. Every method applies the room limit, observer events,
// metrics and ack bookkeeping as a local operation would, never blocks on
// a client, and may be called from any goroutine (but not while holding a
// lock that an observer hook could also need).
type Local interface {
	// Name is the namespace's name, such as "/".
	Name() string
	// Deliver queues p to the selected local sockets and returns how many
	// it reached. p is encoded once and its frames cached.
	Deliver(p *Packet, opts BroadcastOptions) int
	// DeliverWithAck queues p with an ack id of this node's choosing to the
	// selected local sockets, calls ack with each answer, and returns how
	// many sockets it reached. When ctx ends, sockets that have not
	// answered forget the ack.
	DeliverWithAck(ctx context.Context, p *Packet, opts BroadcastOptions, ack func(sid string, args []any)) int
	// Sockets describes the selected local sockets.
	Sockets(opts BroadcastOptions) []SocketInfo
	// Join makes the selected local sockets join rooms; sockets at their
	// room limit are skipped.
	Join(opts BroadcastOptions, rooms []string)
	// Leave makes the selected local sockets leave rooms.
	Leave(opts BroadcastOptions, rooms []string)
	// Disconnect disconnects the selected local sockets.
	Disconnect(opts BroadcastOptions, close bool)
	// AppendRooms appends the names of the local rooms, sockets' own rooms
	// included, to dst.
	AppendRooms(dst []string) []string
	// ServerSideEvent dispatches an event another node sent with
	// ServerSideEmit to this namespace's OnServerSideEmit handlers. ack,
	// if not nil, receives the first handler's answer (at most once).
	ServerSideEvent(event string, args []any, ack func(args []any))
}

// MemoryAdapter is the Adapter of a namespace served by one node: every
// operation is local.
type MemoryAdapter struct{ local Local }

// NewMemoryAdapter makes the in-memory adapter over local.
func NewMemoryAdapter(local Local) *MemoryAdapter { return &MemoryAdapter{local: local} }

// Broadcast implements Adapter.
func (a *MemoryAdapter) Broadcast(_ context.Context, p *Packet, opts BroadcastOptions) error {
	a.local.Deliver(p, opts)
	return nil
}

// BroadcastWithAck implements Adapter.
func (a *MemoryAdapter) BroadcastWithAck(ctx context.Context, p *Packet, opts BroadcastOptions, count func(int), ack func(string, []any)) error {
	count(a.local.DeliverWithAck(ctx, p, opts, ack))
	return nil
}

// FetchSockets implements Adapter.
func (a *MemoryAdapter) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	return a.local.Sockets(opts), nil
}

// AddSockets implements Adapter.
func (a *MemoryAdapter) AddSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	a.local.Join(opts, rooms)
	return nil
}

// DelSockets implements Adapter.
func (a *MemoryAdapter) DelSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	a.local.Leave(opts, rooms)
	return nil
}

// DisconnectSockets implements Adapter.
func (a *MemoryAdapter) DisconnectSockets(_ context.Context, opts BroadcastOptions, close bool) error {
	a.local.Disconnect(opts, close)
	return nil
}

// ServerSideEmit implements Adapter: there is no other node, so nobody
// receives it and, with an ack, no answer is awaited.
func (a *MemoryAdapter) ServerSideEmit(context.Context, string, []any, func([]any)) error { return nil }

// ServerCount implements Adapter: one.
func (a *MemoryAdapter) ServerCount(context.Context) (int, error) { return 1, nil }

// AllRooms implements Adapter.
func (a *MemoryAdapter) AllRooms(context.Context) ([]string, error) {
	return a.local.AppendRooms(nil), nil
}

// Close implements Adapter.
func (a *MemoryAdapter) Close() error { return nil }
