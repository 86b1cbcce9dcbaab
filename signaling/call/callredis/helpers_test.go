package callredis_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/signaling/call/callredis"
	"github.com/noomrtc/noom/signaling/redisadapter"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// node is one Noom node of a test cluster, as cmd/noom wires it: a hub
// whose adapter is a redisadapter.Cluster, and a call.Service whose
// registry is a callredis.Registry, on one redis client, served on a
// loopback httptest server.
type node struct {
	t        testing.TB
	url      string
	rdb      *redis.Client
	cluster  *redisadapter.Cluster
	registry *callredis.Registry
	svc      *call.Service
	prom     *prometheus.Registry
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newNode starts a node on the Redis at addr. Cleanup shuts it down in
// the documented order: hub, service, registry, cluster, redis client.
func newNode(t testing.TB, addr string, cfg call.Config, rcfg callredis.Config) *node {
	t.Helper()
	log := testLogger()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 300 * time.Millisecond,
		ContextTimeoutEnabled: true})
	prom := prometheus.NewRegistry()
	cl, err := redisadapter.New(redisadapter.Config{HeartbeatInterval: 200 * time.Millisecond}, rdb, prom, log)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := signaling.New(signaling.Config{Adapter: cl.Adapter, Logger: log}, prom)
	if err != nil {
		t.Fatal(err)
	}
	if rcfg.Logger == nil {
		rcfg.Logger = log
	}
	reg, err := callredis.New(rcfg, rdb, prom)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Registry, cfg.Logger = reg, log
	if cfg.RoomsPushInterval == 0 {
		cfg.RoomsPushInterval = 20 * time.Millisecond
	}
	svc, err := call.New(cfg, hub.Of("/"), nil, prom)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(hub)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		hs.Close()
		svc.Close()
		reg.Close()
		cl.Close()
		rdb.Close()
	})
	return &node{t: t, url: hs.URL, rdb: rdb, cluster: cl, registry: reg, svc: svc, prom: prom}
}

func (n *node) dial() *sioclient.Client {
	n.t.Helper()
	c, err := sioclient.Dial(ctx(n.t), n.url, sioclient.Options{})
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { c.Close() })
	return c
}

// metric sums the values of the node's metric name (gauges and
// counters) whose one label has the value label, or of all with "".
func (n *node) metric(name, label string) float64 {
	n.t.Helper()
	mfs, err := n.prom.Gather()
	if err != nil {
		n.t.Fatal(err)
	}
	sum, found := 0.0, false
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() != name || label != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			found = true
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	if !found {
		n.t.Fatalf("no metric %s{%s}", name, label)
	}
	return sum
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// reply is any call ack.
type reply struct {
	OK    bool `json:"ok"`
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
	Peers  []call.Member `json:"peers"`
	Listed bool          `json:"listed"`
	Rooms  []call.RoomSize
	V      int64
}

// call emits event and returns its ack; want is the error code expected,
// "" for ok.
func callAck(t testing.TB, c *sioclient.Client, want, event string, payload any) reply {
	t.Helper()
	var r reply
	if err := c.Call(ctx(t), &r, event, payload); err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	if r.OK != (want == "") || r.Error.Code != want {
		t.Fatalf("%s %v: ok=%v code=%q, want code %q", event, payload, r.OK, r.Error.Code, want)
	}
	return r
}

func join(t testing.TB, c *sioclient.Client, room, name string) reply {
	t.Helper()
	return callAck(t, c, "", "join", map[string]any{"room": room, "name": name})
}

// next waits for c's next event called name and decodes its argument.
func next[T any](t testing.TB, c *sioclient.Client, name string) T {
	t.Helper()
	ev, err := c.Next(ctx(t), name)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := ev.Decode(0, &v); err != nil {
		t.Fatalf("%s %s: %v", name, ev.Args, err)
	}
	return v
}

// signalMsg is a relayed signal.
type signalMsg struct {
	From string          `json:"from"`
	Data json.RawMessage `json:"data"`
}

// within polls cond every 10ms until it holds or d passes (a generous
// failure bound), and returns how long it took.
func within(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}
