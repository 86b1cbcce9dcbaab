package signalingtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/noomrtc/noom/signaling/socketio"
)

// Conn is one Engine.IO connection, which carries the sockets of one or
// more namespaces.
type Conn struct {
	opts Options
	hs   handshake

	wmu sync.Mutex // serializes writes; held across an upgrade
	tr  transport  // guarded by wmu

	mu      sync.Mutex
	sockets map[string]*Client // by namespace

	// Owned by the reading goroutine: a binary packet and the attachments
	// it still waits for.
	partial *socketio.Packet
	atts    [][]byte

	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	done      chan struct{} // closed when the reading goroutine has ended
	err       error         // why the connection ended; set before done
}

// Open opens an Engine.IO connection to the server at base
// ("http://host:port"), without joining any namespace: Connect does that.
func Open(ctx context.Context, base string, o Options) (*Conn, error) {
	if o.Path == "" {
		o.Path = "/socket.io/"
	}
	if o.Namespace == "" {
		o.Namespace = "/"
	}
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	c := &Conn{opts: o, closing: make(chan struct{}), done: make(chan struct{})}
	var (
		read func() error
		err  error
	)
	switch o.Transport {
	case WebSocket:
		read, err = c.openWebSocket(ctx, base)
	case Polling, Upgrade:
		read, err = c.openPolling(ctx, base)
	default:
		err = fmt.Errorf("signalingtest: unknown transport %v", o.Transport)
	}
	if err != nil {
		return nil, err
	}
	go c.run(read)
	if o.Transport == Upgrade {
		if err := c.upgrade(ctx, base); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// SID returns the Engine.IO session id.
func (c *Conn) SID() string { return c.hs.SID }

// Transport names the transport in use: "websocket" or "polling".
func (c *Conn) Transport() string {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.tr.name()
}

// Done is closed when the connection has ended and its reading goroutine
// is gone.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err tells why the connection ended, once Done is closed: ErrClosed after
// Close, ErrServerClosed when the server closed it, or the transport's or
// the protocol's error.
func (c *Conn) Err() error { <-c.done; return c.err }

// Connect joins namespace nsp ("/" when empty) with the CONNECT payload
// auth (nil for none) and waits for the server's answer: a *ConnectError
// when the server refuses.
func (c *Conn) Connect(ctx context.Context, nsp string, auth any) (*Client, error) {
	if nsp == "" {
		nsp = "/"
	}
	var data []byte
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return nil, fmt.Errorf("signalingtest: auth: %w", err)
		}
		data = b
	}
	cl := &Client{conn: c, nsp: nsp, connected: make(chan struct{}), done: make(chan struct{})}
	if c.opts.OnEvent == nil {
		cl.events = make(chan Event, c.opts.Buffer)
	}
	c.mu.Lock()
	if c.sockets[nsp] != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("signalingtest: already connected to %q", nsp)
	}
	if c.sockets == nil {
		c.sockets = map[string]*Client{}
	}
	c.sockets[nsp] = cl
	c.mu.Unlock()
	fail := func(err error) (*Client, error) {
		c.forget(cl)
		cl.end(err)
		return nil, err
	}
	p := socketio.Packet{Type: socketio.Connect, Namespace: nsp, ID: socketio.NoID, Data: data}
	if err := c.send(engineio.Packet{Type: engineio.Message, Data: socketio.Append(nil, p)}); err != nil {
		return fail(err)
	}
	select {
	case <-cl.connected:
		return cl, nil
	case <-cl.done:
		return nil, cl.Err()
	case <-ctx.Done():
		return fail(fmt.Errorf("signalingtest: connect to %q: %w", nsp, ctx.Err()))
	}
}

// forget removes a socket from the connection's table.
func (c *Conn) forget(cl *Client) {
	c.mu.Lock()
	if c.sockets[cl.nsp] == cl {
		delete(c.sockets, cl.nsp)
	}
	c.mu.Unlock()
}

func (c *Conn) socket(nsp string) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockets[nsp]
}

// Close closes the connection: it sends an Engine.IO CLOSE, ends the
// transport and waits for the reading goroutine.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.wmu.Lock()
		c.tr.write([]engineio.Packet{{Type: engineio.Close}})
		c.tr.close()
		c.wmu.Unlock()
	})
	<-c.done
	return nil
}

// send writes engine packets as one unit (an event and its attachments).
func (c *Conn) send(pkts ...engineio.Packet) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.closing:
		return ErrClosed
	default:
	}
	return c.tr.write(pkts)
}

// sendSIO encodes a Socket.IO packet with args (an EVENT's or ACK's array)
// and sends it with its attachments.
func (c *Conn) sendSIO(p socketio.Packet, args []any) error {
	var data []byte
	var atts [][]byte
	if args != nil || p.Type == socketio.Ack {
		var err error
		if data, atts, err = socketio.AppendArgs(nil, args, nil); err != nil {
			return fmt.Errorf("signalingtest: encode: %w", err)
		}
	}
	if len(atts) > 0 {
		p.Type += socketio.BinaryEvent - socketio.Event // EVENT→BINARY_EVENT, ACK→BINARY_ACK
		p.Attachments = len(atts)
	}
	p.Data = data
	pkts := make([]engineio.Packet, 0, 1+len(atts))
	pkts = append(pkts, engineio.Packet{Type: engineio.Message, Data: socketio.Append(nil, p)})
	for _, a := range atts {
		pkts = append(pkts, engineio.Packet{Type: engineio.Message, Data: a, Binary: true})
	}
	return c.send(pkts...)
}

// run is the reading goroutine: read reads the transport until it ends,
// passing each packet to handle.
func (c *Conn) run(read func() error) {
	err := read()
	select {
	case <-c.closing:
		err = ErrClosed
	default:
		switch {
		case err == nil || errors.Is(err, errStop):
			err = ErrServerClosed
		case !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrServerClosed):
			err = fmt.Errorf("%w: %w", ErrServerClosed, err)
		}
		c.wmu.Lock()
		c.tr.close()
		c.wmu.Unlock()
	}
	c.err = err
	c.mu.Lock()
	sockets := c.sockets
	c.sockets = nil
	c.mu.Unlock()
	for _, cl := range sockets {
		if cl.end(err) && cl.events != nil {
			close(cl.events)
		}
	}
	close(c.done)
}

// errStop ends the reading loop without an error of its own (a CLOSE).
var errStop = errors.New("stop")

// handle processes one Engine.IO packet on the reading goroutine.
func (c *Conn) handle(p engineio.Packet) error {
	switch p.Type {
	case engineio.Ping:
		return c.send(engineio.Packet{Type: engineio.Pong, Data: p.Data})
	case engineio.Close:
		return errStop
	case engineio.Noop, engineio.Pong:
		return nil
	case engineio.Message:
	default:
		return fmt.Errorf("%w: unexpected Engine.IO %v packet", ErrProtocol, p.Type)
	}
	if p.Binary {
		if c.partial == nil {
			return fmt.Errorf("%w: binary message without a binary packet", ErrProtocol)
		}
		c.atts = append(c.atts, p.Data)
		if len(c.atts) < c.partial.Attachments {
			return nil
		}
		sp, atts := *c.partial, c.atts
		c.partial, c.atts = nil, nil
		return c.dispatch(sp, atts)
	}
	if c.partial != nil {
		return fmt.Errorf("%w: text message while %d attachments are due", ErrProtocol, c.partial.Attachments-len(c.atts))
	}
	sp, err := socketio.Decode(p.Data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if (sp.Type == socketio.BinaryEvent || sp.Type == socketio.BinaryAck) && sp.Attachments > 0 {
		c.partial = &sp
		return nil
	}
	return c.dispatch(sp, nil)
}

// dispatch hands a Socket.IO packet to its socket.
func (c *Conn) dispatch(p socketio.Packet, atts [][]byte) error {
	cl := c.socket(p.Namespace)
	if cl == nil {
		return nil // a socket this side has left; the server may still be sending
	}
	switch p.Type {
	case socketio.Connect:
		var v struct {
			SID string `json:"sid"`
		}
		if err := json.Unmarshal(p.Data, &v); err != nil || v.SID == "" {
			return fmt.Errorf("%w: CONNECT reply without a sid: %q", ErrProtocol, p.Data)
		}
		select {
		case <-cl.connected:
			return fmt.Errorf("%w: a second CONNECT for %q", ErrProtocol, p.Namespace)
		default:
		}
		cl.ID = v.SID
		close(cl.connected)
	case socketio.ConnectError:
		ce := &ConnectError{}
		if err := json.Unmarshal(p.Data, ce); err != nil {
			return fmt.Errorf("%w: bad CONNECT_ERROR %q", ErrProtocol, p.Data)
		}
		c.forget(cl)
		cl.end(ce)
	case socketio.Disconnect:
		c.forget(cl)
		if cl.end(ErrDisconnected) && cl.events != nil {
			close(cl.events)
		}
	case socketio.Event, socketio.BinaryEvent:
		elems, err := socketio.SplitArray(p.Data)
		if err != nil || len(elems) == 0 {
			return fmt.Errorf("%w: event without a name: %q", ErrProtocol, p.Data)
		}
		var name string
		if err := json.Unmarshal(elems[0], &name); err != nil {
			return fmt.Errorf("%w: event name %s", ErrProtocol, elems[0])
		}
		e := Event{Namespace: p.Namespace, Name: name, Args: elems[1:], Attachments: atts, c: cl, id: p.ID}
		if c.opts.OnEvent != nil {
			c.opts.OnEvent(e)
			return nil
		}
		select {
		case cl.events <- e:
		case <-cl.done: // the test left the namespace
		case <-c.closing:
		}
	case socketio.Ack, socketio.BinaryAck:
		elems, err := socketio.SplitArray(p.Data)
		if err != nil {
			return fmt.Errorf("%w: bad ack %q", ErrProtocol, p.Data)
		}
		cl.mu.Lock()
		ch := cl.acks[p.ID]
		delete(cl.acks, p.ID)
		cl.mu.Unlock()
		if ch != nil {
			ch <- Event{Namespace: p.Namespace, Args: elems, Attachments: atts, id: socketio.NoID}
		}
	}
	return nil
}
