package stunturn

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// streamWriteTimeout ends a connection whose client stopped reading:
	// pion writes to it from the allocation's goroutine and would block.
	streamWriteTimeout = 10 * time.Second
	// maxStreamFrame is the largest frame handed to pion: its read loop
	// drops anything of its inbound MTU (1600) or more.
	maxStreamFrame = 1600 - 1
	streamBufSize  = 4096
	// magicCookie is RFC 8489's fixed header word.
	magicCookie = 0x2112A442
)

var errBadFrame = errors.New("stunturn: stream carries neither STUN nor ChannelData of a sane size")

// streamListener is a TCP or TLS listener as pion sees it. It registers
// each connection, turns away those over MaxConnections, and survives
// accept errors such as EMFILE that would end pion's accept loop.
type streamListener struct {
	s   *Server
	ln  *net.TCPListener
	tls *tls.Config // nil for plain TCP
	tr  transport

	closed chan struct{}
	once   sync.Once
	exit   sync.Once
}

// Accept implements net.Listener; pion calls it from one goroutine.
func (l *streamListener) Accept() (net.Conn, error) {
	for failures := 0; ; {
		raw, err := l.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				l.exit.Do(l.s.loops.Done) // pion's accept loop ends with this error
				return nil, err
			}
			failures++
			l.s.log.Warn("stunturn: accept failed", "transport", l.tr.String(), "err", err)
			select {
			case <-time.After(min(time.Duration(failures)*5*time.Millisecond, time.Second)):
			case <-l.closed:
			}
			continue
		}
		failures = 0
		c := newStreamConn(l.s, raw, l.tls, l.tr)
		if ok, why := l.s.st.addConn(c); !ok {
			l.s.m.connDrops[why].Inc()
			_ = raw.Close()
			continue
		}
		return c, nil
	}
}

func (l *streamListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.ln.Close()
}

func (l *streamListener) Addr() net.Addr { return l.ln.Addr() }

// streamConn is one TCP or TLS connection as pion sees it. Read hands pion
// one whole frame (STUN message or padded ChannelData) at a time, after
// the gate; Write counts responses. A connection without an allocation is
// closed after TCPIdleTimeout of client silence, or TCPAuthTimeout after
// it began to have none, whichever comes first; one with an allocation
// lives as long as the allocation does.
type streamConn struct {
	s   *Server
	raw *net.TCPConn
	c   net.Conn // raw, or a tls.Conn over it
	tr  transport
	key tupleKey

	br      *bufio.Reader // reader only
	scratch gateScratch   // reader only
	fl      inflight

	dlMu         sync.Mutex // guards the fields below, and orders the read deadline changes
	allocated    bool
	lastArm      time.Time
	noAllocSince time.Time // start, or the end of the last allocation
	authCapped   bool      // the read deadline set is noAllocSince + TCPAuthTimeout

	lastWriteArm atomic.Int64 // unix nanoseconds of the last write deadline set
	closeOnce    sync.Once
}

func newStreamConn(s *Server, raw *net.TCPConn, conf *tls.Config, tr transport) *streamConn {
	c := &streamConn{s: s, raw: raw, c: raw, tr: tr, noAllocSince: time.Now()}
	if conf != nil {
		c.c = tls.Server(raw, conf)
	}
	c.key = keyOf(raw.RemoteAddr(), raw.LocalAddr())
	c.br = bufio.NewReaderSize(c.c, streamBufSize)
	c.armIdle()
	c.armWrite()
	return c
}

// Read implements net.Conn. pion's STUNConn calls it from the
// connection's goroutine and frames what it gets again; one whole frame
// per call keeps its buffer empty.
func (c *streamConn) Read(p []byte) (int, error) {
	c.s.finish(&c.fl, c.tr)
	for {
		c.armIdle()
		frame, err := c.nextFrame()
		if err != nil {
			c.noteReadError(err)
			return 0, err
		}
		if len(frame) > maxStreamFrame || len(frame) > len(p) {
			continue // pion would drop it as over its MTU
		}
		v := c.s.inspect(frame, c.raw.RemoteAddr(), c.raw.LocalAddr(), c.tr, &c.scratch)
		switch {
		case v.reply != nil:
			c.s.countReply(&v, c.tr)
			if _, err := c.write(v.reply); err != nil {
				return 0, err
			}
			continue
		case v.drop:
			continue
		case v.request:
			c.s.begin(&c.fl, &v, c.raw.RemoteAddr(), c.raw.LocalAddr())
		}
		return copy(p, frame), nil
	}
}

// nextFrame reads one frame (RFC 8489 §6 header, or RFC 8656 §12.5
// ChannelData padded to four bytes). A frame over 4 KiB is an error: pion
// relays nothing that large. The slice is valid until the next read.
func (c *streamConn) nextFrame() ([]byte, error) {
	head, err := c.br.Peek(4)
	if err != nil {
		return nil, err
	}
	var size int
	switch {
	case head[0]&0xC0 == 0: // STUN
		if head, err = c.br.Peek(stunHeaderSize); err != nil {
			return nil, err
		}
		if binary.BigEndian.Uint32(head[4:8]) != magicCookie {
			return nil, errBadFrame
		}
		size = stunHeaderSize + int(binary.BigEndian.Uint16(head[2:4]))
	case head[0]&0xC0 == 0x40: // ChannelData 0x4000-0x7FFF, padded to 4 on streams
		size = 4 + (int(binary.BigEndian.Uint16(head[2:4]))+3)&^3
	default:
		return nil, errBadFrame
	}
	if size > streamBufSize {
		// Larger than any datagram pion relays, and than any sane STUN
		// message: not a TURN client.
		return nil, errBadFrame
	}
	frame, err := c.br.Peek(size)
	if err != nil {
		return nil, err
	}
	_, _ = c.br.Discard(size)
	return frame, nil
}

func (c *streamConn) noteReadError(err error) {
	switch {
	case errors.Is(err, errBadFrame):
		c.s.m.connDrops[connDropBadFrame].Inc()
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.dlMu.Lock()
		why := connDropIdle
		if c.authCapped {
			why = connDropUnauthenticated
		}
		c.dlMu.Unlock()
		c.s.m.connDrops[why].Inc()
	}
}

// armIdle moves the read deadline TCPIdleTimeout ahead, but not beyond
// TCPAuthTimeout after the connection began to have no allocation, unless
// an allocation lives on it. It moves it at most every eighth of the idle
// timeout, so that a busy connection does not pay for it per frame.
func (c *streamConn) armIdle() {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	if c.allocated {
		return
	}
	now := time.Now()
	if now.Sub(c.lastArm) < c.s.cfg.TCPIdleTimeout/8 {
		return
	}
	c.setDeadlineLocked(now)
}

func (c *streamConn) setDeadlineLocked(now time.Time) {
	c.lastArm = now
	deadline := now.Add(c.s.cfg.TCPIdleTimeout)
	authDeadline := c.noAllocSince.Add(c.s.cfg.TCPAuthTimeout)
	c.authCapped = !authDeadline.After(deadline)
	if c.authCapped {
		deadline = authDeadline
	}
	_ = c.raw.SetReadDeadline(deadline)
}

// setAllocated is called by state when an allocation on this connection
// is created or deleted.
func (c *streamConn) setAllocated(v bool) {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.allocated = v
	if v {
		c.authCapped = false
		_ = c.raw.SetReadDeadline(time.Time{})
		return
	}
	now := time.Now()
	c.noAllocSince = now
	c.setDeadlineLocked(now)
}

func (c *streamConn) armWrite() {
	now := time.Now()
	if now.UnixNano()-c.lastWriteArm.Load() < int64(streamWriteTimeout/8) {
		return
	}
	c.lastWriteArm.Store(now.UnixNano())
	_ = c.raw.SetWriteDeadline(now.Add(streamWriteTimeout))
}

// Write implements net.Conn: responses from pion's connection goroutine,
// relayed data from the allocation's goroutine. net.TCPConn and tls.Conn
// serialise concurrent writes.
func (c *streamConn) Write(p []byte) (int, error) {
	c.s.observeWrite(&c.fl, p, c.tr)
	return c.write(p)
}

func (c *streamConn) write(p []byte) (int, error) {
	c.armWrite()
	n, err := c.c.Write(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.s.m.connDrops[connDropWriteTimeout].Inc()
		_ = c.raw.Close() // the reader fails next, and pion ends the connection
	}
	return n, err
}

// Close implements net.Conn. pion calls it last in the connection's
// goroutine, after deleting its allocation.
func (c *streamConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		_ = c.raw.SetWriteDeadline(time.Now().Add(time.Second)) // bound a TLS close_notify
		err = c.c.Close()
		c.s.finish(&c.fl, c.tr)
		c.s.st.removeConn(c)
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// forceClose makes the connection's reader fail, so that pion ends it.
func (c *streamConn) forceClose() { _ = c.raw.Close() }

func (c *streamConn) LocalAddr() net.Addr                { return c.raw.LocalAddr() }
func (c *streamConn) RemoteAddr() net.Addr               { return c.raw.RemoteAddr() }
func (c *streamConn) SetDeadline(t time.Time) error      { return c.c.SetDeadline(t) }
func (c *streamConn) SetReadDeadline(t time.Time) error  { return c.c.SetReadDeadline(t) }
func (c *streamConn) SetWriteDeadline(t time.Time) error { return c.c.SetWriteDeadline(t) }
