package redisadapter_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/redisadapter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisServer is a redis-server of one test, on a loopback port.
type redisServer struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis starts a redis-server on a free loopback port, stopped when
// the test ends. Without redis-server the test skips, or fails under CI.
func startRedis(t testing.TB) *redisServer {
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
	r := &redisServer{t: t, port: l.Addr().(*net.TCPAddr).Port}
	l.Close()
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server and waits until it says it is ready.
func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	ready := make(chan struct{})
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(out)
		var log []string
		for sc.Scan() {
			log = append(log, sc.Text())
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				io.Copy(io.Discard, out)
				break
			}
		}
		r.cmd.Wait()
		select {
		case <-ready:
		default:
			r.t.Logf("redis-server exited before it was ready:\n%s", strings.Join(log, "\n"))
		}
	}()
	select {
	case <-ready:
	case <-r.done:
		r.t.Fatal("redis-server did not start")
	case <-time.After(10 * time.Second):
		r.t.Fatal("redis-server not ready after 10s")
	}
}

// stop kills redis-server and waits for it.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// node is one Noom node of a test cluster.
type node struct {
	srv     *signaling.Server
	cluster *redisadapter.Cluster
	reg     *prometheus.Registry
}

// newNode makes a signaling server whose namespaces share addr's Redis.
// Cleanup shuts it down in the documented order (servers, Cluster, client).
func newNode(t testing.TB, addr string, cfg redisadapter.Config) *node {
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
		// The adaptertest cleanup has shut the server down by now (it
		// was registered later, so it ran first); Shutdown is idempotent.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := cl.Close(); err != nil {
			t.Logf("cluster close: %v", err)
		}
		rdb.Close()
	})
	return &node{srv: srv, cluster: cl, reg: reg}
}
