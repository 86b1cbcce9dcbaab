// Package redistest runs a real redis-server for a test: on a free
// loopback port, without persistence, stopped when the test ends, and
// restartable on the same port to test outages.
//
// Without redis-server on the PATH the test is skipped, loudly, or fails
// when the environment variable CI is set.
package redistest

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is one test's redis-server. Its methods are for the test's
// goroutine.
type Server struct {
	t    testing.TB
	port int

	mu   sync.Mutex
	proc *exec.Cmd
	exit chan struct{} // closed when proc has exited
}

// Start starts redis-server on a free 127.0.0.1 port and waits until it
// accepts connections.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "!!! redis-server is not installed (apt-get install redis-server): this Redis test cannot run"
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
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Restart starts the server again after Stop (a no-op while it runs),
// empty, on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	up, exit := make(chan struct{}), make(chan struct{})
	var lines []string
	go func() {
		defer close(exit)
		sc := bufio.NewScanner(stdout)
		ready := false
		for sc.Scan() {
			if !ready {
				lines = append(lines, sc.Text())
			}
			if !ready && strings.Contains(sc.Text(), "Ready to accept connections") {
				ready = true
				close(up)
			}
		}
		cmd.Wait()
	}()
	select {
	case <-up:
	case <-exit:
		s.t.Fatalf("redis-server exited at start:\n%s", strings.Join(lines, "\n"))
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exit
		s.t.Fatal("redis-server not ready after 10s")
	}
	s.proc, s.exit = cmd, exit
}

// Stop kills the server and waits for it: an outage, or the end.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proc.Process.Kill()
	<-s.exit
	s.proc = nil
}
