package signaling

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/noomrtc/noom/signaling/socketio"
)

// BroadcastOperator selects sockets of a namespace and acts on all of them
// at once. Each method that refines the selection returns a new operator;
// an operator can be kept and reused.
type BroadcastOperator struct {
	nsp     *Namespace
	opts    BroadcastOptions
	timeout time.Duration
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

// Timeout sets how long EmitWithAck waits for the clients' answers.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.timeout = d
	return c
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

// Emit encodes the event once and queues it to every selected socket.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	if reserved[event] {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	for _, n := range b.targets() {
		p, err := encodeEvent(n.name, socketio.NoID, event, args)
		if err != nil {
			return err
		}
		n.adapter.Broadcast(p, b.opts)
	}
	return nil
}

// AckResponse is one client's answer to a broadcast with an ack.
type AckResponse struct {
	SID  string
	Args []any
}

// EmitWithAck broadcasts and collects every selected client's answer until
// all have answered or the timeout set with Timeout (default 5s) passes, or
// ctx is done. On timeout it returns the answers it has with ErrAckTimeout.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]AckResponse, error) {
	if reserved[event] {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	timeout := b.timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var (
		mu       sync.Mutex
		expected int
		got      []AckResponse
		done     = make(chan struct{}, 1)
	)
	check := func() {
		if len(got) >= expected {
			select {
			case done <- struct{}{}:
			default:
			}
		}
	}
	type sent struct {
		n  *Namespace
		id int64
	}
	var all []sent
	for _, n := range b.targets() {
		p, err := encodeEvent(n.name, n.nextAckID(), event, args)
		if err != nil {
			return nil, err
		}
		all = append(all, sent{n, p.ID})
		n.adapter.BroadcastWithAck(p, b.opts,
			func(count int) { mu.Lock(); expected += count; check(); mu.Unlock() },
			func(sid string, a []any) {
				mu.Lock()
				got = append(got, AckResponse{SID: sid, Args: a})
				check()
				mu.Unlock()
			})
	}
	mu.Lock()
	check()
	mu.Unlock()
	select {
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got), nil
	case <-ctx.Done():
		// Sockets that did not answer forget the ack; ids are per
		// namespace, so only this broadcast's are removed.
		for _, x := range all {
			x.n.forgetAck(x.id)
		}
		mu.Lock()
		defer mu.Unlock()
		err := ctx.Err()
		if err == context.DeadlineExceeded {
			err = ErrAckTimeout
		}
		return slices.Clone(got), err
	}
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(rooms ...string) {
	for _, n := range b.targets() {
		n.adapter.AddSockets(b.opts, rooms)
	}
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(rooms ...string) {
	for _, n := range b.targets() {
		n.adapter.DelSockets(b.opts, rooms)
	}
}

// DisconnectSockets disconnects the selected sockets; with close set their
// connections are closed too.
func (b *BroadcastOperator) DisconnectSockets(close bool) {
	for _, n := range b.targets() {
		n.adapter.DisconnectSockets(b.opts, close)
	}
}

// FetchSockets lists the selected sockets.
func (b *BroadcastOperator) FetchSockets() ([]*RemoteSocket, error) {
	var out []*RemoteSocket
	for _, n := range b.targets() {
		infos, err := n.adapter.FetchSockets(b.opts)
		if err != nil {
			return out, err
		}
		for _, i := range infos {
			out = append(out, &RemoteSocket{SocketInfo: i, nsp: n})
		}
	}
	return out, nil
}

// SocketInfo is what an adapter tells of a socket, on this node or another.
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
func (r *RemoteSocket) Join(rooms ...string) { r.nsp.In(r.ID).SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) { r.nsp.In(r.ID).SocketsLeave(rooms...) }

// Disconnect disconnects the socket.
func (r *RemoteSocket) Disconnect(close bool) { r.nsp.In(r.ID).DisconnectSockets(close) }

// forgetAck removes a pending ack of this node's sockets.
func (n *Namespace) forgetAck(id int64) {
	n.mu.RLock()
	socks := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		socks = append(socks, s)
	}
	n.mu.RUnlock()
	for _, s := range socks {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
	}
}
