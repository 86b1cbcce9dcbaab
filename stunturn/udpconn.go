package stunturn

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// udpConn is the UDP listening socket as pion sees it: every datagram
// passes the gate on the way in, and every response is counted on the way
// out. pion reads it from one goroutine of its own.
type udpConn struct {
	s    *Server
	conn *net.UDPConn

	fl      inflight
	scratch gateScratch // reader only
	exit    sync.Once
}

// ReadFrom implements net.PacketConn.
func (c *udpConn) ReadFrom(p []byte) (int, net.Addr, error) {
	c.s.finish(&c.fl, transportUDP)
	for failures := 0; ; {
		n, src, err := c.conn.ReadFromUDP(p)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				c.exit.Do(c.s.loops.Done) // pion's read loop ends with this error
				return 0, nil, err
			}
			// pion would end its read loop, and the UDP port would go
			// deaf. Nothing in a UDP socket's errors is worth that.
			failures++
			c.s.log.Warn("stunturn: UDP read failed", "err", err)
			time.Sleep(min(time.Duration(failures)*10*time.Millisecond, time.Second))
			continue
		}
		failures = 0
		v := c.s.inspect(p[:n], src, c.conn.LocalAddr(), transportUDP, &c.scratch)
		switch {
		case v.reply != nil:
			c.s.countReply(&v, transportUDP)
			_, _ = c.conn.WriteToUDP(v.reply, src)
			continue
		case v.drop:
			continue
		case v.request:
			c.s.begin(&c.fl, &v, src, c.conn.LocalAddr())
		}
		return n, src, nil
	}
}

// WriteTo implements net.PacketConn: responses from pion's read loop, and
// relayed data from its allocation goroutines.
func (c *udpConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.s.observeWrite(&c.fl, p, transportUDP)
	return c.conn.WriteTo(p, addr)
}

func (c *udpConn) Close() error                       { return c.conn.Close() }
func (c *udpConn) LocalAddr() net.Addr                { return c.conn.LocalAddr() }
func (c *udpConn) SetDeadline(t time.Time) error      { return c.conn.SetDeadline(t) }
func (c *udpConn) SetReadDeadline(t time.Time) error  { return c.conn.SetReadDeadline(t) }
func (c *udpConn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// listenUDPAndTCP binds UDP and TCP to the same port: workers UDP sockets
// sharing it (SO_REUSEPORT when more than one) and one TCP listener. Port
// 0 picks a port that is free for both.
func listenUDPAndTCP(host string, port uint16, workers int) ([]*net.UDPConn, *net.TCPListener, error) {
	udpNet, tcpNet := "udp", "tcp"
	if ip, err := netipParse(host); err == nil {
		if ip.Is4() {
			udpNet, tcpNet = "udp4", "tcp4"
		} else {
			udpNet, tcpNet = "udp6", "tcp6"
		}
	}
	lc := net.ListenConfig{}
	if workers > 1 {
		lc.Control = reusePort
	}
	ctx := context.Background()
	var lastErr error
	for range 16 { // port 0: the free UDP port may be taken for TCP; try another
		first, err := lc.ListenPacket(ctx, udpNet, joinHostPort(host, port))
		if err != nil {
			return nil, nil, err
		}
		conns := []*net.UDPConn{first.(*net.UDPConn)}
		closeAll := func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}
		bound := uint16(first.LocalAddr().(*net.UDPAddr).Port)
		tcp, err := lc.Listen(ctx, tcpNet, joinHostPort(host, bound))
		if err != nil {
			closeAll()
			if lastErr = err; port != 0 {
				return nil, nil, err
			}
			continue
		}
		for len(conns) < workers {
			pc, err := lc.ListenPacket(ctx, udpNet, joinHostPort(host, bound))
			if err != nil {
				closeAll()
				_ = tcp.Close()
				return nil, nil, err
			}
			conns = append(conns, pc.(*net.UDPConn))
		}
		return conns, tcp.(*net.TCPListener), nil
	}
	return nil, nil, lastErr
}
