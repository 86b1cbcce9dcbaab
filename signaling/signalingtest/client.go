package signalingtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/noomrtc/noom/signaling/socketio"
)

// Transport says how a Conn reaches the server.
type Transport int

const (
	// WebSocket connects with a WebSocket from the start. The default.
	WebSocket Transport = iota
	// Polling uses HTTP long-polling only.
	Polling
	// Upgrade starts with long-polling and upgrades to WebSocket, as
	// socket.io-client does by default.
	Upgrade
)

func (t Transport) String() string {
	switch t {
	case WebSocket:
		return "websocket"
	case Polling:
		return "polling"
	case Upgrade:
		return "polling→websocket"
	}
	return fmt.Sprintf("Transport(%d)", int(t))
}

// Options of Open and Dial. The zero value connects with a WebSocket to
// the main namespace at /socket.io/.
type Options struct {
	// Namespace is the namespace Dial connects to. Default "/".
	Namespace string
	// Auth is the CONNECT payload Dial sends (encoded as JSON; it must be
	// an object). Default nil: none.
	Auth any

	// Path is where the server answers. Default "/socket.io/".
	Path string
	// Transport is how to connect. Default WebSocket.
	Transport Transport
	// Header is sent with the WebSocket handshake and every polling request
	// (an Origin, a Cookie). Default none.
	Header http.Header
	// Query holds extra query parameters for every request. Default none.
	Query url.Values

	// Buffer is how many events each Client holds for Events and Next
	// before the reading goroutine waits for the test to take them.
	// Default 1024. Unused with OnEvent.
	Buffer int
	// OnEvent, if set, receives every event of every Client of the Conn on
	// the reading goroutine, instead of the Clients' channels; it must not
	// block for long. Load tools use it to avoid a channel per connection.
	OnEvent func(Event)

	// Dialer dials the WebSocket. Default: websocket.DefaultDialer.
	Dialer *websocket.Dialer
	// HTTPClient makes the polling requests. Default: a client of its own,
	// whose idle connections Close closes.
	HTTPClient *http.Client
}

// Event is what the server sent: an event (Name set), or the arguments of
// an ack answering EmitWithAck (Name empty).
type Event struct {
	// Namespace is the namespace the event came in.
	Namespace string
	// Name is the event's name; empty for an ack.
	Name string
	// Args are the arguments after the name, as raw JSON. A binary
	// attachment appears as its placeholder {"_placeholder":true,"num":N}.
	Args []json.RawMessage
	// Attachments are the binary attachments, in order.
	Attachments [][]byte

	c  *Client
	id int64
}

// Decode decodes argument i into v with encoding/json.
func (e Event) Decode(i int, v any) error {
	if i < 0 || i >= len(e.Args) {
		return fmt.Errorf("signalingtest: event %q has %d arguments, no argument %d", e.Name, len(e.Args), i)
	}
	return json.Unmarshal(e.Args[i], v)
}

// Values returns the arguments with the attachments put back where their
// placeholders are, as socketio.Reconstruct does: a placeholder becomes a
// []byte, an argument holding placeholders becomes map[string]any or []any,
// and every other argument stays a json.RawMessage.
func (e Event) Values() ([]any, error) {
	return socketio.Reconstruct(e.Args, e.Attachments)
}

// AckRequested tells whether the server asked for an ack of this event.
func (e Event) AckRequested() bool { return e.c != nil && e.id != socketio.NoID }

// Ack answers an event the server sent with an ack request. The args are
// encoded as Emit's are. It is an error to ack an event that asked for
// none.
func (e Event) Ack(args ...any) error {
	if !e.AckRequested() {
		return fmt.Errorf("signalingtest: event %q asked for no ack", e.Name)
	}
	return e.c.conn.sendSIO(socketio.Packet{Type: socketio.Ack, Namespace: e.c.nsp, ID: e.id}, args)
}

// Dial opens a connection to the server at base ("http://host:port") and
// connects to o.Namespace with o.Auth. Closing the Client closes the
// connection.
func Dial(ctx context.Context, base string, o Options) (*Client, error) {
	c, err := Open(ctx, base, o)
	if err != nil {
		return nil, err
	}
	cl, err := c.Connect(ctx, o.Namespace, o.Auth)
	if err != nil {
		c.Close()
		return nil, err
	}
	return cl, nil
}

// Client is one socket: the connection's membership of one namespace.
type Client struct {
	// ID is the socket id the server gave in its CONNECT reply.
	ID string

	conn      *Conn
	nsp       string
	events    chan Event    // nil with Options.OnEvent
	connected chan struct{} // closed when the server answers CONNECT
	done      chan struct{} // closed when the socket ends

	mu     sync.Mutex
	acks   map[int64]chan Event
	nextID int64
	err    error // why the socket ended; set before done is closed
	ended  bool
}

// Conn returns the connection the socket runs on.
func (cl *Client) Conn() *Conn { return cl.conn }

// Namespace returns the socket's namespace.
func (cl *Client) Namespace() string { return cl.nsp }

// Events delivers the events the server sends to this socket, in order.
// It is closed when the server disconnects the socket or the connection
// ends (not after Disconnect). Nil when Options.OnEvent is set.
func (cl *Client) Events() <-chan Event { return cl.events }

// Done is closed when the socket ends: Disconnect, a DISCONNECT from the
// server, or the end of the connection.
func (cl *Client) Done() <-chan struct{} { return cl.done }

// Err tells why the socket ended, once Done is closed: ErrDisconnected when
// the server disconnected it, ErrClosed after Disconnect or Close, or what
// ended the connection.
func (cl *Client) Err() error {
	<-cl.done
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.err
}

// end ends the socket with err, failing the acks still awaited. It reports
// whether this call ended it.
func (cl *Client) end(err error) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.ended {
		return false
	}
	cl.ended = true
	cl.err = err
	for id, ch := range cl.acks {
		close(ch)
		delete(cl.acks, id)
	}
	close(cl.done)
	return true
}

// Emit sends an event without asking for an ack. A []byte argument, also
// inside a map[string]any or []any, travels as a binary attachment;
// json.RawMessage is sent verbatim; anything else is encoded as JSON.
func (cl *Client) Emit(event string, args ...any) error {
	return cl.emit(socketio.NoID, event, args)
}

func (cl *Client) emit(id int64, event string, args []any) error {
	select {
	case <-cl.done:
		return fmt.Errorf("signalingtest: emit %q: %w", event, cl.Err())
	default:
	}
	vals := make([]any, 0, 1+len(args))
	vals = append(vals, event)
	return cl.conn.sendSIO(socketio.Packet{Type: socketio.Event, Namespace: cl.nsp, ID: id}, append(vals, args...))
}

// EmitWithAck sends an event and waits for the server's ack, whose
// arguments it returns as an Event without a Name. It fails when ctx is
// done first or the socket ends.
func (cl *Client) EmitWithAck(ctx context.Context, event string, args ...any) (Event, error) {
	ch := make(chan Event, 1)
	cl.mu.Lock()
	if cl.ended {
		err := cl.err
		cl.mu.Unlock()
		return Event{}, fmt.Errorf("signalingtest: emit %q: %w", event, err)
	}
	id := cl.nextID
	cl.nextID++
	if cl.acks == nil {
		cl.acks = map[int64]chan Event{}
	}
	cl.acks[id] = ch
	cl.mu.Unlock()
	forget := func() {
		cl.mu.Lock()
		delete(cl.acks, id)
		cl.mu.Unlock()
	}
	if err := cl.emit(id, event, args); err != nil {
		forget()
		return Event{}, err
	}
	select {
	case a, ok := <-ch:
		if !ok {
			return Event{}, fmt.Errorf("signalingtest: no ack for %q: %w", event, cl.Err())
		}
		return a, nil
	case <-ctx.Done():
		forget()
		return Event{}, fmt.Errorf("signalingtest: waiting for the ack of %q: %w", event, ctx.Err())
	}
}

// Call emits with an ack and decodes the ack's first argument into v (if v
// is not nil). An ack without arguments is an error.
func (cl *Client) Call(ctx context.Context, v any, event string, args ...any) error {
	a, err := cl.EmitWithAck(ctx, event, args...)
	if err != nil {
		return err
	}
	if len(a.Args) == 0 {
		return fmt.Errorf("signalingtest: the ack of %q has no arguments", event)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(a.Args[0], v)
}

// Next waits for the next event named name, dropping the events before it,
// until ctx is done or the socket ends.
func (cl *Client) Next(ctx context.Context, name string) (Event, error) {
	if cl.events == nil {
		return Event{}, fmt.Errorf("signalingtest: Next with Options.OnEvent set")
	}
	for {
		select {
		case e, ok := <-cl.events:
			if !ok {
				return Event{}, fmt.Errorf("signalingtest: waiting for %q: %w", name, cl.Err())
			}
			if e.Name == name {
				return e, nil
			}
		case <-cl.done:
			return Event{}, fmt.Errorf("signalingtest: waiting for %q: %w", name, cl.Err())
		case <-ctx.Done():
			return Event{}, fmt.Errorf("signalingtest: waiting for %q: %w", name, ctx.Err())
		}
	}
}

// Disconnect leaves the namespace (a DISCONNECT packet); the connection
// and its other sockets stay.
func (cl *Client) Disconnect() error {
	if !cl.end(ErrClosed) {
		return nil
	}
	cl.conn.forget(cl)
	return cl.conn.sendSIO(socketio.Packet{Type: socketio.Disconnect, Namespace: cl.nsp, ID: socketio.NoID}, nil)
}

// Close closes the connection the socket runs on, with all its sockets.
func (cl *Client) Close() error { return cl.conn.Close() }

// handshake is the data of the Engine.IO OPEN packet.
type handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(p engineio.Packet) (handshake, error) {
	var h handshake
	if p.Type != engineio.Open || p.Binary {
		return h, fmt.Errorf("%w: expected OPEN, got %v", ErrProtocol, p.Type)
	}
	if err := json.Unmarshal(p.Data, &h); err != nil || h.SID == "" {
		return h, fmt.Errorf("%w: bad OPEN packet %q", ErrProtocol, p.Data)
	}
	return h, nil
}

// endpoint builds the URL of base's Engine.IO endpoint for a transport.
func endpoint(base string, o *Options, scheme, transport, sid string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + o.Path)
	if err != nil {
		return "", err
	}
	switch {
	case scheme == "ws" && u.Scheme == "https":
		u.Scheme = "wss"
	case scheme == "ws":
		u.Scheme = "ws"
	}
	q := url.Values{}
	for k, v := range o.Query {
		q[k] = v
	}
	q.Set("EIO", "4")
	q.Set("transport", transport)
	if sid != "" {
		q.Set("sid", sid)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
