// Package redistest runs a real redis-server for a test: on a free
// loopback port, without persistence, stopped when the test ends, and
// stopped, frozen and restarted on the same port to test outages; and
// Noom nodes on it (NewNode).
//
// Without redis-server on the PATH the test is skipped, loudly, or fails
// when the environment variable CI is set.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/redisadapter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Server is one test's redis-server. Its methods are for the test's
// goroutine.
type Server struct {
	t    testing.TB
	port int

	mu   sync.Mutex
	proc *exec.Cmd
	exit <-chan struct{} // closed when proc has exited
}

// Start starts redis-server on a free 127.0.0.1 port and waits until it
// accepts connections.
func Start(t testing.TB) *Server {
	t.Helper()
	s := New(t)
	s.Restart()
	return s
}

// New reserves a free 127.0.0.1 port for a redis-server and does not
// start it: a test of "Redis down at start" points its nodes there, then
// calls Restart.
func New(t testing.TB) *Server {
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
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the server's port.
func (s *Server) Port() int { return s.port }

// URL is redis://host:port/0, for noom's --redis-url.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Restart starts the server again after Stop (a no-op while it runs),
// empty, on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return
	}
	cmd, exit, err := Launch(s.port, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	s.proc, s.exit = cmd, exit
}

// Launch starts redis-server on 127.0.0.1:port, keeping nothing on disk,
// and waits until it accepts connections (at most 10 s). prepare, when
// not nil, sees the command before it starts. exit is closed once the
// process has exited. It is for tools too (noom-load), not only tests.
func Launch(port int, prepare func(*exec.Cmd)) (cmd *exec.Cmd, exit <-chan struct{}, err error) {
	cmd = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	if prepare != nil {
		prepare(cmd)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	up, done := make(chan struct{}), make(chan struct{})
	var lines []string
	go func() {
		defer close(done)
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
		return cmd, done, nil
	case <-done:
		return nil, nil, fmt.Errorf("redis-server exited at start:\n%s", strings.Join(lines, "\n"))
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		return nil, nil, fmt.Errorf("redis-server not ready after 10s")
	}
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

// Pause freezes the server (SIGSTOP): connections stay open and the
// kernel still accepts new ones, but nothing is answered, as with a hung
// or overloaded Redis. Resume undoes it.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume lets a paused server run again (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		s.t.Fatalf("redistest: %v to a stopped server", sig)
	}
	if err := s.proc.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// Node is one Noom node of a test cluster: a signaling server whose
// namespaces share Redis through a redisadapter.Cluster.
type Node struct {
	Server   *signaling.Server
	Cluster  *redisadapter.Cluster
	Registry *prometheus.Registry // the node's metrics
}

// NewNode makes a node on the Redis at addr (which need not be up), with
// a client that fails fast (no retries, 1 s to dial), logging to stderr
// under go test -v. The test's cleanup shuts it down in the documented
// order: server, Cluster, client.
func NewNode(t testing.TB, addr string, cfg redisadapter.Config) *Node {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	cl, err := redisadapter.New(cfg, rdb, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := signaling.New(signaling.Config{Adapter: cl.Adapter}, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Shutdown is idempotent: a test may have shut the server down.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := cl.Close(); err != nil {
			t.Logf("cluster close: %v", err)
		}
		rdb.Close()
	})
	return &Node{Server: srv, Cluster: cl, Registry: reg}
}
