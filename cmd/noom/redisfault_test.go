package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/noomrtc/noom/internal/redistest"
	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/redisadapter"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Redis faults seen from the noom command: a node started while Redis is
// down, and a node process killed with SIGKILL. Heartbeats are fast
// (--redis-heartbeat) so that what waits for a heartbeat timeout takes
// under a second.

// syncBuffer is a log written by noom and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// readyzOf gets /readyz.
func readyzOf(t *testing.T, base string) (int, readyzBody) {
	t.Helper()
	status, body, hdr := get(t, base+"/readyz")
	var rb readyzBody
	if err := json.Unmarshal([]byte(body), &rb); err != nil || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("/readyz %d %q (%s): %v", status, body, hdr.Get("Content-Type"), err)
	}
	return status, rb
}

// metricOf reads an unlabelled sample from /metrics.
func metricOf(t *testing.T, base, name string) float64 {
	t.Helper()
	_, body, _ := get(t, base+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// eventually polls cond; the bound only fails a broken run.
func eventually(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// dialJoin connects a call client to base and joins room.
func dialJoin(t *testing.T, ctx context.Context, base, room, name string) *sioclient.Client {
	t.Helper()
	c, err := sioclient.Dial(ctx, base, sioclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	joinRoom(ctx, t, c, room, name)
	return c
}

// peerJoined waits until c hears that the socket id joined its room.
func peerJoined(t *testing.T, ctx context.Context, c *sioclient.Client, id string) {
	t.Helper()
	for {
		ev, err := c.Next(ctx, "peer-joined")
		if err != nil {
			t.Fatalf("waiting for peer-joined %s: %v", id, err)
		}
		var p struct{ ID string }
		if ev.Decode(0, &p) == nil && p.ID == id {
			return
		}
	}
}

// TestRedisDownAtStart: noom --redis-url with Redis down starts, serves
// its own clients, says "degraded" in /readyz (still 200) and
// "unreachable" in its log; when Redis comes up it connects by itself
// and rooms span nodes.
func TestRedisDownAtStart(t *testing.T) {
	r := redistest.New(t) // not running yet
	var logA syncBuffer
	args := []string{"--redis-url", r.URL(), "--redis-heartbeat", "200ms", "--turn=false"}
	a := startNoomLog(t, &logA, append(args, "--log-level", "info")...)
	baseA := "http://" + a.HTTP
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	status, rb := readyzOf(t, baseA)
	if status != 200 || rb.Status != "degraded" || rb.Checks["redis"] != "down" || rb.Checks["call_registry"] != "down" {
		t.Fatalf("/readyz with Redis down: %d %+v, want 200 degraded, redis and call_registry down", status, rb)
	}
	if metricOf(t, baseA, "noom_redis_up") != 0 {
		t.Error("noom_redis_up is not 0 with Redis down")
	}
	eventually(t, "the log says Redis is unreachable", func() bool {
		return strings.Contains(logA.String(), "redis unreachable")
	})

	// Its own clients: a room on this node works.
	alice := dialJoin(t, ctx, baseA, "standup", "alice")
	bob := dialJoin(t, ctx, baseA, "standup", "bob")
	peerJoined(t, ctx, alice, bob.ID)
	if err := bob.Call(ctx, nil, "chat", map[string]any{"room": "standup", "text": "hi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Next(ctx, "chat"); err != nil {
		t.Fatalf("chat on a node without Redis: %v", err)
	}

	r.Restart()
	took := eventually(t, "the node connects to Redis by itself", func() bool {
		_, rb := readyzOf(t, baseA)
		return rb.Status == "ready" && rb.Checks["redis"] == "up" && rb.Checks["call_registry"] == "up" &&
			metricOf(t, baseA, "noom_redis_up") == 1
	})
	t.Logf("connected %v after redis-server started", took)
	if !strings.Contains(logA.String(), "redis connected") {
		t.Errorf("the log does not say Redis is back:\n%s", logA.String())
	}

	// Cross-node: a node started now, and one room over both.
	b := startNoom(t, args...)
	baseB := "http://" + b.HTTP
	eventually(t, "both nodes count 2 nodes", func() bool {
		return metricOf(t, baseA, "noom_redis_nodes") == 2 && metricOf(t, baseB, "noom_redis_nodes") == 2
	})
	carol := dialJoin(t, ctx, baseB, "standup", "carol")
	peerJoined(t, ctx, alice, carol.ID)
}

// TestReadyzWithoutRedis: without --redis-url there is nothing to check.
func TestReadyzWithoutRedis(t *testing.T) {
	rd := startNoom(t, "--turn=false")
	status, rb := readyzOf(t, "http://"+rd.HTTP)
	if status != 200 || rb.Status != "ready" || len(rb.Checks) != 0 {
		t.Fatalf("/readyz: %d %+v", status, rb)
	}
	if _, err := parseOptions([]string{"--redis-heartbeat", "0s"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("--redis-heartbeat 0s accepted")
	}
}

// noomProcessEnv carries the arguments of a noom run by TestNoomProcess,
// one per line.
const noomProcessEnv = "NOOM_TEST_PROCESS_ARGS"

// TestNoomProcess is not a test: it is noom, when the test binary is run
// again as a separate process by startNoomProcess. It prints the HTTP
// address once it serves.
func TestNoomProcess(t *testing.T) {
	args := os.Getenv(noomProcessEnv)
	if args == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, strings.Split(args, "\n"), func(string) string { return "" }, io.Discard, os.Stderr,
		func(r ready) { os.Stdout.WriteString("noom-http " + r.HTTP + "\n") })
	if err != nil {
		t.Fatal(err)
	}
}

// startNoomProcess runs noom in a process of its own; the test kills it.
func startNoomProcess(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	args = append([]string{"--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoomProcess$")
	cmd.Env = append(os.Environ(), noomProcessEnv+"="+strings.Join(args, "\n"))
	var logs syncBuffer
	cmd.Stderr = &logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("noom process log:\n%s", logs.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "noom-http "); ok {
				addr <- a
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, a
	case <-time.After(20 * time.Second):
		t.Fatalf("the noom process did not start:\n%s", logs.String())
	}
	return nil, ""
}

// observer is a node of the test's own, in-process, to ask the cluster.
type observer struct {
	*redistest.Node
	nsp     *signaling.Namespace
	metrics string // base URL of its /metrics
}

func newObserver(t *testing.T, addr string, heartbeat time.Duration) *observer {
	t.Helper()
	n := redistest.NewNode(t, addr, redisadapter.Config{HeartbeatInterval: heartbeat, RequestTimeout: 2 * time.Second})
	hs := httptest.NewServer(promhttp.HandlerFor(n.Registry, promhttp.HandlerOpts{}))
	t.Cleanup(hs.Close)
	return &observer{Node: n, nsp: n.Server.Of("/"), metrics: hs.URL}
}

// sees tells whether the cluster-wide FetchSockets and AllRooms show the
// socket id and the room; err when one of them did not complete (a node
// counted but silent).
func (o *observer) sees(ctx context.Context, sid, room string) (sock, inRooms bool, err error) {
	socks, err := o.nsp.FetchSockets(ctx)
	if err != nil {
		return false, false, err
	}
	rooms, err := o.nsp.AllRooms(ctx)
	if err != nil {
		return false, false, err
	}
	return slices.ContainsFunc(socks, func(s *signaling.RemoteSocket) bool { return s.ID == sid }), slices.Contains(rooms, room), nil
}

// TestRedisNodeKilled: a noom process killed with SIGKILL leaves no ghost:
// its sockets and rooms leave cluster-wide FetchSockets and AllRooms (it
// stops answering and stops being counted as soon as Redis sees its
// connections close), and it leaves the nodes list and noom_redis_nodes
// within the heartbeat timeout.
func TestRedisNodeKilled(t *testing.T) {
	r := redistest.Start(t)
	const beat = 200 * time.Millisecond // timeout: 3 beats
	obs := newObserver(t, r.Addr(), beat)
	victim, addr := startNoomProcess(t, "--redis-url", r.URL(), "--redis-heartbeat", beat.String(), "--turn=false")
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	dave := dialJoin(t, ctx, base, "retro", "dave")
	eventually(t, "the observer sees the process's node, socket and room", func() bool {
		sock, room, err := obs.sees(ctx, dave.ID, "retro")
		return len(obs.Cluster.Nodes()) == 2 && sock && room && err == nil
	})
	// The process hears the observer's beat on its own schedule.
	eventually(t, "the process counts 2 nodes", func() bool { return metricOf(t, base, "noom_redis_nodes") == 2 })
	if n := metricOf(t, obs.metrics, "noom_redis_nodes"); n != 2 {
		t.Errorf("noom_redis_nodes %v before the kill, want 2", n)
	}

	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	killed := time.Now()
	took := eventually(t, "the killed node's socket and room leave the cluster", func() bool {
		sock, room, err := obs.sees(ctx, dave.ID, "retro")
		return !sock && !room && err == nil
	})
	t.Logf("socket and room gone %v after the kill", took)
	start := time.Now()
	if sock, room, err := obs.sees(ctx, dave.ID, "retro"); sock || room || err != nil {
		t.Fatalf("after the kill: socket %v, room %v, %v", sock, room, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cluster-wide reads take %v after the kill: they still wait for the dead node", d)
	}
	eventually(t, "the killed node leaves the nodes list", func() bool { return len(obs.Cluster.Nodes()) == 1 })
	t.Logf("node gone from Nodes %v after the kill (heartbeat timeout %v)", time.Since(killed), 3*beat)
	if n := metricOf(t, obs.metrics, "noom_redis_nodes"); n != 1 {
		t.Errorf("noom_redis_nodes %v after the kill, want 1", n)
	}
}
