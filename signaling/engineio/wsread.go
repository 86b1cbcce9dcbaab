package engineio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// The WebSocket read path. After gorilla's upgrade handshake the hub reads
// the connection itself, through wsDecoder:
//
//   - an idle connection's reader is parked in the network poller with a
//     shallow stack and no buffer: it holds no read buffer and no gorilla
//     Conn between messages;
//   - once the socket is readable it takes a pooled buffer and reads as
//     much as the kernel has in one system call, then decodes every whole
//     frame in it; only a frame not yet complete keeps the buffer (grown
//     to the frame's size, at most MaxPayload and a header) across reads.

// readBufSize is the pooled read buffer: a burst of small messages (a
// relay, a signal) is read in one call.
const readBufSize = 4 << 10

// readBufs pools read buffers of readBufSize.
var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// wsReader reads one WebSocket connection's messages. One goroutine.
type wsReader struct {
	nc  net.Conn
	rc  syscall.RawConn // nil when the connection has no descriptor (TLS, pipes): plain reads
	dec *wsDecoder

	bp       *[]byte // the pooled buffer, nil while parked
	buf      []byte  // the buffer: bytes [off, end) are read and not yet consumed
	off, end int

	// fill is the read callback given to rc.Read, made once: it takes a
	// buffer only when the socket has data.
	fill  func(fd uintptr) bool
	nread int
	rerr  error

	fd int // the descriptor, -1 without one
	// idle, once set (by the read loop), bounds a wait for data with no
	// frame pending: next then returns errIdle, and the loop may hand the
	// connection to the parker. dl is the read deadline set on the
	// connection, zero for none; it is moved only when less than idle/2
	// is left, so a busy connection sets it about every idle/2, not per
	// message, and is parked after idle/2 to idle without data.
	idle time.Duration
	dl   time.Time
	// parked and inSet (registered in the epoll set) are the parker's,
	// guarded by its lock.
	parked, inSet bool
}

// errIdle: no data came within wsReader.idle.
var errIdle = errors.New("engineio: idle")

// idleHandoff is how long a WebSocket reader waits for data before its
// connection is parked with no goroutine: a conversation in progress is
// never parked, an idle connection costs no stack.
const idleHandoff = 250 * time.Millisecond

func newWSReader(nc net.Conn, maxPayload int) *wsReader {
	r := &wsReader{nc: nc, dec: newWSDecoder(maxPayload), fd: -1}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			r.rc = rc
			r.fill = r.readFD
			rc.Control(func(fd uintptr) { r.fd = int(fd) })
		}
	}
	return r
}

// next returns the next message or control frame. Its data aliases the
// reader's buffer until the next call.
func (r *wsReader) next() (wsMessage, error) {
	for {
		if r.off < r.end {
			msg, n, need, ok, err := r.dec.next(r.buf[r.off:r.end])
			if err != nil {
				return wsMessage{}, err
			}
			r.off += n
			if ok {
				return msg, nil
			}
			if n > 0 {
				continue
			}
			r.room(need)
		} else if r.bp != nil || r.buf != nil {
			r.release()
		}
		if err := r.read(); err != nil {
			return wsMessage{}, err
		}
	}
}

// room makes the buffer hold need bytes from off.
func (r *wsReader) room(need int) {
	if r.off > 0 {
		r.end = copy(r.buf, r.buf[r.off:r.end])
		r.off = 0
	}
	if need > len(r.buf) {
		b := make([]byte, max(need, 2*len(r.buf)))
		end := copy(b, r.buf[:r.end])
		r.release() // the pooled one goes back; b is dropped when done
		r.buf, r.end = b, end
	}
}

// release gives the buffer back once everything read was consumed.
func (r *wsReader) release() {
	if r.bp != nil {
		readBufs.Put(r.bp)
	}
	r.bp, r.buf, r.off, r.end = nil, nil, 0, 0
}

// read reads what the socket has into the buffer, taking a pooled one if
// none is held; with no data yet it waits, parked, holding no buffer.
func (r *wsReader) read() error {
	if r.rc == nil {
		r.take()
		n, err := r.nc.Read(r.buf[r.end:])
		r.end += n
		if n > 0 {
			return nil
		}
		return err
	}
	r.nread, r.rerr = 0, nil
	// A wait with no frame pending is bounded by idle; one in the middle
	// of a frame is not.
	idle := r.buf == nil && r.idle > 0
	if idle {
		if now := time.Now(); r.dl.Sub(now) < r.idle/2 {
			r.dl = now.Add(r.idle)
			r.nc.SetReadDeadline(r.dl)
		}
	} else if !r.dl.IsZero() {
		r.dl = time.Time{}
		r.nc.SetReadDeadline(r.dl)
	}
	if err := r.rc.Read(r.fill); err != nil {
		if idle && errors.Is(err, os.ErrDeadlineExceeded) {
			return errIdle
		}
		return err
	}
	if r.rerr != nil {
		return r.rerr
	}
	if r.nread == 0 {
		return io.EOF
	}
	r.end += r.nread
	return nil
}

func (r *wsReader) take() {
	if r.buf == nil {
		r.bp = readBufs.Get().(*[]byte)
		r.buf = *r.bp
	}
}

// readFD is the callback of rc.Read: one read(2); false asks the poller to
// wait for readability and call again.
func (r *wsReader) readFD(fd uintptr) bool {
	idle := r.buf == nil
	r.take()
	for {
		n, err := syscall.Read(int(fd), r.buf[r.end:])
		switch err {
		case nil:
			r.nread = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if idle {
				r.release()
			}
			return false
		default:
			r.rerr = err
			return true
		}
	}
}
