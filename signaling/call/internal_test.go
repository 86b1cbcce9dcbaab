package call

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkRebuild10k builds the room list of 10,000 listed rooms (sizes
// 1–8) and diffs it against the last one: what the pusher does at most
// once per RoomsPushInterval, whatever the churn.
func BenchmarkRebuild10k(b *testing.B) {
	reg := prometheus.NewRegistry()
	hub, err := signaling.New(signaling.Config{}, reg)
	if err != nil {
		b.Fatal(err)
	}
	mem := NewMemoryRegistry()
	svc, err := New(Config{Registry: mem}, hub.Of("/"), nil, reg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		svc.Close()
	})
	for i := range 10_000 {
		name := fmt.Sprintf("room %05d", i)
		for j := range 1 + i%8 {
			mem.Put(RoomMeta{Name: name, Listed: true}, Member{ID: fmt.Sprint(i, "/", j), Name: "x"})
		}
	}
	svc.rebuild()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// One room changes size each time, as under churn.
		r := mem.rooms[fmt.Sprintf("room %05d", i%10_000)]
		mem.mu.Lock()
		if len(r.members) == 8 {
			clear(r.members)
		}
		r.members[fmt.Sprint("n", i)] = "x"
		mem.mu.Unlock()
		svc.rebuild()
	}
}

// TestSweepClients: per-IP state is forgotten only when no socket of the
// IP is left and every bucket has refilled, so disconnecting does not
// reset the limits.
func TestSweepClients(t *testing.T) {
	svc := &Service{cfg: Config{}, clients: map[string]*client{}}
	svc.cfg.setDefaults()
	now := time.Now()
	busy, drained, idle := svc.newClient(), svc.newClient(), svc.newClient()
	busy.sockets = 1
	for drained.passcodes.allow(now) {
	}
	svc.clients["busy"], svc.clients["drained"], svc.clients["idle"] = busy, drained, idle
	svc.sweepClients(now)
	if _, ok := svc.clients["idle"]; ok || len(svc.clients) != 2 {
		t.Fatalf("after the first sweep: %v", svc.clients)
	}
	// Five wrong passcodes refill at 10 a minute: 30 s.
	svc.sweepClients(now.Add(20 * time.Second))
	if _, ok := svc.clients["drained"]; !ok {
		t.Fatal("a drained bucket was forgotten before it refilled")
	}
	svc.sweepClients(now.Add(31 * time.Second))
	if _, ok := svc.clients["drained"]; ok || len(svc.clients) != 1 {
		t.Fatalf("after refilling: %v", svc.clients)
	}
}
