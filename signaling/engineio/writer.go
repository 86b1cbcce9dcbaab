package engineio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// The WebSocket write path. At any moment a connection has at most one
// writer, the holder of session.writing:
//
//   - a sender that found nobody writing hands the session to the
//     server's flusher (flusher.go), which makes one non-blocking write of
//     everything queued (writeNow): priority frames before any fan-out
//     waiting, and a client's share of several sends in one system call;
//   - what the socket did not take, or a batch too big to write at once,
//     goes to the session's writer goroutine (writeLoop), which may wait for
//     the client within Config.WriteTimeout and the age bound, and exits
//     when the lanes are empty. An idle connection has no writer goroutine.

// writeBufs pools the buffered writers of writer goroutines: an idle
// connection holds no write buffer.
var writeBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8<<10) }}

// writeLoop drains the lanes to the WebSocket: it takes everything queued
// (priority lane first), writes it through one pooled buffer, flushes once,
// and repeats until the lanes are empty, then exits. After a graceful close
// it sends a close frame and closes the connection.
func (s *Conn) writeLoop(nc net.Conn) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if s.prio.bytes+s.bcast.bytes == 0 {
			s.writing = false
			closed := s.state != stateOpen
			s.mu.Unlock()
			if closed {
				msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
				writeFrames(nc, []Frame{{data: msg, op: opClose}}, time.Now().Add(time.Second))
				nc.Close()
			}
			return
		}
		batch := s.takeLocked(writeBatchMax)
		deadline := s.writeDeadlineLocked()
		closing := s.state != stateOpen
		s.mu.Unlock()

		var err error
		if gap := s.srv.knobs.PacketGap; gap > 0 {
			for i := 0; i < len(batch) && err == nil; i++ {
				// The gap holds between batches too: the writer of a batch
				// may start right after the last one's write.
				time.Sleep(gap - time.Since(s.lastWrite))
				err = writeFrames(nc, batch[i:i+1], deadline)
				s.lastWrite = time.Now()
			}
		} else {
			err = writeFrames(nc, batch, deadline)
		}
		s.wrote(batch, err == nil)
		if err != nil {
			reason := ReasonTransportError
			if errors.Is(err, os.ErrDeadlineExceeded) && !closing {
				reason = ReasonSlowConsumer
			}
			s.close(reason, closeNow)
			nc.Close()
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			return
		}
	}
}

// writeDeadlineLocked bounds the write of the batch just taken: within
// WriteTimeout, and, when it holds broadcasts, before the oldest of them
// is older than MaxQueueDelay.
func (s *Conn) writeDeadlineLocked() time.Time {
	d := time.Now().Add(s.srv.cfg.WriteTimeout)
	if s.inflightAt != 0 {
		if age := time.Unix(0, s.inflightAt).Add(s.srv.cfg.MaxQueueDelay); age.Before(d) {
			d = age
		}
	}
	return d
}

// wrote records a batch the writer of the moment has written (ok) or
// failed to write: bytes out, how long its oldest frame waited, and
// nothing in flight any more.
func (s *Conn) wrote(batch []Frame, ok bool) {
	n := 0
	oldest := int64(0)
	for i := range batch {
		n += len(batch[i].data)
		if at := batch[i].at; at != 0 && (oldest == 0 || at < oldest) {
			oldest = at
		}
		batch[i] = Frame{}
	}
	if ok {
		s.srv.metrics.wrote(n)
		if oldest != 0 {
			s.srv.metrics.queueDelay.Observe(time.Since(time.Unix(0, oldest)).Seconds())
		}
	}
	s.mu.Lock()
	s.doneLocked()
	s.mu.Unlock()
}

// writeFrames writes server-to-client WebSocket frames (unmasked, final)
// through a pooled buffer, with one flush and one deadline for the batch.
func writeFrames(nc net.Conn, frames []Frame, deadline time.Time) error {
	bw := writeBufs.Get().(*bufio.Writer)
	bw.Reset(nc)
	defer func() {
		bw.Reset(nil)
		writeBufs.Put(bw)
	}()
	nc.SetWriteDeadline(deadline)
	var hdr [10]byte
	for _, f := range frames {
		if f.op != opRaw {
			bw.Write(appendFrameHeader(hdr[:0], f.op, len(f.data)))
		}
		bw.Write(f.data)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	// A deadline stays on the connection: cleared, so that a later inline
	// write (which checks it too) does not fail on it.
	return nc.SetWriteDeadline(time.Time{})
}

// frameLen is the size of f framed.
func frameLen(f Frame) int {
	if f.op == opRaw {
		return len(f.data)
	}
	n := len(f.data)
	switch {
	case n < 126:
		return n + 2
	case n <= 0xffff:
		return n + 4
	default:
		return n + 10
	}
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

// inlineMax is the most a sender or the flusher writes in one
// non-blocking write; more goes to the writer goroutine.
const inlineMax = 64 << 10

// writeBatchMax is the most the writer goroutine takes for one blocking
// write: a priority frame queued meanwhile waits for no more. The writer
// goroutine serves clients whose socket was full, for whom bigger batches
// buy nothing.
const writeBatchMax = 16 << 10

// opRaw marks queued bytes that are already framed: the rest of a partial
// inline write.
const opRaw = 0xff

var inlineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeNow is the flusher's write for one session (it holds the writing
// mark): it frames batch and makes one non-blocking write. What the socket
// does not take at once — all of it when the client is not reading — goes
// back, still framed, to the head of the priority lane for the writer
// goroutine, so the flusher never waits for a client.
func (s *Conn) writeNow(nc net.Conn, batch []Frame) {
	bp := inlineBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	var hdr [10]byte
	for _, f := range batch {
		if f.op != opRaw {
			buf = append(buf, appendFrameHeader(hdr[:0], f.op, len(f.data))...)
		}
		buf = append(buf, f.data...)
	}
	n, err := s.rawWrite(nc, buf)
	full := err == nil && n == len(buf)
	if full {
		s.wrote(batch, true)
	} else {
		// Partly written: count what went out, and requeue the rest.
		if n > 0 {
			s.srv.metrics.wrote(n)
		}
		s.mu.Lock()
		if err != nil {
			s.doneLocked()
		} else {
			i, off := 0, n
			for ; i < len(batch); i++ {
				size := frameLen(batch[i])
				if off < size {
					break
				}
				off -= size
			}
			var rest []byte
			if off > 0 {
				var whole []byte
				if batch[i].op != opRaw {
					whole = appendFrameHeader(nil, batch[i].op, len(batch[i].data))
				}
				whole = append(whole, batch[i].data...)
				rest = whole[off:]
			}
			s.requeueLocked(batch, i, rest)
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	switch {
	case err != nil:
		s.writing = false
		s.mu.Unlock()
		s.close(ReasonTransportError, closeNow)
		nc.Close()
	case s.prio.bytes+s.bcast.bytes > 0 || s.state != stateOpen:
		// The client is not keeping up, more arrived meanwhile, or it must
		// be told goodbye: the writer goroutine takes over.
		s.wg.Add(1)
		s.mu.Unlock()
		go s.writeLoop(nc)
	default:
		s.writing = false
		s.mu.Unlock()
	}
	if cap(buf) <= inlineMax {
		*bp = buf[:0]
		inlineBufs.Put(bp)
	}
}

// rawWrite writes b without blocking and returns how much the socket took.
// A connection without a file descriptor (TLS, tests' pipes) takes nothing
// here; the writer goroutine writes it instead.
func (s *Conn) rawWrite(nc net.Conn, b []byte) (int, error) {
	if s.raw == nil {
		sc, ok := nc.(syscall.Conn)
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
