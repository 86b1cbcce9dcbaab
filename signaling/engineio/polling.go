package engineio

import (
	"io"
	"math"
	"net/http"
	"time"
)

// claim marks a polling request in flight: inFlight is s.polling or
// s.posting. A second request of the kind while one is in flight closes
// the session with reason. On success it returns with s.mu held; on
// failure it has answered the request.
func (s *Conn) claim(w http.ResponseWriter, inFlight *bool, reason string) bool {
	s.mu.Lock()
	if s.state != stateOpen || s.transport != transportPolling {
		// A GET that found the session just before a close it did not
		// see is the GET that close owes its goodbye (it may not have
		// left its tombstone yet).
		final := inFlight == &s.polling && s.state != stateOpen && !s.polling && s.owesFinalPollLocked()
		s.mu.Unlock()
		if final {
			s.srv.takeTombstone(s.sid)
			s.servePollFinal(w)
			return false
		}
		httpError(w, errBadRequest)
		return false
	}
	if *inFlight {
		s.mu.Unlock()
		s.close(reason, closeGraceful)
		httpError(w, errBadRequest)
		return false
	}
	*inFlight = true
	return true
}

// servePollGet answers a long-polling GET: it waits until something is
// queued (or the session closes, or an upgrade starts) and sends all of it
// as one payload.
func (s *Conn) servePollGet(w http.ResponseWriter, r *http.Request) {
	// Two GETs at once: the protocol says close the session; the GET in
	// flight receives the close packet.
	if !s.claim(w, &s.polling, ReasonDuplicatePoll) {
		return
	}
	select { // a stale wake-up from before this GET means nothing
	case <-s.pollWake:
	default:
	}
	if s.upgrading {
		// A GET during an upgrade: the client is about to finish it. Give
		// it a moment, as the reference server does (it checks every
		// 100ms); after the upgrade the GET is refused.
		s.mu.Unlock()
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-s.pollWake:
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
		s.mu.Lock()
		if s.transport != transportPolling {
			s.polling = false
			s.mu.Unlock()
			httpError(w, errBadRequest)
			return
		}
	}
	for s.prio.bytes+s.bcast.bytes == 0 && s.state == stateOpen && !s.upgrading && s.transport == transportPolling {
		s.mu.Unlock()
		select {
		case <-s.pollWake:
		case <-r.Context().Done():
			s.mu.Lock()
			s.polling = false
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
	}
	batch := s.takeLocked(math.MaxInt)
	s.doneLocked() // the response body takes it all at once
	closed, mode := s.state != stateOpen, s.mode
	s.polling = false
	s.mu.Unlock()
	s.writePoll(w, batch, closed, mode)
}

// servePollFinal answers the GET that follows a close, from a tombstone.
func (s *Conn) servePollFinal(w http.ResponseWriter) {
	s.mu.Lock()
	batch := s.takeLocked(math.MaxInt)
	s.doneLocked() // the response body takes it all at once
	mode := s.mode
	s.mu.Unlock()
	s.writePoll(w, batch, true, mode)
}

// writePoll writes a GET's payload: the queued packets, or else a noop, or
// else the close packet once the session is closed.
func (s *Conn) writePoll(w http.ResponseWriter, batch []Frame, closed bool, mode closeMode) {
	pkts := make([]Packet, len(batch))
	n := 1
	for i, f := range batch {
		pkts[i] = f.pollPacket()
		n += EncodedLen(pkts[i]) + 1
	}
	buf := AppendPayload(make([]byte, 0, n), pkts)
	switch {
	case len(buf) == 0 && closed && mode != closeByClient:
		buf = append(buf, closeFrame...)
	case len(buf) == 0:
		buf = append(buf, noopFrame...)
	case closed && mode != closeByClient:
		// The close packet goes in the next GET, as the reference server
		// sends it: socket.io-client acts on a close packet at once but
		// on the packets before it a tick later, so in one payload a
		// DISCONNECT would arrive after the transport closed, and the
		// client would first see "transport close" and try to reconnect.
		s.srv.addTombstone(s)
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Write(buf)
	s.srv.metrics.wrote(len(buf))
}

// pollPacket is the frame as an Engine.IO packet for a polling payload
// (a text frame holds its type digit; a binary frame is a message).
func (f Frame) pollPacket() Packet {
	if f.op == opBinary {
		return Packet{Type: Message, Data: f.data, Binary: true}
	}
	return Packet{Type: PacketType(f.data[0] - '0'), Data: f.data[1:]}
}

// servePollPost reads one payload from the client. Only one POST may be in
// flight; the body is bounded by MaxPayload.
func (s *Conn) servePollPost(w http.ResponseWriter, r *http.Request) {
	if !s.claim(w, &s.posting, ReasonTransportError) {
		return
	}
	// A body that stalls ends within ReadTimeout, and at once when
	// Shutdown runs out of time: a client cannot hold the request, its
	// connection or a graceful shutdown open.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(s.srv.cfg.ReadTimeout))
	s.post = rc
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.post = nil
		s.mu.Unlock()
	}()

	limit := int64(s.srv.cfg.MaxPayload)
	if r.ContentLength > limit {
		s.rejectPayload(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		s.close(ReasonTransportError, closeNow)
		httpError(w, errBadRequest)
		return
	}
	if int64(len(body)) > limit {
		s.rejectPayload(w)
		return
	}
	s.srv.metrics.received(len(body))
	err = DecodePayload(body, s.onPacket)
	if err != nil {
		s.close(ReasonParseError, closeGraceful)
		httpError(w, errBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	io.WriteString(w, "ok")
}

func (s *Conn) rejectPayload(w http.ResponseWriter) {
	s.srv.metrics.payloadRejected.WithLabelValues("polling").Inc()
	s.close(ReasonPayloadTooLarge, closeGraceful)
	httpError(w, errPayloadHTTP)
}

// serveHandshake opens a polling session; the response is the open packet.
func (srv *Server) servePollHandshake(w http.ResponseWriter, r *http.Request, ip string) {
	if !srv.admit(ip) {
		httpError(w, errTooManyConns)
		return
	}
	s := srv.newSession(r, ip, transportPolling)
	upgrades := []string{"websocket"}
	if srv.cfg.DisableWebSocket {
		upgrades = nil
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Write(srv.openPacket(s.sid, upgrades))
}

func (srv *Server) openPacket(sid string, upgrades []string) []byte {
	if upgrades == nil {
		upgrades = []string{}
	}
	return AppendHandshake([]byte{'0'}, Handshake{
		SID:          sid,
		Upgrades:     upgrades,
		PingInterval: int(srv.cfg.PingInterval / time.Millisecond),
		PingTimeout:  int(srv.cfg.PingTimeout / time.Millisecond),
		MaxPayload:   srv.cfg.MaxPayload,
	})
}
