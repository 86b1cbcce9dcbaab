package callredis_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/internal/redistest"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/signaling/call/callredis"
)

// TestRedisOutage: with Redis gone, a node's rooms keep working (signals,
// chat, joins and leaves, decided from its own rooms) and signals to
// other nodes are refused; when Redis comes back, empty, each node puts
// its members back (not those who left meanwhile) and cross-node calls
// resume.
func TestRedisOutage(t *testing.T) {
	r := redistest.Start(t)
	rcfg := callredis.Config{OpTimeout: 300 * time.Millisecond, RetryInterval: 100 * time.Millisecond, LeaseTTL: 900 * time.Millisecond}
	n1 := newNode(t, r.Addr(), call.Config{}, rcfg)
	n2 := newNode(t, r.Addr(), call.Config{}, rcfg)
	a, b, far := n1.dial(), n1.dial(), n2.dial()
	join(t, a, "local", "Ann")
	join(t, b, "local", "Bob")
	join(t, far, "far", "Fay")

	r.Stop()
	offer := map[string]any{"type": "offer", "sdp": "v=0"}
	callAck(t, a, "", "signal", map[string]any{"to": b.ID, "data": offer})
	if got := next[signalMsg](t, b, "signal"); got.From != a.ID {
		t.Fatalf("signal during the outage: %+v", got)
	}
	callAck(t, b, "", "chat", map[string]any{"room": "local", "text": "still here"})
	if m := next[map[string]any](t, a, "chat"); m["text"] != "still here" {
		t.Fatalf("chat during the outage: %v", m)
	}
	e := n1.dial()
	start := time.Now()
	got := join(t, e, "local", "Eve")
	t.Logf("a join during the outage answered in %v", time.Since(start))
	want := []call.Member{{ID: a.ID, Name: "Ann"}, {ID: b.ID, Name: "Bob"}}
	slices.SortFunc(want, func(x, y call.Member) int { return strings.Compare(x.ID, y.ID) })
	if !slices.Equal(got.Peers, want) {
		t.Fatalf("peers during the outage %+v, want %+v", got.Peers, want)
	}
	callAck(t, a, call.CodeNotInRoom, "signal", map[string]any{"to": far.ID, "data": offer})
	callAck(t, b, "", "leave", map[string]any{"room": "local"})
	if n1.metric("noom_call_registry_redis_up", "") != 0 || n1.metric("noom_call_registry_local_answers_total", "join") < 1 {
		t.Fatal("the outage is not in the metrics")
	}

	r.Restart()
	within(t, 10*time.Second, "both nodes back on redis", func() bool {
		return n1.registry.Up() && n2.registry.Up() && n1.cluster.Up() && n2.cluster.Up()
	})
	g := n2.dial()
	got = join(t, g, "local", "Gil")
	want = []call.Member{{ID: a.ID, Name: "Ann"}, {ID: e.ID, Name: "Eve"}}
	slices.SortFunc(want, func(x, y call.Member) int { return strings.Compare(x.ID, y.ID) })
	if !slices.Equal(got.Peers, want) {
		t.Fatalf("peers after the outage %+v, want %+v (Bob left during it)", got.Peers, want)
	}
	callAck(t, g, "", "signal", map[string]any{"to": a.ID, "data": offer})
	if got := next[signalMsg](t, a, "signal"); got.From != g.ID {
		t.Fatalf("cross-node signal after the outage: %+v", got)
	}
	if n1.metric("noom_call_registry_redis_up", "") != 1 || n1.metric("noom_call_registry_resyncs_total", "") < 2 {
		t.Fatal("the recovery is not in the metrics")
	}
}

// TestLeaseLostAndRestored: a live node whose lease expired (a long pause)
// has its members removed by the others, finds out at its next beat, and
// puts them back; the room hears peer-left, then peer-joined.
func TestLeaseLostAndRestored(t *testing.T) {
	r := redistest.Start(t)
	slow := newNode(t, r.Addr(), call.Config{}, callredis.Config{LeaseTTL: 3 * time.Second})
	fast := newNode(t, r.Addr(), call.Config{}, callredis.Config{LeaseTTL: 300 * time.Millisecond})
	a, b := slow.dial(), fast.dial()
	join(t, a, "r", "Ann")
	join(t, b, "r", "Bob")
	lease := "noom:call:lease:" + slow.registry.NodeID()
	// Right after a renewal, so that the fast node reaps (every 100ms)
	// long before the slow one renews again (every second).
	within(t, 5*time.Second, "a fresh lease", func() bool {
		return fast.rdb.PTTL(ctx(t), lease).Val() > 2900*time.Millisecond
	})
	fast.rdb.Del(ctx(t), lease)
	if m := next[call.Member](t, b, "peer-left"); m.ID != a.ID {
		t.Fatalf("peer-left %+v", m)
	}
	if m := next[call.Member](t, b, "peer-joined"); m != (call.Member{ID: a.ID, Name: "Ann"}) {
		t.Fatalf("peer-joined %+v", m)
	}
	if got := join(t, fast.dial(), "r", "Cy"); len(got.Peers) != 2 {
		t.Fatalf("peers after the slow node came back: %+v", got.Peers)
	}
	// a was told nothing of its own removal and return: Cy's arrival
	// comes right after Bob's.
	for _, want := range []string{"Bob", "Cy"} {
		ev := <-a.Events()
		if m := (call.Member{}); ev.Name != "peer-joined" || ev.Decode(0, &m) != nil || m.Name != want {
			t.Fatalf("a got %s %s, want peer-joined %s", ev.Name, ev.Args, want)
		}
	}
}
