package engineio

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

var errUnexpectedPacket = errors.New("signaling: unexpected packet")

// controlBufs lends gorilla a write buffer for the rare frames it writes
// itself, instead of one per connection.
var controlBufs = &sync.Pool{}

// readBufs pools the buffers messages are read into before being copied out
// at their exact size.
var readBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (srv *Server) upgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		ReadBufferSize:  256,                                      // gorilla's window; messages are copied out whole
		WriteBufferPool: controlBufs,                              // only gorilla's own control writes use it
		CheckOrigin:     func(*http.Request) bool { return true }, // checked before
	}
}

// serveWebSocket handles a WebSocket request: a new session, or the upgrade
// of a polling session when sid is set.
func (srv *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, sid, ip string) {
	if sid != "" {
		s := srv.Lookup(sid)
		if s == nil || s.expired(time.Now()) {
			httpError(w, errSessionUnknown)
			return
		}
		s.mu.Lock()
		ok := s.state == stateOpen && s.transport == transportPolling && !s.upgrading
		if ok {
			s.upgrading = true
		}
		s.mu.Unlock()
		if !ok {
			// Accept then close, as the reference server does: a client
			// expects a WebSocket that closes, not an HTTP error.
			if conn, err := srv.upgrade.Upgrade(w, r, nil); err == nil {
				conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "session already upgraded"),
					time.Now().Add(time.Second))
				conn.Close()
			}
			return
		}
		conn, err := srv.upgrade.Upgrade(w, r, nil)
		if err != nil {
			s.mu.Lock()
			s.upgrading = false
			s.mu.Unlock()
			srv.metrics.upgrades.WithLabelValues("failed").Inc()
			return
		}
		if !s.probe(conn) {
			srv.metrics.upgrades.WithLabelValues("failed").Inc()
			conn.NetConn().Close()
			return
		}
		srv.metrics.upgrades.WithLabelValues("ok").Inc()
		srv.goRead(s, conn)
		return
	}
	if !srv.admit(ip) {
		httpError(w, errTooManyConns)
		return
	}
	conn, err := srv.upgrade.Upgrade(w, r, nil)
	if err != nil {
		srv.release(ip)
		return
	}
	s := srv.newSession(r, ip, transportWebSocket)
	s.mu.Lock() // the heartbeat or Shutdown may reach the session already
	s.ws = conn
	s.mu.Unlock()
	srv.setupConn(s, conn)
	s.Send(Frame{data: srv.openPacket(s.sid, nil), op: opText})
	srv.goRead(s, conn)
}

// goRead runs the read loop in a goroutine of its own and lets the HTTP
// handler return: net/http then frees the request, the response and its
// buffers, which it would otherwise keep for the connection's whole life
// (about 12 KB per connection).
func (srv *Server) goRead(s *Conn, conn *websocket.Conn) {
	srv.conns.Add(1)
	go func() {
		defer srv.conns.Done()
		s.readLoop(conn)
	}()
}

func (srv *Server) setupConn(s *Conn, conn *websocket.Conn) {
	// Control frames go through our writer: gorilla's defaults would write
	// from the reading goroutine.
	conn.SetPingHandler(func(data string) error {
		s.Send(Frame{data: []byte(data), op: opPong})
		return nil
	})
	conn.SetCloseHandler(func(int, string) error { return nil })
}

// probe runs the upgrade handshake on conn: "2probe" → "3probe", then
// "5" switches the session over. The polling GET in flight gets a noop.
func (s *Conn) probe(conn *websocket.Conn) bool {
	fail := func() bool {
		s.mu.Lock()
		s.upgrading = false
		s.mu.Unlock()
		return false
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for step := 0; step < 2; step++ {
		mt, data, err := s.readMessage(conn)
		if err != nil || mt != websocket.TextMessage {
			return fail()
		}
		switch {
		case step == 0 && string(data) == "2probe":
			if err := writeFrames(conn.NetConn(), []Frame{{data: probeReply, op: opText}}, time.Now().Add(s.srv.cfg.WriteTimeout)); err != nil {
				return fail()
			}
			s.mu.Lock()
			s.kickLocked() // the GET in flight answers noop
			s.mu.Unlock()
		case step == 1 && string(data) == "5":
		default:
			return fail()
		}
	}
	conn.SetReadDeadline(time.Time{})
	s.srv.setupConn(s, conn)
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return false
	}
	s.upgrading = false
	s.transport = transportWebSocket
	s.ws = conn
	start := (*websocket.Conn)(nil)
	if s.queuedLocked() > 0 {
		start = s.kickLocked()
	}
	select { // a GET still in flight ends with a noop
	case s.pollWake <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	s.srv.metrics.transportSwitch(transportPolling, transportWebSocket)
	s.h.OnUpgrade(transportPolling.String(), transportWebSocket.String())
	if start != nil {
		go s.writeLoop(start)
	}
	return true
}

// readMessage reads one message, at most MaxPayload bytes, into a slice of
// its own.
func (s *Conn) readMessage(conn *websocket.Conn) (int, []byte, error) {
	mt, r, err := conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	buf := readBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			readBufs.Put(buf)
		}
	}()
	limit := int64(s.srv.cfg.MaxPayload)
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return 0, nil, err
	}
	if n > limit {
		return 0, nil, errPayloadTooLarge
	}
	return mt, bytes.Clone(buf.Bytes()), nil
}

// readLoop is the session's only reader once it runs on WebSocket.
func (s *Conn) readLoop(conn *websocket.Conn) {
	for {
		mt, data, err := s.readMessage(conn)
		if err != nil {
			switch {
			case errors.Is(err, errPayloadTooLarge):
				s.srv.metrics.payloadRejected.WithLabelValues("websocket").Inc()
				s.close(ReasonPayloadTooLarge, closeNow)
			case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived):
				s.close(ReasonTransportClose, closeNow)
			default:
				if _, ok := err.(*websocket.CloseError); ok {
					s.close(ReasonTransportClose, closeNow)
				} else {
					s.close(ReasonTransportError, closeNow)
				}
			}
			return
		}
		var p Packet
		if mt == websocket.BinaryMessage {
			p = DecodeBinary(data)
		} else if p, err = DecodeText(data); err != nil {
			s.close(ReasonParseError, closeNow)
			return
		}
		s.srv.metrics.received(len(data))
		if err := s.onPacket(p); err != nil {
			s.close(ReasonParseError, closeNow)
			return
		}
		if s.isClosed() {
			s.mu.Lock()
			byClient := s.mode == closeByClient
			s.mu.Unlock()
			if byClient {
				conn.NetConn().Close()
			}
			return
		}
	}
}
