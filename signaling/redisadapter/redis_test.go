package redisadapter_test

import (
	"testing"

	"github.com/noomrtc/noom/internal/redistest"
	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/redisadapter"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisServer is a redis-server of one test, on a loopback port (see
// redistest).
type redisServer struct {
	*redistest.Server
	port int
}

// startRedis starts a redis-server on a free loopback port, stopped when
// the test ends. Without redis-server the test skips, or fails under CI.
func startRedis(t testing.TB) *redisServer {
	s := redistest.Start(t)
	return &redisServer{Server: s, port: s.Port()}
}

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
	n := redistest.NewNode(t, addr, cfg)
	return &node{srv: n.Server, cluster: n.Cluster, reg: n.Registry}
}
