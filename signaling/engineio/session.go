package engineio

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// A Conn is one Engine.IO session (one client connection). It owns its
// transport: exactly one goroutine reads (the WebSocket read loop, or the
// one POST in flight) and at any moment one writes (see lanes.go and
// writer.go). Senders only append to the bounded lanes under mu and never
// block on the client.

type transportKind uint8

const (
	transportPolling transportKind = iota
	transportWebSocket
)

func (t transportKind) String() string {
	if t == transportWebSocket {
		return "websocket"
	}
	return "polling"
}

// WebSocket opcodes used in frames.
const (
	opText   = websocket.TextMessage
	opBinary = websocket.BinaryMessage
	opClose  = websocket.CloseMessage
	opPong   = websocket.PongMessage
)

type closeMode uint8

const (
	closeNow      closeMode = iota // drop the transport at once
	closeGraceful                  // flush what is queued, then close
	closeByClient                  // the client sent a close packet
)

type sessionState uint8

const (
	stateOpen sessionState = iota
	stateClosed
)

type Conn struct {
	srv        *Server
	sid        string
	ip         string
	remoteAddr string
	h          ConnHandler // set once, before the session is published

	hb dlNode // heartbeat node: duePing or duePong; guarded by srv.hb.mu
	cn dlNode // connect-timeout node; guarded by srv.hb.mu
	// expires is the UnixNano after which the session counts as timed out
	// even if the heartbeat goroutine has not closed it yet.
	expires atomic.Int64

	mu sync.Mutex
	// mu guards the following fields.
	state     sessionState
	reason    string
	mode      closeMode
	transport transportKind
	upgrading bool
	prio      lane // control packets, acks, 1:1 messages, small rooms
	bcast     lane // fan-out to many: bounded by bytes and age too
	inflight  int  // bytes a writer has taken and not yet written
	// inflightAt is when the oldest broadcast frame the writer holds was
	// queued (UnixNano), 0 when it holds none: the age bound covers a
	// writer stuck on a client that does not read. restAt is the same for
	// the rest of a partial inline write, queued first on the priority lane.
	inflightAt, restAt int64
	takenPrio          int // frames of the batch in flight from the priority lane
	// drained, when a producer waits for this client's queue to drain, is
	// closed once it has (see backpressure.go).
	drained  chan struct{}
	pollWake chan struct{}            // one slot: wakes the GET in flight; nil for WebSocket-only sessions
	polling  bool                     // a GET is in flight
	posting  bool                     // a POST is in flight
	post     *http.ResponseController // the POST in flight, to cut a stalled body short
	nc       net.Conn                 // the WebSocket connection, once the session is on WebSocket
	rd       *wsReader                // its reader, for the parker
	// writing marks the WebSocket's one writer of the moment: a sender
	// making one non-blocking write, or the session's writer goroutine.
	// Whoever sets it owns every write to the connection until it clears it.
	writing bool

	// raw is the WebSocket's file descriptor access for non-blocking
	// writes; only the writer of the moment touches it.
	raw syscall.RawConn
	// lastWrite is when the writer of the moment last wrote, for
	// the conformance knob PacketGap.
	lastWrite time.Time

	ready bool // Ready was called; guarded by mu

	closed atomic.Bool // set once the session closes; readable without mu
	wg     sync.WaitGroup
}

func newSession(srv *Server, sid, ip, remoteAddr string, t transportKind) *Conn {
	s := &Conn{
		srv:        srv,
		sid:        sid,
		ip:         ip,
		remoteAddr: remoteAddr,
		transport:  t,
	}
	s.hb.s, s.cn.s = s, s
	if t == transportPolling { // a WebSocket session never polls: no channel
		s.pollWake = make(chan struct{}, 1)
	}
	return s
}

func (s *Conn) startTimers(now time.Time) {
	due := s.srv.hb.schedule(&s.hb, duePing, now)
	s.expires.Store(due.Add(s.srv.cfg.PingTimeout).UnixNano())
	s.mu.Lock()
	if !s.ready {
		s.srv.hb.schedule(&s.cn, dueConnect, now)
	}
	s.mu.Unlock()
}

// expired reports whether the heartbeat deadline has passed: a request that
// arrives after it must see a closed session even if the heartbeat
// goroutine has not got to it yet.
func (s *Conn) expired(now time.Time) bool {
	return now.UnixNano() > s.expires.Load()
}

// onDeadline runs on the heartbeat goroutine; it must not block.
func (s *Conn) onDeadline(k deadlineKind, now time.Time) {
	switch k {
	case duePing:
		due := s.srv.hb.schedule(&s.hb, duePong, now)
		s.expires.Store(due.UnixNano())
		s.Send(Frame{data: pingFrame, op: opText})
	case duePong:
		go s.close(ReasonPingTimeout, closeNow)
	case dueConnect:
		go s.close(ReasonConnectTimeout, closeGraceful)
	}
}

func (s *Conn) onPong(now time.Time) {
	due := s.srv.hb.schedule(&s.hb, duePing, now)
	s.expires.Store(due.Add(s.srv.cfg.PingTimeout).UnixNano())
}

var (
	pingFrame  = []byte{'0' + byte(Ping)}
	pongFrame  = []byte{'0' + byte(Pong)}
	noopFrame  = []byte{'0' + byte(Noop)}
	closeFrame = []byte{'0' + byte(Close)}
	probeReply = []byte("3probe")
)

// kickLocked wakes the writer: the GET in flight, or a new WebSocket writer
// goroutine, which it returns for the caller to start outside the lock.
func (s *Conn) kickLocked() net.Conn {
	if s.transport == transportWebSocket && s.nc != nil {
		if !s.writing {
			s.writing = true
			s.wg.Add(1)
			return s.nc
		}
		return nil
	}
	s.wakePollLocked()
	return nil
}

// wakePollLocked wakes the polling GET in flight, if any.
func (s *Conn) wakePollLocked() {
	if s.pollWake == nil {
		return
	}
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
}

// close ends the session once; later calls do nothing. It never blocks on
// the network: a graceful close hands the goodbye to the writer.
func (s *Conn) close(reason string, mode closeMode) {
	s.mu.Lock()
	if !s.markClosedLocked(reason, mode) {
		s.mu.Unlock()
		return
	}
	s.finishClose(reason, mode)
}

// markClosedLocked marks the session closed, with s.mu held, and reports
// whether this call did it. Sends fail from then on. The caller then
// calls finishClose, which releases s.mu.
func (s *Conn) markClosedLocked(reason string, mode closeMode) bool {
	if s.state != stateOpen {
		return false
	}
	s.state, s.reason, s.mode = stateClosed, reason, mode
	s.closed.Store(true)
	s.notifyDrainedLocked()
	return true
}

// finishClose does the rest of close for a session markClosedLocked has
// just marked; it is called with s.mu held and releases it.
func (s *Conn) finishClose(reason string, mode closeMode) {
	slow := reason == ReasonSlowConsumer
	queued := s.queuedLocked()
	var start, drop net.Conn
	if s.nc != nil {
		if mode == closeGraceful {
			start = s.kickLocked()
		} else {
			drop = s.nc
		}
	} else {
		s.kickLocked()
	}
	// With no GET in flight, the next GET still gets the goodbye: a noop if
	// the client closed, or what a graceful close left queued (such as a
	// DISCONNECT), then the close packet; the close packet alone when the
	// server closed on purpose and the last GET took everything before it.
	// After an error with nothing queued the session is simply gone (400),
	// as the reference server does.
	tombstone := !s.polling && s.owesFinalPollLocked()
	rd := s.rd
	s.mu.Unlock()
	if tombstone {
		s.srv.addTombstone(s)
	}
	if start != nil {
		go s.writeLoop(start)
	}
	if drop != nil {
		drop.Close()
	}
	if slow {
		s.srv.metrics.count.slowConsumers.Add(1)
		s.h.OnDrop(DropSlowConsumer, queued)
	}
	if s.srv.park.unpark(s, rd) {
		s.srv.conns.Done() // the parked reader's count: it will never run
	}
	s.srv.hb.remove(&s.hb)
	s.srv.hb.remove(&s.cn)
	s.srv.removeSession(s, reason)
	s.h.OnClose(reason)
}

// owesFinalPollLocked reports whether a closed polling session still owes
// the next GET its goodbye: a noop if the client closed, or what a
// graceful close left queued, or the close packet.
func (s *Conn) owesFinalPollLocked() bool {
	return s.transport == transportPolling && s.nc == nil &&
		(s.mode == closeByClient || (s.mode == closeGraceful && (s.queuedLocked() > 0 || serverGoodbye(s.reason))))
}

// serverGoodbye reports whether the server closes for reason on purpose
// (not after a client's error): the client is owed the close packet.
func serverGoodbye(reason string) bool {
	return reason == ReasonForcedServerClose || reason == ReasonServerShuttingDown || reason == ReasonConnectTimeout
}

func (s *Conn) isClosed() bool { return s.closed.Load() }

// onPacket handles one packet from the client, on the reading goroutine.
func (s *Conn) onPacket(p Packet) error {
	switch p.Type {
	case Pong:
		s.onPong(time.Now())
	case Ping:
		s.Send(Frame{data: append([]byte{'3'}, p.Data...), op: opText})
	case Message:
		return s.h.OnMessage(p.Data, p.Binary)
	case Close:
		s.close(ReasonTransportClose, closeByClient)
	case Noop:
	default:
		return errUnexpectedPacket
	}
	return nil
}
