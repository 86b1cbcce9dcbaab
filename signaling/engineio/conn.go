package engineio

// The Conn API the layer above uses. Every method is safe for concurrent
// use and none blocks on the client.

// ID is the session id (the Engine.IO sid).
func (s *Conn) ID() string { return s.sid }

// IP is the client's IP address, as Config.ClientIP told it.
func (s *Conn) IP() string { return s.ip }

// RemoteAddr is the handshake request's remote address.
func (s *Conn) RemoteAddr() string { return s.remoteAddr }

// Transport is the session's transport now: "polling" or "websocket".
func (s *Conn) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport.String()
}

// Send queues frames for this one client on the priority lane, ahead of
// any queued broadcast: control packets, acks, 1:1 messages. It reports
// false if they were not queued: the session is closed; the packet alone
// is bigger than Config.MaxQueueBytes (dropped and counted, the client
// stays); or the client's queue is full (it is cut off as a slow
// consumer).
func (s *Conn) Send(f Frame, more ...Frame) bool {
	_, ok := s.send(true, false, f, more)
	return ok
}

// SendVolatile is Send for a packet that may be lost: it is dropped
// (OnDrop with DropVolatile, reporting false) unless the client is ready
// to take it at once.
func (s *Conn) SendVolatile(f Frame, more ...Frame) bool {
	_, ok := s.send(true, true, f, more)
	return ok
}

// Ready tells the server the session is in use (Socket.IO: the client
// joined a namespace): Config.ReadyTimeout no longer applies.
func (s *Conn) Ready() {
	s.mu.Lock()
	s.ready = true
	s.mu.Unlock()
	s.srv.hb.remove(&s.cn)
}

// Close closes the session gracefully with reason: what is queued is
// still written, then the client is told goodbye. Later calls do nothing.
func (s *Conn) Close(reason string) { s.close(reason, closeGraceful) }

// Closed reports whether the session has closed.
func (s *Conn) Closed() bool { return s.isClosed() }

// ConnState is a snapshot of a session's transport, for consoles and
// tests.
type ConnState struct {
	Transport string
	Closed    bool
	// Polling and Posting: a long-polling GET, a POST in flight.
	Polling, Posting bool
	// Writing: a writer holds the connection now.
	Writing bool
	// Parked: the WebSocket is idle and has no reader goroutine (Linux).
	Parked bool
	// Priority and Broadcast are the bytes each lane holds; InFlight what
	// the writer of the moment has taken and not yet written.
	Priority, Broadcast, InFlight int
}

// State returns a snapshot of the session's transport.
func (s *Conn) State() ConnState {
	s.mu.Lock()
	st := ConnState{
		Transport: s.transport.String(),
		Closed:    s.state != stateOpen,
		Polling:   s.polling,
		Posting:   s.posting,
		Writing:   s.writing,
		Priority:  s.prio.bytes,
		Broadcast: s.bcast.bytes,
		InFlight:  s.inflight,
	}
	rd := s.rd
	s.mu.Unlock()
	st.Parked = s.srv.park.isParked(rd)
	return st
}

// Abort closes the session at once with reason, dropping what is queued
// and the connection under it, as a network failure would.
func (s *Conn) Abort(reason string) { s.close(reason, closeNow) }
