package signaling

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/noomrtc/noom/signaling/engineio"
)

// A session is one Engine.IO connection. It owns its transport: exactly one
// goroutine reads (the WebSocket read loop, or the one POST in flight) and
// exactly one writes (the WebSocket writer, started on demand and gone when
// the queue is empty, or the one GET in flight). Senders only append to the
// byte-bounded queue under mu and never block.

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

// frame is one queued Engine.IO packet, already encoded: for text, the type
// digit and data; for binary, the raw bytes. Broadcasts share data.
type frame struct {
	data []byte
	op   uint8
}

// queued counts a frame's bytes toward the queue bound, with a small
// per-frame overhead so that floods of empty frames are bounded too.
func (f frame) cost() int { return len(f.data) + 16 }

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

type session struct {
	srv    *Server
	sid    string
	ip     string
	client *client

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
	queue     []frame
	queued    int
	pollWake  chan struct{} // one slot: wakes the GET in flight; nil for WebSocket-only sessions
	polling   bool          // a GET is in flight
	posting   bool          // a POST is in flight
	ws        *websocket.Conn
	writing   bool // a WebSocket writer runs: a goroutine, or a sender writing inline

	// raw is the WebSocket's file descriptor access for non-blocking
	// writes; only the writer of the moment touches it.
	raw syscall.RawConn
	// lastWrite is when the writer of the moment last wrote, for
	// Config.PacketGap.
	lastWrite time.Time

	closed atomic.Bool // set once the session closes; readable without mu
	wg     sync.WaitGroup
}

func newSession(srv *Server, sid, ip string, t transportKind) *session {
	s := &session{
		srv:       srv,
		sid:       sid,
		ip:        ip,
		transport: t,
	}
	s.hb.s, s.cn.s = s, s
	if t == transportPolling { // a WebSocket session never polls: no channel
		s.pollWake = make(chan struct{}, 1)
	}
	return s
}

func (s *session) startTimers(now time.Time) {
	due := s.srv.hb.schedule(&s.hb, duePing, now)
	s.expires.Store(due.Add(s.srv.cfg.PingTimeout).UnixNano())
	if s.srv.cfg.Raw == nil {
		s.srv.hb.schedule(&s.cn, dueConnect, now)
	}
}

func (s *session) rawReply(data []byte, binary bool) {
	if binary {
		s.sendDirect(frame{data: data, op: opBinary})
		return
	}
	s.sendDirect(frame{data: append([]byte{'4'}, data...), op: opText})
}

// expired reports whether the heartbeat deadline has passed: a request that
// arrives after it must see a closed session even if the heartbeat
// goroutine has not got to it yet.
func (s *session) expired(now time.Time) bool {
	return now.UnixNano() > s.expires.Load()
}

// onDeadline runs on the heartbeat goroutine; it must not block.
func (s *session) onDeadline(k deadlineKind, now time.Time) {
	switch k {
	case duePing:
		due := s.srv.hb.schedule(&s.hb, duePong, now)
		s.expires.Store(due.UnixNano())
		s.sendDirect(frame{data: pingFrame, op: opText})
	case duePong:
		go s.close(ReasonPingTimeout, closeNow)
	case dueConnect:
		if s.client.namespaceCount() == 0 {
			go s.close(ReasonConnectTimeout, closeGraceful)
		}
	}
}

func (s *session) onPong(now time.Time) {
	due := s.srv.hb.schedule(&s.hb, duePing, now)
	s.expires.Store(due.Add(s.srv.cfg.PingTimeout).UnixNano())
}

var (
	pingFrame  = []byte{'0' + byte(engineio.Ping)}
	pongFrame  = []byte{'0' + byte(engineio.Pong)}
	noopFrame  = []byte{'0' + byte(engineio.Noop)}
	closeFrame = []byte{'0' + byte(engineio.Close)}
	probeReply = []byte("3probe")
)

// sendDirect queues control packets, acks and other packets meant for this
// one client on the priority lane: they go before any queued broadcast.
func (s *session) sendDirect(f frame, more ...frame) bool { return s.send(f, false, true, more...) }

// sendTo queues an event for this one client (a 1:1 message) on the
// priority lane; a volatile one is dropped when the client is not ready.
func (s *session) sendTo(f frame, volatile bool, more ...frame) bool {
	return s.send(f, volatile, true, more...)
}

// sendBroadcast queues one recipient's share of a broadcast that reaches
// recipients sockets, on the broadcast lane.
func (s *session) sendBroadcast(f frame, volatile bool, recipients int, more ...frame) bool {
	return s.send(f, volatile, recipients <= inlineRecipients, more...)
}

// send queues frames for the client without blocking. It returns false if
// the session is closed, or if the frames would overflow the queue, in which
// case the session is closed as a slow consumer. A volatile send is dropped
// (returning false) when the transport is not ready to write at once.
//
// On WebSocket, when no writer is running: with inline set (one recipient,
// or a call room), the sender writes the frames itself with one
// non-blocking write (writeNow); otherwise (a broadcast to many) the
// server's flusher writes them. Either hands what the socket does not take
// to a writer goroutine (writeLoop).
func (s *session) send(f frame, volatile, inline bool, more ...frame) bool {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return false
	}
	if volatile && (s.queued > 0 || (s.transport == transportPolling && !s.polling)) {
		s.mu.Unlock()
		s.srv.metrics.volatileDropped.Inc()
		return false
	}
	cost := f.cost()
	for _, m := range more {
		cost += m.cost()
	}
	if s.queued+cost > s.srv.cfg.MaxQueueBytes {
		s.mu.Unlock()
		go s.close(ReasonSlowConsumer, closeNow) // counted there, once
		return false
	}
	s.queue = append(s.queue, f)
	s.queue = append(s.queue, more...)
	s.queued += cost
	if inline && s.transport == transportWebSocket && s.ws != nil && !s.writing && s.srv.cfg.PacketGap == 0 && s.queued <= inlineMax {
		// Nobody is writing: become the writer for one non-blocking write.
		s.writing = true
		batch, ws := s.queue, s.ws
		s.queue, s.queued = nil, 0
		s.mu.Unlock()
		s.writeNow(ws, batch)
		return true
	}
	if s.transport == transportWebSocket && s.ws != nil && !s.writing && s.srv.cfg.PacketGap == 0 {
		// A broadcast: the server's flusher writes for this session soon,
		// without a goroutine of its own.
		s.writing = true
		s.wg.Add(1)
		s.mu.Unlock()
		s.srv.flush.add(s)
		return true
	}
	start := s.kickLocked()
	s.mu.Unlock()
	if start != nil {
		go s.writeLoop(start)
	}
	return true
}

// kickLocked wakes the writer: the GET in flight, or a new WebSocket writer
// goroutine, which it returns for the caller to start outside the lock.
func (s *session) kickLocked() *websocket.Conn {
	if s.transport == transportWebSocket && s.ws != nil {
		if !s.writing {
			s.writing = true
			s.wg.Add(1)
			return s.ws
		}
		return nil
	}
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
	return nil
}

// close ends the session once; later calls do nothing. It never blocks on
// the network: a graceful close hands the goodbye to the writer.
func (s *session) close(reason string, mode closeMode) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.state, s.reason, s.mode = stateClosed, reason, mode
	if reason == ReasonSlowConsumer {
		s.srv.metrics.slowConsumers.Inc()
	}
	var start, drop *websocket.Conn
	if s.ws != nil {
		if mode == closeGraceful {
			start = s.kickLocked()
		} else {
			drop = s.ws
		}
	} else {
		s.kickLocked()
	}
	// With no GET in flight, the next GET still gets the goodbye: a noop if
	// the client closed, or what a graceful close left queued (such as a
	// DISCONNECT), then the close packet. With nothing queued the session
	// is simply gone (400), as the reference server does after an error.
	tombstone := s.transport == transportPolling && s.ws == nil && !s.polling &&
		(mode == closeByClient || (mode == closeGraceful && len(s.queue) > 0))
	s.mu.Unlock()
	s.closed.Store(true)
	if tombstone {
		s.srv.addTombstone(s)
	}
	if start != nil {
		go s.writeLoop(start)
	}
	if drop != nil {
		drop.NetConn().Close()
	}
	s.srv.hb.remove(&s.hb)
	s.srv.hb.remove(&s.cn)
	s.srv.removeSession(s, reason)
	s.client.onClose(reason)
}

func (s *session) isClosed() bool { return s.closed.Load() }

// onPacket handles one packet from the client, on the reading goroutine.
func (s *session) onPacket(p engineio.Packet) error {
	switch p.Type {
	case engineio.Pong:
		s.onPong(time.Now())
	case engineio.Ping:
		s.sendDirect(frame{data: append([]byte{'3'}, p.Data...), op: opText})
	case engineio.Message:
		if raw := s.srv.cfg.Raw; raw != nil {
			raw(p.Data, p.Binary, s.rawReply)
			return nil
		}
		return s.client.onMessage(p)
	case engineio.Close:
		s.close(ReasonTransportClose, closeByClient)
	case engineio.Noop:
	default:
		return errUnexpectedPacket
	}
	return nil
}
