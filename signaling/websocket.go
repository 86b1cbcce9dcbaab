package signaling

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/noomrtc/noom/signaling/engineio"
)

var errUnexpectedPacket = errors.New("signaling: unexpected packet")

// writeBufs pools the buffered writers of WebSocket writers: an idle
// connection holds no write buffer.
var writeBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8<<10) }}

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
		s := srv.lookup(sid)
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
	s.ws = conn
	srv.setupConn(s, conn)
	s.sendDirect(frame{data: srv.openPacket(s.sid, nil), op: opText})
	srv.goRead(s, conn)
}

// goRead runs the read loop in a goroutine of its own and lets the HTTP
// handler return: net/http then frees the request, the response and its
// buffers, which it would otherwise keep for the connection's whole life
// (about 12 KB per connection).
func (srv *Server) goRead(s *session, conn *websocket.Conn) {
	srv.conns.Add(1)
	go func() {
		defer srv.conns.Done()
		s.readLoop(conn)
	}()
}

func (srv *Server) setupConn(s *session, conn *websocket.Conn) {
	// Control frames go through our writer: gorilla's defaults would write
	// from the reading goroutine.
	conn.SetPingHandler(func(data string) error {
		s.sendDirect(frame{data: []byte(data), op: opPong})
		return nil
	})
	conn.SetCloseHandler(func(int, string) error { return nil })
}

// probe runs the upgrade handshake on conn: "2probe" → "3probe", then
// "5" switches the session over. The polling GET in flight gets a noop.
func (s *session) probe(conn *websocket.Conn) bool {
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
			if err := writeFrames(conn.NetConn(), []frame{{data: probeReply, op: opText}}, s.srv.cfg.WriteTimeout); err != nil {
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
	if len(s.queue) > 0 {
		start = s.kickLocked()
	}
	select { // a GET still in flight ends with a noop
	case s.pollWake <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	s.srv.metrics.transportSwitch(transportPolling, transportWebSocket)
	if start != nil {
		go s.writeLoop(start)
	}
	return true
}

// readMessage reads one message, at most MaxPayload bytes, into a slice of
// its own.
func (s *session) readMessage(conn *websocket.Conn) (int, []byte, error) {
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
func (s *session) readLoop(conn *websocket.Conn) {
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
		var p engineio.Packet
		if mt == websocket.BinaryMessage {
			p = engineio.DecodeBinary(data)
		} else if p, err = engineio.DecodeText(data); err != nil {
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

// writeLoop drains the queue to the WebSocket: it takes everything queued,
// writes it through one pooled buffer, flushes once, and repeats until the
// queue is empty, then exits. After a graceful close it sends a close frame
// and closes the connection.
func (s *session) writeLoop(conn *websocket.Conn) {
	defer s.wg.Done()
	nc := conn.NetConn()
	for {
		s.mu.Lock()
		batch := s.queue
		if len(batch) == 0 {
			s.writing = false
			closed := s.state != stateOpen
			s.mu.Unlock()
			if closed {
				msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
				writeFrames(nc, []frame{{data: msg, op: opClose}}, time.Second)
				nc.Close()
			}
			return
		}
		s.queue, s.queued = nil, 0
		s.mu.Unlock()

		var err error
		if gap := s.srv.cfg.PacketGap; gap > 0 {
			for i := 0; i < len(batch) && err == nil; i++ {
				// The gap holds between batches too: the writer of a batch
				// may start right after the last one's write.
				time.Sleep(gap - time.Since(s.lastWrite))
				err = writeFrames(nc, batch[i:i+1], s.srv.cfg.WriteTimeout)
				s.lastWrite = time.Now()
			}
		} else {
			err = writeFrames(nc, batch, s.srv.cfg.WriteTimeout)
		}
		n := 0
		for i := range batch {
			n += len(batch[i].data)
		}
		s.srv.metrics.wrote(n)
		if err != nil {
			s.close(ReasonTransportError, closeNow)
			nc.Close()
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			return
		}
	}
}

// writeFrames writes server-to-client WebSocket frames (unmasked, final)
// through a pooled buffer, with one flush and one deadline for the batch.
func writeFrames(nc net.Conn, frames []frame, timeout time.Duration) error {
	bw := writeBufs.Get().(*bufio.Writer)
	bw.Reset(nc)
	defer func() {
		bw.Reset(nil)
		writeBufs.Put(bw)
	}()
	nc.SetWriteDeadline(time.Now().Add(timeout))
	var hdr [10]byte
	for _, f := range frames {
		if f.op != opRaw {
			bw.Write(appendFrameHeader(hdr[:0], f.op, len(f.data)))
		}
		bw.Write(f.data)
	}
	return bw.Flush()
}

func appendFrameHeader(dst []byte, op uint8, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}

// inlineMax is the most a sender writes inline; more goes to a writer
// goroutine.
const inlineMax = 64 << 10

// opRaw marks queued bytes that are already framed: the rest of a partial
// inline write.
const opRaw = 0xff

var inlineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeNow is the write path of a sender that found no writer running
// (send made it the writer): it frames batch and makes one non-blocking
// write. What the socket does not take at once — all of it when the
// client is not reading — is queued, still framed, for a writer goroutine,
// so the sender never waits for the client. Writing inline spares a
// goroutine start per delivery, and keeps a broadcast to a thousand idle
// clients from filling the scheduler's run queue ahead of everyone else.
func (s *session) writeNow(ws *websocket.Conn, batch []frame) {
	bp := inlineBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	var hdr [10]byte
	for i, f := range batch {
		buf = append(buf, appendFrameHeader(hdr[:0], f.op, len(f.data))...)
		buf = append(buf, f.data...)
		batch[i] = frame{}
	}
	n, err := s.rawWrite(ws, buf)
	if n > 0 {
		s.srv.metrics.wrote(n)
	}
	s.mu.Lock()
	if err != nil {
		s.writing = false
		s.mu.Unlock()
		s.close(ReasonTransportError, closeNow)
		ws.NetConn().Close()
	} else {
		full := n == len(buf)
		if !full {
			rest := frame{data: bytes.Clone(buf[n:]), op: opRaw}
			s.queue = append([]frame{rest}, s.queue...)
			s.queued += rest.cost()
		}
		switch {
		case !full || s.state != stateOpen:
			// The client is not keeping up (or must be told goodbye): a
			// goroutine that may block, within WriteTimeout, takes over.
			s.wg.Add(1)
			s.mu.Unlock()
			go s.writeLoop(ws)
		case len(s.queue) > 0:
			// More arrived meanwhile: the flusher comes back for it.
			s.wg.Add(1)
			s.mu.Unlock()
			s.srv.flush.add(s)
		default:
			s.writing = false
			s.mu.Unlock()
		}
	}
	if cap(buf) <= inlineMax {
		*bp = buf[:0]
		inlineBufs.Put(bp)
	}
}

// rawWrite writes b without blocking and returns how much the socket took.
// A connection without a file descriptor (TLS, tests' pipes) takes nothing
// here; the writer goroutine writes it instead.
func (s *session) rawWrite(ws *websocket.Conn, b []byte) (int, error) {
	if s.raw == nil {
		sc, ok := ws.NetConn().(syscall.Conn)
		if !ok {
			return 0, nil
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return 0, nil
		}
		s.raw = rc
	}
	var n int
	var werr error
	err := s.raw.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if werr != syscall.EINTR {
				return true // done either way: never wait for the client
			}
		}
	})
	if n < 0 {
		n = 0
	}
	if err != nil {
		return n, err
	}
	if werr == syscall.EAGAIN {
		return n, nil
	}
	return n, werr
}

// flusher is one goroutine that writes broadcasts to clients whose sockets
// have room, one non-blocking write per client, instead of a goroutine per
// client and broadcast. It yields between groups of clients, so that a
// broadcast to thousands does not keep other connections' readers waiting
// for its whole length. A client whose socket is full gets a writer
// goroutine of its own (writeLoop), which may wait for it.
type flusher struct {
	mu      sync.Mutex
	pending []*session // guarded by mu; each holds a count on its wg

	wake chan struct{} // one slot
	stop chan struct{}
	done chan struct{}
}

func newFlusher() *flusher {
	f := &flusher{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f
}

// add hands s to the flusher; the caller has set s.writing and added one
// to s.wg, which the flusher releases.
func (f *flusher) add(s *session) {
	f.mu.Lock()
	f.pending = append(f.pending, s)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// The flusher writes for flushYieldEvery clients between checks, and
// yields once it has run flushSlice without a pause.
const (
	flushYieldEvery = 32
	flushSlice      = 250 * time.Microsecond
	// flushPause must outlast a trip through the scheduler, or the timer
	// has already fired when it looks for work and the network is not
	// polled.
	flushPause = 20 * time.Microsecond
)

func (f *flusher) run() {
	defer close(f.done)
	var batch []*session
	var lastYield time.Time
	for {
		select {
		case <-f.wake:
		case <-f.stop:
			return
		}
		lastYield = time.Now()
		for {
			f.mu.Lock()
			batch, f.pending = f.pending, batch[:0]
			f.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for i, s := range batch {
				s.flushNow()
				batch[i] = nil
				if i%flushYieldEvery == flushYieldEvery-1 && time.Since(lastYield) > flushSlice {
					// Let the connections that became readable meanwhile be
					// read: the scheduler polls the network only when it
					// has nothing else to run, so park for a moment rather
					// than Gosched.
					time.Sleep(flushPause)
					lastYield = time.Now()
				}
			}
		}
	}
}

// close stops the flusher once no session is left in it (Shutdown calls
// it after every session's writers are done).
func (f *flusher) close() {
	close(f.stop)
	<-f.done
}

// flushNow writes what s has queued, for the flusher.
func (s *session) flushNow() {
	s.mu.Lock()
	batch, ws := s.queue, s.ws
	s.queue, s.queued = nil, 0
	s.mu.Unlock()
	s.writeNow(ws, batch)
	s.wg.Done()
}
