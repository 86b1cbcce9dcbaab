package redisadapter_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/redisadapter"
	"github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
)

// Redis faults under traffic between two in-process nodes: a client on
// node A keeps saying numbered things to a room that has a client on A
// and one on B. Redis pub/sub is at most once, so B may miss what was
// said while Redis was away, but never in the wrong order; A's own client
// misses nothing, ever. goleak (TestMain) checks that nothing is left
// running.

// faultConfig beats fast and gives up on Redis fast; small queues show
// that what cannot be published is dropped and counted.
var faultConfig = redisadapter.Config{
	HeartbeatInterval: 100 * time.Millisecond,
	PublishQueue:      32,
	PublishTimeout:    200 * time.Millisecond,
	RequestTimeout:    time.Second,
}

// chatNode serves a node whose sockets join "room" on connection and
// repeat each "say" to the rest of the room as "said".
func chatNode(t *testing.T, addr string) (*node, string) {
	t.Helper()
	n := newNode(t, addr, faultConfig)
	n.srv.Of("/").OnConnection(func(s *signaling.Socket) {
		s.Join("room")
		s.On("say", func(args []any, _ signaling.Ack) { s.To("room").Emit("said", args...) })
	})
	hs := httptest.NewServer(n.srv)
	t.Cleanup(hs.Close)
	return n, hs.URL
}

// heard records the numbers a client heard in "said" events.
type heard struct {
	mu   sync.Mutex
	nums []int
}

func listen(t *testing.T, ctx context.Context, url string) (*signalingtest.Client, *heard) {
	t.Helper()
	cl, err := signalingtest.Dial(ctx, url, signalingtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	h := &heard{}
	go func() {
		for ev := range cl.Events() {
			var n int
			if ev.Name == "said" && ev.Decode(0, &n) == nil {
				h.mu.Lock()
				h.nums = append(h.nums, n)
				h.mu.Unlock()
			}
		}
	}()
	return cl, h
}

func (h *heard) get() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.nums)
}

func (h *heard) has(n int) bool { return slices.Contains(h.get(), n) }

func dropped(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "noom_redis_dropped_messages_total" {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && (reason == "" || l.GetValue() == reason) {
					sum += m.GetCounter().GetValue()
				}
			}
		}
		return sum
	}
	t.Fatal("no noom_redis_dropped_messages_total")
	return 0
}

// faultScene is two nodes on one Redis, two clients on A (a sender and a
// listener) and a listener on B, all in "room".
type faultScene struct {
	t        *testing.T
	ctx      context.Context
	redis    *redisServer
	a, b     *node
	sender   *signalingtest.Client
	onA, onB *heard
	bClient  *signalingtest.Client
	said     int // the last number said
}

func newFaultScene(t *testing.T) *faultScene {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	s := &faultScene{t: t, ctx: ctx, redis: startRedis(t)}
	var urlA, urlB string
	s.a, urlA = chatNode(t, s.redis.addr())
	s.b, urlB = chatNode(t, s.redis.addr())
	s.sender, _ = listen(t, ctx, urlA)
	_, s.onA = listen(t, ctx, urlA)
	s.bClient, s.onB = listen(t, ctx, urlB)
	eventually(t, "both nodes see each other", func() bool {
		return len(s.a.cluster.Nodes()) == 2 && len(s.b.cluster.Nodes()) == 2
	})
	s.crossNode("at start")
	return s
}

// say makes the sender say the next number.
func (s *faultScene) say() int {
	s.t.Helper()
	s.said++
	if err := s.sender.Emit("say", s.said); err != nil {
		s.t.Fatal(err)
	}
	return s.said
}

// crossNode says numbers until B hears one said from now on.
func (s *faultScene) crossNode(when string) {
	s.t.Helper()
	from := s.said + 1
	eventually(s.t, "B hears A "+when, func() bool {
		s.say()
		for _, n := range s.onB.get() {
			if n >= from {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
		return false
	})
	// And back: what B's client says reaches A's listener.
	mark := -from
	if err := s.bClient.Emit("say", mark); err != nil {
		s.t.Fatal(err)
	}
	eventually(s.t, "A hears B "+when, func() bool { return s.onA.has(mark) })
}

// localBurst says n numbers while Redis is away: A's listener hears each.
func (s *faultScene) localBurst(n int) {
	s.t.Helper()
	for range n {
		s.say()
	}
	last := s.said
	eventually(s.t, "A's listener hears what A's sender said", func() bool { return s.onA.has(last) })
}

// check: A's listener heard every number in order (B's negative marks
// aside), B's listener heard a subsequence in order.
func (s *faultScene) check() {
	s.t.Helper()
	var own []int
	for _, n := range s.onA.get() {
		if n > 0 {
			own = append(own, n)
		}
	}
	for i, n := range own {
		if n != i+1 {
			s.t.Fatalf("A's listener heard %v...: lost or reordered at %d", own[:min(len(own), i+3)], i+1)
		}
	}
	if len(own) != s.said {
		s.t.Fatalf("A's listener heard %d of %d", len(own), s.said)
	}
	onB := s.onB.get()
	if !slices.IsSorted(onB) || len(slices.Compact(slices.Clone(onB))) != len(onB) {
		s.t.Fatalf("B heard out of order or twice: %v", onB)
	}
	s.t.Logf("A's listener heard all %d; B heard %d", s.said, len(onB))
}

// TestRedisRestart: Redis killed and restarted on the same port during
// traffic. Local delivery never stops, both nodes notice, cluster-wide
// reads answer for the node alone instead of waiting, what A could not
// publish is dropped and counted, and cross-node delivery resumes both
// ways by itself.
func TestRedisRestart(t *testing.T) {
	s := newFaultScene(t)
	before := dropped(t, s.a.reg, "")
	s.redis.Stop()
	eventually(t, "both nodes see Redis down", func() bool { return !s.a.cluster.Up() && !s.b.cluster.Up() })
	s.localBurst(200)
	if d := dropped(t, s.a.reg, ""); d <= before {
		t.Errorf("nothing counted as dropped while Redis was down (%v)", d)
	}
	start := time.Now()
	socks, err := s.a.srv.Of("/").FetchSockets(s.ctx)
	if err != nil || len(socks) != 2 {
		t.Errorf("FetchSockets with Redis down: %d sockets, %v; want A's 2", len(socks), err)
	}
	t.Logf("FetchSockets with Redis down answered in %v", time.Since(start))
	eventually(t, "A forgets B after the heartbeat timeout", func() bool { return len(s.a.cluster.Nodes()) == 1 })
	s.localBurst(50)

	s.redis.Restart()
	eventually(t, "both nodes reconnect", func() bool { return s.a.cluster.Up() && s.b.cluster.Up() })
	s.crossNode("after the restart")
	eventually(t, "the nodes see each other again", func() bool {
		return len(s.a.cluster.Nodes()) == 2 && len(s.b.cluster.Nodes()) == 2
	})
	s.localBurst(20)
	s.crossNode("at the end")
	s.check()
}

// TestRedisHung: Redis frozen (SIGSTOP) during traffic, connections open
// but unanswered, the fault that blocks naive code. Local delivery never
// stops; the publisher waits PublishTimeout per message, so the bounded
// queue fills and the rest is dropped as queue_full; after SIGCONT,
// cross-node delivery resumes.
func TestRedisHung(t *testing.T) {
	s := newFaultScene(t)
	full := dropped(t, s.a.reg, "queue_full")
	s.redis.Pause()
	s.localBurst(200)
	if d := dropped(t, s.a.reg, "queue_full"); d <= full {
		t.Errorf("queue_full drops %v, want more than %v: the publish queue is not bounded", d, full)
	}
	eventually(t, "A sees Redis down", func() bool { return !s.a.cluster.Up() })
	start := time.Now()
	if _, err := s.a.srv.Of("/").FetchSockets(s.ctx); err != nil && !strings.Contains(err.Error(), "deadline") {
		t.Errorf("FetchSockets with Redis hung: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("FetchSockets with Redis hung took %v", d)
	}
	s.localBurst(50)
	s.redis.Resume()
	eventually(t, "A reconnects", func() bool { return s.a.cluster.Up() && s.b.cluster.Up() })
	s.crossNode("after Redis resumed")
	s.check()
}
