package redisadapter_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/redisadapter"
	"github.com/noomrtc/noom/signaling/redisadapter/redistest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisServer is a redis-server of one test, on a loopback port (see
// redistest).
type redisServer struct{ *redistest.Server }

// startRedis starts a redis-server on a free loopback port, stopped when
// the test ends. Without redis-server the test skips, or fails under CI.
func startRedis(t testing.TB) *redisServer { return &redisServer{redistest.Start(t)} }

func (r *redisServer) addr() string { return r.Addr() }

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
