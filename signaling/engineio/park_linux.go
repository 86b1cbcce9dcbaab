//go:build linux

package engineio

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// parker keeps idle WebSocket connections with no goroutine at all: a
// connection whose reader has waited idleHandoff without data registers
// its descriptor in the server's epoll set (one-shot) and its reader
// goroutine ends. One goroutine waits for the epoll descriptor through
// the runtime's network poller and starts a reader for each connection
// that becomes readable. An idle connection then costs no stack (4 KB) and
// no goroutine; a busy one never waits here, as it is read within
// idleHandoff.
//
// A parked session keeps its count on Server.conns; whoever takes it out
// of the set (a wake-up starting its reader, or its close) carries it on.
type parker struct {
	epfd int
	f    *os.File // epfd, for the runtime poller
	done chan struct{}

	n atomic.Int64 // sessions parked now

	mu    sync.Mutex
	slots []*Conn // by descriptor: the parked sessions
}

func newParker() *parker {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	if syscall.SetNonblock(fd, true) != nil {
		syscall.Close(fd)
		return nil
	}
	p := &parker{epfd: fd, f: os.NewFile(uintptr(fd), "epoll"), done: make(chan struct{})}
	rc, err := p.f.SyscallConn()
	if err != nil {
		p.f.Close()
		return nil
	}
	go p.run(rc)
	return p
}

// epollOneShot is EPOLLONESHOT: a registration fires once, then rests
// until re-armed.
const epollOneShot = 1 << 30

// park registers s, whose reader rd is idle and holds no buffer, and
// reports whether it did; the reader goroutine must then end without
// releasing s's count on Server.conns.
func (p *parker) park(s *Conn, rd *wsReader) bool {
	if p == nil || rd.fd < 0 {
		return false
	}
	fd := rd.fd
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollOneShot, Fd: int32(fd)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.isClosed() {
		return false // the reader sees the close itself
	}
	if fd >= len(p.slots) {
		p.slots = append(p.slots, make([]*Conn, fd+1-len(p.slots))...)
	}
	p.slots[fd] = s
	rd.parked = true
	op := syscall.EPOLL_CTL_MOD
	if !rd.inSet {
		op = syscall.EPOLL_CTL_ADD
	}
	if err := syscall.EpollCtl(p.epfd, op, fd, &ev); err != nil {
		p.slots[fd], rd.parked = nil, false
		return false
	}
	rd.inSet = true
	p.n.Add(1)
	return true
}

// unpark takes s, read by rd, out of the set if it is parked, and reports
// whether it was: the caller then owns s's count on Server.conns.
func (p *parker) unpark(s *Conn, rd *wsReader) bool {
	if p == nil || rd == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !rd.parked {
		return false
	}
	rd.parked = false
	p.n.Add(-1)
	if p.slots[rd.fd] == s {
		p.slots[rd.fd] = nil
	}
	return true
}

// run waits for parked connections to become readable and starts their
// readers. A wake-up for a descriptor reused by another session since is
// harmless: that reader finds nothing to read and parks again.
func (p *parker) run(rc syscall.RawConn) {
	defer close(p.done)
	events := make([]syscall.EpollEvent, 128)
	for {
		var n int
		err := rc.Read(func(fd uintptr) bool {
			for {
				var err error
				n, err = syscall.EpollWait(int(fd), events, 0)
				if err != syscall.EINTR {
					return n > 0 || err != nil
				}
			}
		})
		if err != nil {
			return // closed
		}
		for i := range events[:n] {
			fd := int(events[i].Fd)
			p.mu.Lock()
			var s *Conn
			if fd < len(p.slots) {
				s, p.slots[fd] = p.slots[fd], nil
			}
			if s != nil {
				s.rd.parked = false
				p.n.Add(-1)
			}
			p.mu.Unlock()
			if s != nil {
				go s.srv.readOn(s)
			}
		}
	}
}

// isParked reports whether rd rests in the set.
func (p *parker) isParked(rd *wsReader) bool {
	if p == nil || rd == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return rd.parked
}

// count is the sessions parked now.
func (p *parker) count() int64 {
	if p == nil {
		return 0
	}
	return p.n.Load()
}

// close stops the parker once every session is closed (Shutdown).
func (p *parker) close() {
	if p == nil {
		return
	}
	p.f.Close()
	<-p.done
}
