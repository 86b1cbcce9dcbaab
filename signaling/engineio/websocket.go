package engineio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

var errUnexpectedPacket = errors.New("engineio: unexpected packet")

// controlBufs lends gorilla a write buffer for the rare frames it writes
// itself (the refusal of a second upgrade), instead of one per connection.
var controlBufs = &sync.Pool{}

// upgrader does the WebSocket handshake; after it the hub reads and
// writes the connection itself (wsread.go, writer.go) and keeps no
// gorilla Conn.
func (srv *Server) upgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		ReadBufferSize:  256,                                      // never read through: the handshake's own buffer
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
		nc := conn.NetConn()
		rd := newWSReader(nc, srv.cfg.MaxPayload)
		if !s.probe(nc, rd) {
			srv.metrics.upgrades.WithLabelValues("failed").Inc()
			nc.Close()
			return
		}
		srv.metrics.upgrades.WithLabelValues("ok").Inc()
		srv.goRead(s)
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
	nc := conn.NetConn()
	s := srv.newSession(r, ip, transportWebSocket)
	s.mu.Lock() // the heartbeat or Shutdown may reach the session already
	s.nc, s.rd = nc, newWSReader(nc, srv.cfg.MaxPayload)
	s.mu.Unlock()
	s.Send(Frame{data: srv.openPacket(s.sid, nil), op: opText})
	srv.goRead(s)
}

// goRead runs the read loop in a goroutine of its own and lets the HTTP
// handler return: net/http then frees the request, the response and its
// buffers, which it would otherwise keep for the connection's whole life
// (about 12 KB per connection).
func (srv *Server) goRead(s *Conn) {
	srv.conns.Add(1)
	go srv.readOn(s)
}

// readOn runs s's read loop; a session that parks keeps its count on
// srv.conns for the reader that takes it up again (see parker). s.rd is
// set before the first reader starts and never changes.
func (srv *Server) readOn(s *Conn) {
	if !s.readLoop(s.rd) {
		srv.conns.Done()
	}
}

// probe runs the upgrade handshake on nc: "2probe" → "3probe", then
// "5" switches the session over. The polling GET in flight gets a noop.
// What the client sends right after "5" stays in rd for the read loop.
func (s *Conn) probe(nc net.Conn, rd *wsReader) bool {
	fail := func() bool {
		s.mu.Lock()
		s.upgrading = false
		s.mu.Unlock()
		return false
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for step := 0; step < 2; step++ {
		msg, err := rd.next()
		for err == nil && (msg.op == wsOpPing || msg.op == wsOpPong) {
			msg, err = rd.next()
		}
		if err != nil || msg.op != wsOpText {
			return fail()
		}
		switch {
		case step == 0 && string(msg.data) == "2probe":
			if err := writeFrames(nc, []Frame{{data: probeReply, op: opText}}, time.Now().Add(s.srv.cfg.WriteTimeout)); err != nil {
				return fail()
			}
			s.mu.Lock()
			s.kickLocked() // the GET in flight answers noop
			s.mu.Unlock()
		case step == 1 && string(msg.data) == "5":
		default:
			return fail()
		}
	}
	nc.SetReadDeadline(time.Time{})
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return false
	}
	s.upgrading = false
	s.transport = transportWebSocket
	s.nc, s.rd = nc, rd
	var start net.Conn
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

// readLoop is the session's only reader once it runs on WebSocket. It
// returns true when it parked the connection (see parker): another
// goroutine reads it from then on.
func (s *Conn) readLoop(rd *wsReader) (parked bool) {
	if s.srv.park != nil && rd.fd >= 0 {
		rd.idle = idleHandoff
	}
	for {
		msg, err := rd.next()
		if err == errIdle {
			if s.srv.park.park(s, rd) {
				return true // rd is the next reader's now
			}
			rd.idle = 0 // read on, parked in the poller
			continue
		}
		if err != nil {
			rd.release()
			switch {
			case errors.Is(err, errWSTooLarge):
				s.srv.metrics.payloadRejected.WithLabelValues("websocket").Inc()
				s.close(ReasonPayloadTooLarge, closeNow)
			case errors.Is(err, io.EOF):
				s.close(ReasonTransportClose, closeNow)
			default:
				s.close(ReasonTransportError, closeNow)
			}
			return false
		}
		var p Packet
		switch msg.op {
		case wsOpPing:
			// Control frames go through the writer, like every write.
			s.Send(Frame{data: bytes.Clone(msg.data), op: opPong})
			continue
		case wsOpPong:
			continue
		case wsOpClose:
			rd.release()
			s.close(ReasonTransportClose, closeNow)
			return false
		case wsOpBinary:
			p = DecodeBinary(bytes.Clone(msg.data))
		default:
			if p, err = DecodeText(bytes.Clone(msg.data)); err != nil {
				rd.release()
				s.close(ReasonParseError, closeNow)
				return false
			}
		}
		s.srv.metrics.received(len(msg.data))
		if err := s.onPacket(p); err != nil {
			rd.release()
			s.close(ReasonParseError, closeNow)
			return false
		}
		if s.isClosed() {
			rd.release()
			s.mu.Lock()
			byClient := s.mode == closeByClient
			s.mu.Unlock()
			if byClient {
				rd.nc.Close()
			}
			return false
		}
	}
}
