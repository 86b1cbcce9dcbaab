// Package redistest runs a real redis-server for tests, as net/http/httptest
// runs an HTTP server: on a free loopback port, ended when the test ends,
// and stopped, hung and restarted on the same port on demand, so that a
// test can inject Redis faults into the nodes it runs.
//
// Without a redis-server on PATH the test is skipped, or fails when the
// environment variable CI is set.
package redistest

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one test's redis-server. Its methods are for the test's own
// goroutine.
type Server struct {
	t    testing.TB
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil while stopped
	done chan struct{} // closed when cmd has exited
}

// New reserves a free loopback port for a redis-server and does not start
// it: a test of "Redis down at start" points its nodes there, then calls
// Start. The server is killed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "redis-server is not installed (apt-get install redis-server): the Redis adapter is untested"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, port: l.Addr().(*net.TCPAddr).Port}
	l.Close()
	t.Cleanup(s.Stop)
	return s
}

// Start is New, then Server.Start.
func Start(t testing.TB) *Server {
	t.Helper()
	s := New(t)
	s.Start()
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is redis://host:port/0, for noom's --redis-url.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Start runs redis-server on the server's port, without persistence, and
// waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatal("redistest: Start of a running server")
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	ready, done := make(chan struct{}), make(chan struct{})
	var log []string // what it said before it was ready
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				io.Copy(io.Discard, out)
				break
			}
			log = append(log, sc.Text())
		}
		cmd.Wait()
	}()
	select {
	case <-ready:
		s.cmd, s.done = cmd, done
	case <-done:
		s.t.Fatalf("redis-server did not start:\n%s", strings.Join(log, "\n"))
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		s.t.Fatal("redis-server not ready after 10s")
	}
}

// Stop kills redis-server (SIGKILL: its clients see their connections
// reset, as in a crash) and waits for it. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Pause freezes redis-server (SIGSTOP): connections stay open and the
// kernel still accepts new ones, but nothing is answered, as with a hung
// or overloaded Redis. Resume undoes it.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume lets a paused redis-server run again (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("redistest: %v to a stopped server", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}
