package signaling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// BroadcastOperator selects sockets of a namespace, on every node the
// namespace's adapter reaches, and acts on all of them at once. Each method
// that refines the selection returns a new operator; an operator can be
// kept and reused.
type BroadcastOperator struct {
	nsp  *Namespace
	opts BroadcastOptions
	from *Socket // the socket that made the operator (socket.to), if any
	// The first room and except entry live in the operator itself: the
	// common To(sid) and socket.To(room) make one allocation.
	room1, except1 [1]string
}

// defaultTimeout bounds operations that wait for other nodes or for
// clients' answers when no Timeout is set, as Socket.IO's 5 s.
const defaultTimeout = 5 * time.Second

func newOperator(n *Namespace, rooms, except []string) *BroadcastOperator {
	b := &BroadcastOperator{nsp: n}
	switch {
	case len(rooms) == 1:
		b.room1[0] = rooms[0]
		b.opts.Rooms = b.room1[:]
	case len(rooms) > 1:
		for _, r := range rooms {
			if !slices.Contains(b.opts.Rooms, r) {
				b.opts.Rooms = append(b.opts.Rooms, r)
			}
		}
	}
	if len(except) == 1 {
		b.except1[0] = except[0]
		b.opts.Except = b.except1[:]
	} else if len(except) > 1 {
		b.opts.Except = slices.Clone(except)
	}
	return b
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.opts.Rooms = slices.Clone(b.opts.Rooms)
	c.opts.Except = slices.Clone(b.opts.Except)
	return &c
}

// To adds rooms to the selection (a union).
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := b.clone()
	for _, r := range rooms {
		if !slices.Contains(c.opts.Rooms, r) {
			c.opts.Rooms = append(c.opts.Rooms, r)
		}
	}
	return c
}

// In is To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except removes the sockets in rooms (or with those ids) from the selection.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.opts.Except = append(c.opts.Except, rooms...)
	return c
}

// Volatile lets the event be dropped for a client that is not ready to
// write it at once.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.opts.Volatile = true
	return c
}

// Local restricts the operation to this node's sockets.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := b.clone()
	c.opts.Local = true
	return c
}

// Timeout sets how long EmitWithAck waits for the clients' answers, and
// how long the other operations wait for other nodes. Default 5s.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.opts.Timeout = d
	return c
}

func (b *BroadcastOperator) timeout() time.Duration {
	if b.opts.Timeout > 0 {
		return b.opts.Timeout
	}
	return defaultTimeout
}

// targets are the namespaces the operator acts on: its own, or the
// children of a parent of dynamic namespaces.
func (b *BroadcastOperator) targets() []*Namespace {
	b.nsp.mu.RLock()
	defer b.nsp.mu.RUnlock()
	if b.nsp.children != nil || b.nsp.name == "" {
		return slices.Clone(b.nsp.children)
	}
	return []*Namespace{b.nsp}
}

// direct returns the one local socket the operator selects when it names a
// single socket id (To(sid)), or nil: such an emit skips the adapter and
// goes to that socket's priority lane. A socket id is unique across nodes,
// so a local match is the only match.
func (b *BroadcastOperator) direct() *Socket {
	n := b.nsp
	if len(b.opts.Rooms) != 1 || n.name == "" {
		return nil
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	s := n.sockets[b.opts.Rooms[0]]
	if s == nil || n.children != nil {
		return nil
	}
	for _, e := range b.opts.Except {
		if n.inLocked(s, e) {
			return nil
		}
	}
	return s
}

// Emit queues the event to every selected socket. The event is encoded
// once per namespace; an operator naming one socket (To(sid)) of this node
// sends straight to it.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	if reserved[event] {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if s := b.direct(); s != nil {
		// A broadcast that finds its socket gone reaches nobody, as one
		// to an empty room: no error.
		if err := s.emit(event, args, b.opts.Volatile, b.opts.Rooms, b.trusted()); err != ErrClosed {
			return err
		}
		return nil
	}
	for _, n := range b.targets() {
		p := &Packet{Namespace: n.name, Event: event, Args: args}
		if err := p.encodeWith(b.trusted()).err; err != nil {
			return err
		}
		if b.opts.Local {
			n.deliver(p, b.opts)
			continue
		}
		if err := b.withTimeout(func(ctx context.Context) error { return n.adapter.Broadcast(ctx, p, b.opts) }); err != nil {
			return err
		}
	}
	return nil
}

// trusted are the arguments of the event the operator's socket is handling
// now: forwarding them needs no second validation.
func (b *BroadcastOperator) trusted() []any {
	if b.from == nil {
		return nil
	}
	return b.from.dispatching()
}

// withTimeout runs an adapter operation under the operator's timeout.
func (b *BroadcastOperator) withTimeout(op func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout())
	defer cancel()
	return op(ctx)
}

// AckResponse is one client's answer to a broadcast with an ack.
type AckResponse struct {
	SID  string
	Args []any
}

// ackCollector gathers a broadcast's answers: it is complete when every
// node has reported its recipient count and that many answers are in.
type ackCollector struct {
	mu       sync.Mutex
	expected int
	counted  bool // every node reported
	closed   bool // EmitWithAck returned: late answers are dropped
	got      []AckResponse
	done     chan struct{}
}

func (c *ackCollector) count(n int) {
	c.mu.Lock()
	c.expected += n
	c.mu.Unlock()
}

func (c *ackCollector) ack(sid string, args []any) {
	c.mu.Lock()
	if !c.closed {
		c.got = append(c.got, AckResponse{SID: sid, Args: args})
		c.checkLocked()
	}
	c.mu.Unlock()
}

func (c *ackCollector) allCounted() {
	c.mu.Lock()
	c.counted = true
	c.checkLocked()
	c.mu.Unlock()
}

func (c *ackCollector) checkLocked() {
	if c.counted && len(c.got) >= c.expected {
		select {
		case c.done <- struct{}{}:
		default:
		}
	}
}

func (c *ackCollector) result() []AckResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return slices.Clone(c.got)
}

// EmitWithAck broadcasts and collects every selected client's answer, on
// every node, until all have answered, or the timeout set with Timeout
// (default 5s) passes, or ctx is done. It never returns before every node
// has reported how many clients it reached (within the timeout). On
// timeout it returns the answers it has with ErrAckTimeout.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]AckResponse, error) {
	if reserved[event] {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	opts := b.opts
	opts.Timeout = b.timeout()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	scope := &ackScope{}
	ctx = context.WithValue(ctx, ackScopeKey{}, scope)
	defer scope.run() // sockets of this node that did not answer forget the ack
	c := &ackCollector{done: make(chan struct{}, 1)}
	fail := func(err error) ([]AckResponse, error) {
		if errors.Is(err, context.DeadlineExceeded) {
			err = ErrAckTimeout
		}
		return c.result(), err
	}
	for _, n := range b.targets() {
		p := &Packet{Namespace: n.name, Event: event, Args: args}
		if err := p.encodeWith(b.trusted()).err; err != nil {
			return nil, err
		}
		var err error
		if opts.Local {
			c.count(n.deliverWithAck(ctx, p, opts, c.ack))
		} else {
			err = n.adapter.BroadcastWithAck(ctx, p, opts, c.count, c.ack)
		}
		if err != nil {
			return fail(err)
		}
	}
	c.allCounted()
	select {
	case <-c.done:
		return c.result(), nil
	case <-ctx.Done():
		return fail(ctx.Err())
	}
}

// SocketsJoin makes the selected sockets join rooms. Sockets at their room
// limit are skipped.
func (b *BroadcastOperator) SocketsJoin(rooms ...string) error {
	return b.each(func(ctx context.Context, n *Namespace) error {
		if b.opts.Local {
			localNode{n}.Join(b.opts, rooms)
			return nil
		}
		return n.adapter.AddSockets(ctx, b.opts, rooms)
	})
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(rooms ...string) error {
	return b.each(func(ctx context.Context, n *Namespace) error {
		if b.opts.Local {
			localNode{n}.Leave(b.opts, rooms)
			return nil
		}
		return n.adapter.DelSockets(ctx, b.opts, rooms)
	})
}

// DisconnectSockets disconnects the selected sockets; with close set their
// connections are closed too.
func (b *BroadcastOperator) DisconnectSockets(close bool) error {
	return b.each(func(ctx context.Context, n *Namespace) error {
		if b.opts.Local {
			localNode{n}.Disconnect(b.opts, close)
			return nil
		}
		return n.adapter.DisconnectSockets(ctx, b.opts, close)
	})
}

func (b *BroadcastOperator) each(op func(ctx context.Context, n *Namespace) error) error {
	return b.withTimeout(func(ctx context.Context) error {
		var errs []error
		for _, n := range b.targets() {
			if err := op(ctx, n); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
}

// FetchSockets lists the selected sockets of every node, waiting for other
// nodes until ctx is done or the operator's timeout (default 5s) passes.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout())
	defer cancel()
	var out []*RemoteSocket
	for _, n := range b.targets() {
		var infos []SocketInfo
		var err error
		if b.opts.Local {
			infos = localNode{n}.Sockets(b.opts)
		} else if infos, err = n.adapter.FetchSockets(ctx, b.opts); err != nil {
			return out, err
		}
		for _, i := range infos {
			out = append(out, &RemoteSocket{SocketInfo: i, nsp: n})
		}
	}
	return out, nil
}

// SocketInfo is what an adapter tells of a socket, on this node or another.
//
// Data is what the socket's SetData stored. For a socket of this node it is
// that value itself; a multi-node adapter serialises it for other nodes,
// which see it as a json.RawMessage (decode it with Decode). So in a
// namespace that may span nodes, store in SetData only values that
// encoding/json can marshal (plain structs, maps, strings, numbers), never
// pointers to shared state such as a mutex.
type SocketInfo struct {
	ID        string
	Namespace string
	Handshake Handshake
	Rooms     []string
	Data      any
}

// RemoteSocket is a socket found by FetchSockets, perhaps on another node:
// a snapshot, with methods that act on the socket through the adapter.
type RemoteSocket struct {
	SocketInfo
	nsp *Namespace
}

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.nsp.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) error { return r.nsp.In(r.ID).SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) error { return r.nsp.In(r.ID).SocketsLeave(rooms...) }

// Disconnect disconnects the socket.
func (r *RemoteSocket) Disconnect(close bool) error { return r.nsp.In(r.ID).DisconnectSockets(close) }
