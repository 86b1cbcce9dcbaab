package signaling

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/noomrtc/noom/signaling/socketio"
)

// Handshake describes how a socket connected.
type Handshake struct {
	Headers    http.Header
	Query      url.Values
	Auth       json.RawMessage // the CONNECT payload; "{}" when none was sent
	RemoteAddr string
	Host       string
	Secure     bool
	Time       time.Time
}

// handshakeData is what a connection keeps of its handshake request:
// header lines and the query as text, made into maps only when asked for
// (middlewares, FetchSockets). Maps cost about 1 KB per idle connection.
type handshakeData struct {
	headers    string // "Key: value\n" lines
	rawQuery   string
	remoteAddr string
	host       string
	secure     bool
	time       time.Time
}

// newHandshakeData keeps the headers named in keep (canonical names), at
// most maxHandshakeHeaderBytes of them: a connection keeps no cookie or
// credential it was opened with unless the application asks for it, and a
// client cannot pin a megabyte of headers for the connection's life.
func newHandshakeData(r *http.Request, keep map[string]bool) *handshakeData {
	var b strings.Builder
	for k, vs := range r.Header {
		if !keep[k] {
			continue
		}
		for _, v := range vs {
			if b.Len()+len(k)+len(v)+3 > maxHandshakeHeaderBytes {
				break
			}
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return &handshakeData{
		headers:    b.String(),
		rawQuery:   r.URL.RawQuery,
		remoteAddr: r.RemoteAddr,
		host:       r.Host,
		secure:     r.TLS != nil,
		time:       time.Now(),
	}
}

// build makes the Handshake a socket shows, with its CONNECT payload.
func (h *handshakeData) build(auth json.RawMessage) Handshake {
	hdr := make(http.Header)
	for _, line := range strings.Split(strings.TrimSuffix(h.headers, "\n"), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			hdr[k] = append(hdr[k], v)
		}
	}
	q, _ := url.ParseQuery(h.rawQuery)
	return Handshake{Headers: hdr, Query: q, Auth: auth, RemoteAddr: h.remoteAddr, Host: h.host, Secure: h.secure, Time: h.time}
}

// client is the Socket.IO side of one Engine.IO session: the sockets it
// has in each namespace, and the binary packet being assembled.
type client struct {
	conn *engineio.Conn
	srv  *Server
	hd   *handshakeData

	mu      sync.Mutex
	sockets []*Socket // one per namespace (MaxNamespaces at most); guarded by mu

	// The reading goroutine alone touches these.
	bin      *socketio.Packet
	atts     [][]byte
	attBytes int
	// attHeld is what this client holds of its IP's pending budget; the
	// reader adds, whoever releases swaps it to zero.
	attHeld atomic.Int64
}

// releasePending gives the client's pending attachment bytes back to its
// IP's budget.
func (c *client) releasePending() {
	if n := c.attHeld.Swap(0); n > 0 {
		c.srv.releasePending(c.conn.IP(), int(n))
	}
}

// engineHandler is the Socket.IO layer as the transport sees it: each new
// Engine.IO session gets a client.
type engineHandler struct{ srv *Server }

func (h engineHandler) Open(conn *engineio.Conn, r *http.Request) engineio.ConnHandler {
	c := &client{conn: conn, srv: h.srv, hd: newHandshakeData(r, h.srv.keepHeaders)}
	h.srv.notifySessionOpen(SessionEvent{SID: conn.ID(), RemoteAddr: r.RemoteAddr, Transport: conn.Transport(), Time: c.hd.time})
	return c
}

var (
	errUnexpectedBinary = errors.New("signaling: binary message without a packet announcing it")
	errMissingBinary    = errors.New("signaling: text message while attachments are due")
	errTooManyAtts      = errors.New("signaling: too many attachments")
	errClientPacket     = errors.New("signaling: packet type a client may not send")
	errBinaryRefused    = errors.New("signaling: binary packet for a namespace that takes none")
	errAttsTooLarge     = errors.New("signaling: attachments over MaxPayload")
	errPendingBudget    = errors.New("signaling: the client IP's pending attachments are over budget")
)

// maxHandshakeHeaderBytes bounds the header text a connection keeps.
const maxHandshakeHeaderBytes = 4 << 10

// OnUpgrade tells observers of the session's new transport.
func (c *client) OnUpgrade(from, to string) {
	if !c.srv.observing(func(o *Observer) bool { return o.Upgrade != nil }) {
		return
	}
	e := UpgradeEvent{SID: c.conn.ID(), From: from, To: to, Time: time.Now()}
	c.mu.Lock()
	for _, sock := range c.sockets {
		e.Sockets = append(e.Sockets, SocketRef{Namespace: sock.nsp.name, SID: sock.id})
	}
	c.mu.Unlock()
	c.srv.notifyUpgrade(e)
}

// OnDrop tells observers of packets the client did not get.
func (c *client) OnDrop(reason string, bytes int) {
	c.srv.notifyDrop(DropEvent{SID: c.conn.ID(), Reason: reason, Bytes: bytes, Time: time.Now()})
}

// OnShutdown disconnects every socket while the session is still open.
func (c *client) OnShutdown() { c.disconnectAll(ReasonServerShuttingDown) }

func (c *client) namespaceCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sockets)
}

func (c *client) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sockets {
		if s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

// OnMessage handles one Engine.IO message, on the session's reader.
func (c *client) OnMessage(data []byte, binary bool) error {
	if binary {
		if c.bin == nil {
			return errUnexpectedBinary
		}
		c.attBytes += len(data)
		if c.attBytes > c.srv.cfg.MaxPayload {
			// A packet's attachments together obey the message bound.
			return errAttsTooLarge
		}
		// And all the attachments pending for one client IP obey a budget,
		// so that many connections cannot pin gigabytes between them.
		if !c.srv.reservePending(c.conn.IP(), len(data)) {
			return errPendingBudget
		}
		c.attHeld.Add(int64(len(data)))
		if c.conn.Closed() {
			c.releasePending()
		}
		c.atts = append(c.atts, data)
		if len(c.atts) < c.bin.Attachments {
			return nil
		}
		pkt, atts := *c.bin, c.atts
		c.bin, c.atts, c.attBytes = nil, nil, 0
		c.releasePending()
		return c.dispatch(pkt, atts)
	}
	if c.bin != nil {
		return errMissingBinary
	}
	pkt, err := socketio.Decode(data)
	if err != nil {
		return err
	}
	if pkt.Attachments > c.srv.cfg.MaxAttachments {
		return errTooManyAtts
	}
	if pkt.Attachments > 0 {
		// Refused before anything is kept: attachments for a namespace
		// the client is not in, or one that takes no binary, would only
		// pin memory.
		if s := c.socket(pkt.Namespace); s == nil || s.nsp.refusesBinary() {
			return errBinaryRefused
		}
		c.bin = &pkt
		c.atts = make([][]byte, 0, pkt.Attachments)
		return nil
	}
	return c.dispatch(pkt, nil)
}

func (c *client) dispatch(pkt socketio.Packet, atts [][]byte) error {
	if pkt.Type == socketio.Connect {
		c.connect(pkt)
		return nil
	}
	if pkt.Type == socketio.ConnectError {
		return errClientPacket
	}
	s := c.socket(pkt.Namespace)
	if s == nil {
		return nil // not connected there: ignored, as the reference server does
	}
	switch pkt.Type {
	case socketio.Disconnect:
		s.close(ReasonClientDisconnect, false)
	case socketio.Event, socketio.BinaryEvent:
		return s.onEvent(pkt, atts)
	case socketio.Ack, socketio.BinaryAck:
		return s.onAck(pkt, atts)
	}
	return nil
}

// ConnectError rejects a connection from a namespace middleware; Data, if
// set, reaches the client as the error's data.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

func (c *client) connectError(nsp string, message string, data any) {
	v := map[string]any{"message": message}
	if data != nil {
		v["data"] = data
	}
	b, _, err := socketio.AppendArgs(nil, []any{v}, nil)
	if err != nil {
		b = []byte(`[{"message":"connection refused"}]`)
	}
	c.conn.Send(engineio.TextFrame(encodeControl(socketio.ConnectError, nsp, b[1:len(b)-1])))
}

func (c *client) connect(pkt socketio.Packet) {
	name := pkt.Namespace
	if c.socket(name) != nil {
		return // already connected there
	}
	if c.namespaceCount() >= c.srv.cfg.MaxNamespaces {
		c.connectError(name, "Too many namespaces", nil)
		return
	}
	if len(pkt.Data) > c.srv.cfg.MaxAuthBytes {
		c.connectError(name, "Auth payload too large", nil)
		return
	}
	auth := json.RawMessage(`{}`)
	if len(pkt.Data) > 0 {
		auth = json.RawMessage(pkt.Data)
	}
	nsp := c.srv.namespaceFor(name, auth)
	if nsp == nil {
		c.connectError(name, "Invalid namespace", nil)
		return
	}
	s := newSocket(nsp, c, auth)
	if err := nsp.runMiddlewares(s); err != nil {
		var ce *ConnectError
		if errors.As(err, &ce) {
			c.connectError(name, ce.Message, ce.Data)
		} else {
			c.connectError(name, err.Error(), nil)
		}
		return
	}
	c.mu.Lock()
	if c.conn.Closed() {
		c.mu.Unlock()
		return
	}
	c.sockets = append(c.sockets, s)
	c.mu.Unlock()
	c.conn.Ready()
	nsp.connect(s)
}

// OnClose runs once, when the session ends: observers hear of it, then
// every socket disconnects.
func (c *client) OnClose(reason string) {
	c.srv.notifySessionClose(SessionEvent{SID: c.conn.ID(), RemoteAddr: c.hd.remoteAddr, Transport: c.conn.Transport(),
		Reason: reason, Time: time.Now()})
	c.releasePending()
	c.disconnectAll(reason)
}

func (c *client) disconnectAll(reason string) {
	c.mu.Lock()
	all := slices.Clone(c.sockets)
	c.mu.Unlock()
	for _, s := range all {
		// No DISCONNECT packet, even on Shutdown: socket.io-client does not
		// reconnect after one ("io server disconnect"). The reference server
		// too only closes the transport, and its clients come back.
		s.close(reason, false)
	}
}

func (c *client) remove(s *Socket) {
	c.mu.Lock()
	c.sockets = slices.DeleteFunc(c.sockets, func(x *Socket) bool { return x == s })
	c.mu.Unlock()
}
