package main

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// perIPListener caps the TCP connections one remote IP may hold open at
// once: a connection past the cap is closed as soon as it is accepted.
// It counts connections (keep-alive, long-polling, WebSocket alike), not
// requests or sessions, so idle or stalled connections count too. Behind
// a reverse proxy every connection comes from the proxy: set the cap
// accordingly (the hub's per-IP session cap still sees real clients).
type perIPListener struct {
	net.Listener
	max     int
	refused atomic.Uint64

	mu sync.Mutex
	n  map[string]int // guarded by mu
}

func newPerIPListener(l net.Listener, max int) net.Listener {
	if max <= 0 {
		return l
	}
	return &perIPListener{Listener: l, max: max, n: make(map[string]int)}
}

func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteHost(c.RemoteAddr())
		l.mu.Lock()
		ok := l.n[ip] < l.max
		if ok {
			l.n[ip]++
		}
		l.mu.Unlock()
		if !ok {
			l.refused.Add(1)
			c.Close()
			continue
		}
		return &countedConn{Conn: c, release: func() { l.release(ip) }}, nil
	}
}

func (l *perIPListener) release(ip string) {
	l.mu.Lock()
	if l.n[ip]--; l.n[ip] <= 0 {
		delete(l.n, ip)
	}
	l.mu.Unlock()
}

func remoteHost(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	return hostOnly(a.String())
}

// countedConn releases its slot once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// rateLimitedWriter passes at most burst writes per interval to w and
// counts the rest, so that a flood of accept or TLS errors cannot flood
// the log; the first write after a quiet spell says how many were skipped.
type rateLimitedWriter struct {
	w        io.Writer
	burst    int
	interval time.Duration

	mu      sync.Mutex
	start   time.Time
	n       int
	skipped int
}

func (r *rateLimitedWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.start) > r.interval {
		if r.skipped > 0 {
			io.WriteString(r.w, "http: "+itoa(r.skipped)+" more errors not logged\n")
		}
		r.start, r.n, r.skipped = now, 0, 0
	}
	if r.n >= r.burst {
		r.skipped++
		return len(p), nil
	}
	r.n++
	return r.w.Write(p)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}
