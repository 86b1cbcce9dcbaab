// Package sioclient is a small Socket.IO v5 client over Engine.IO v4
// WebSocket, for Noom's tests and load tool: connect to a namespace, emit
// with or without an ack, and receive events. It answers pings. It does not
// reconnect, poll, or handle binary attachments.
//
// A Client is safe for concurrent use: one goroutine reads, writes are
// serialized by a mutex.
package sioclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/noomrtc/noom/signaling/socketio"
)

// Event is an event received from the server.
type Event struct {
	Name string
	Args []json.RawMessage
}

// Client is one connection to one namespace.
type Client struct {
	ID string // the socket id the server gave

	conn *websocket.Conn
	nsp  string

	wmu sync.Mutex // serializes writes

	mu     sync.Mutex
	acks   map[int64]chan []json.RawMessage
	nextID int64
	closed bool

	events chan Event
	done   chan struct{}
	err    error
}

// Options of Dial.
type Options struct {
	Namespace string      // default "/"
	Auth      any         // CONNECT payload
	Header    http.Header // handshake headers (e.g. Origin)
	Buffer    int         // events buffered before the reader blocks; default 1024
	Dialer    *websocket.Dialer
}

// Dial connects to the server at base (http://host:port) and joins the
// namespace.
func Dial(ctx context.Context, base string, o Options) (*Client, error) {
	if o.Namespace == "" {
		o.Namespace = "/"
	}
	if o.Buffer == 0 {
		o.Buffer = 1024
	}
	d := o.Dialer
	if d == nil {
		d = websocket.DefaultDialer
	}
	u := "ws" + strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := d.DialContext(ctx, u, o.Header)
	if err != nil {
		return nil, err
	}
	c := &Client{conn: conn, nsp: o.Namespace, acks: map[int64]chan []json.RawMessage{},
		events: make(chan Event, o.Buffer), done: make(chan struct{})}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(dl)
	}
	if _, open, err := conn.ReadMessage(); err != nil || len(open) == 0 || open[0] != '0' {
		conn.Close()
		return nil, fmt.Errorf("sioclient: no open packet: %v", err)
	}
	head := "40"
	if o.Namespace != "/" {
		head += o.Namespace + ","
	}
	if o.Auth != nil {
		b, err := json.Marshal(o.Auth)
		if err != nil {
			conn.Close()
			return nil, err
		}
		head += string(b)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(head)); err != nil {
		conn.Close()
		return nil, err
	}
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			conn.Close()
			return nil, err
		}
		if string(msg) == "2" {
			conn.WriteMessage(websocket.TextMessage, []byte("3"))
			continue
		}
		p, err := socketio.Decode(msg[1:])
		if err != nil || p.Namespace != o.Namespace {
			continue
		}
		if p.Type == socketio.ConnectError {
			conn.Close()
			return nil, fmt.Errorf("sioclient: connect error: %s", p.Data)
		}
		if p.Type == socketio.Connect {
			var v struct{ SID string }
			json.Unmarshal(p.Data, &v)
			c.ID = v.SID
			break
		}
	}
	conn.SetReadDeadline(time.Time{})
	go c.readLoop()
	return c, nil
}

// Events delivers the events the server sends, in order.
func (c *Client) Events() <-chan Event { return c.events }

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err tells why the connection ended, once Done is closed.
func (c *Client) Err() error { <-c.done; return c.err }

func (c *Client) readLoop() {
	defer close(c.done)
	defer close(c.events)
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			c.err = err
			c.mu.Lock()
			c.closed = true
			for id, ch := range c.acks {
				close(ch)
				delete(c.acks, id)
			}
			c.mu.Unlock()
			return
		}
		if len(msg) == 0 {
			continue
		}
		switch msg[0] {
		case '2':
			c.write([]byte("3"))
			continue
		case '4':
		default:
			continue
		}
		p, err := socketio.Decode(msg[1:])
		if err != nil || p.Namespace != c.nsp {
			continue
		}
		switch p.Type {
		case socketio.Event:
			elems, err := socketio.SplitArray(p.Data)
			if err != nil || len(elems) == 0 {
				continue
			}
			var name string
			json.Unmarshal(elems[0], &name)
			c.events <- Event{Name: name, Args: elems[1:]}
		case socketio.Ack:
			elems, _ := socketio.SplitArray(p.Data)
			c.mu.Lock()
			ch := c.acks[p.ID]
			delete(c.acks, p.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- elems
			}
		case socketio.Disconnect:
			c.err = errors.New("sioclient: disconnected by the server")
			c.conn.Close()
		}
	}
}

func (c *Client) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteMessage(websocket.TextMessage, b)
}

func (c *Client) encode(id int64, event string, args []any) ([]byte, error) {
	data, atts, err := socketio.AppendArgs(nil, append([]any{event}, args...), nil)
	if err != nil {
		return nil, err
	}
	if len(atts) > 0 {
		return nil, errors.New("sioclient: binary arguments are not supported")
	}
	b := append([]byte{'4'}, socketio.Append(nil, socketio.Packet{Type: socketio.Event, Namespace: c.nsp, ID: id})...)
	return append(b, data...), nil
}

// Emit sends an event without an ack.
func (c *Client) Emit(event string, args ...any) error {
	b, err := c.encode(socketio.NoID, event, args)
	if err != nil {
		return err
	}
	return c.write(b)
}

// EmitWithAck sends an event and waits for its ack.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	ch := make(chan []json.RawMessage, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("sioclient: closed")
	}
	id := c.nextID
	c.nextID++
	c.acks[id] = ch
	c.mu.Unlock()
	b, err := c.encode(id, event, args)
	if err == nil {
		err = c.write(b)
	}
	if err != nil {
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return nil, err
	}
	select {
	case a, ok := <-ch:
		if !ok {
			return nil, errors.New("sioclient: connection closed before the ack")
		}
		return a, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// Call emits with an ack and decodes the ack's first argument into v.
func (c *Client) Call(ctx context.Context, v any, event string, args ...any) error {
	a, err := c.EmitWithAck(ctx, event, args...)
	if err != nil {
		return err
	}
	if len(a) == 0 {
		return errors.New("sioclient: empty ack")
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(a[0], v)
}

// Next waits for the next event named name, skipping others, until ctx is
// done.
func (c *Client) Next(ctx context.Context, name string) (Event, error) {
	for {
		select {
		case e, ok := <-c.events:
			if !ok {
				return Event{}, fmt.Errorf("sioclient: connection closed waiting for %q: %v", name, c.err)
			}
			if e.Name == name {
				return e, nil
			}
		case <-ctx.Done():
			return Event{}, fmt.Errorf("sioclient: waiting for %q: %w", name, ctx.Err())
		}
	}
}

// Close closes the connection.
func (c *Client) Close() error {
	c.wmu.Lock()
	c.conn.WriteMessage(websocket.TextMessage, []byte("1"))
	c.wmu.Unlock()
	err := c.conn.Close()
	<-c.done
	return err
}
