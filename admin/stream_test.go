package admin

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/noomrtc/noom/admin/source"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func testMetrics(t testing.TB) *metrics {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The ring keeps the last RingSize events, oldest first, numbered.
func TestStreamRingBound(t *testing.T) {
	s := newStream(100, testMetrics(t))
	for i := range 1050 {
		s.publish(&source.Event{Kind: source.KindIn, Event: fmt.Sprint(i)})
	}
	got := s.recent(filter{}, 1000)
	if len(got) != 100 || cap(s.ring) != 100 {
		t.Fatalf("kept %d events (cap %d), want 100", len(got), cap(s.ring))
	}
	for i, e := range got {
		if e.Event != fmt.Sprint(950+i) || e.Seq != uint64(951+i) {
			t.Fatalf("event %d is %q seq %d", i, e.Event, e.Seq)
		}
	}
	if got := s.recent(filter{Event: "1000"}, 10); len(got) != 1 || got[0].Seq != 1001 {
		t.Fatalf("filtered: %+v", got)
	}
	if got := s.recent(filter{}, 3); len(got) != 3 || got[2].Event != "1049" {
		t.Fatalf("newest 3: %+v", got)
	}
}

// A viewer that does not read never blocks publishers: its queue keeps
// the newest events and counts the rest, in the metric too; the skipped
// and delivered events add up to what matched its filter.
func TestStreamSkipsUnderFlood(t *testing.T) {
	m := testMetrics(t)
	s := newStream(10, m)
	slow := s.subscribe(filter{Namespace: "/"}, 64, 4, 0)
	other := s.subscribe(filter{Namespace: "/chat"}, 64, 4, 0)
	const writers, each = 8, 5000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				s.publish(&source.Event{Namespace: "/", SID: fmt.Sprint(w), Event: fmt.Sprint(i)})
			}
		}()
	}
	wg.Wait()
	got, skipped := slow.take(nil)
	if len(got) != 64 || skipped != writers*each-64 {
		t.Fatalf("got %d, skipped %d; want 64 and %d", len(got), skipped, writers*each-64)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Fatal("delivered events out of order")
		}
	}
	if got[len(got)-1].Seq != writers*each {
		t.Fatalf("the newest event was not kept")
	}
	if n, sk := other.take(nil); len(n) != 0 || sk != 0 {
		t.Fatalf("a viewer of another namespace got %d, skipped %d", len(n), sk)
	}
	if v := testutil.ToFloat64(m.skipped); v != writers*each-64 {
		t.Fatalf("noom_admin_stream_skipped_events_total = %v", v)
	}
	if v := testutil.ToFloat64(m.viewers); v != 2 {
		t.Fatalf("viewers = %v", v)
	}
	// After a take the queue starts afresh.
	s.publish(&source.Event{Namespace: "/"})
	if got, sk := slow.take(nil); len(got) != 1 || sk != 0 {
		t.Fatalf("after take: %d, %d", len(got), sk)
	}
	s.unsubscribe(slow)
	s.unsubscribe(slow)
	s.unsubscribe(other)
	if v := testutil.ToFloat64(m.viewers); v != 0 {
		t.Fatalf("viewers after leaving = %v", v)
	}
}

func TestStreamMaxViewers(t *testing.T) {
	s := newStream(10, testMetrics(t))
	a, b := s.subscribe(filter{}, 4, 1, 0), s.subscribe(filter{}, 4, 1, 0)
	if a == nil || b != nil {
		t.Fatalf("max 1 viewer: got %v and %v", a, b)
	}
}

func TestFilterRoom(t *testing.T) {
	f := filter{Room: "r"}
	for _, tc := range []struct {
		e    source.Event
		want bool
	}{
		{source.Event{Kind: source.KindJoin, Rooms: []string{"r"}}, true},
		{source.Event{Kind: source.KindOut, Rooms: []string{"a", "r"}}, true},
		{source.Event{Kind: source.KindOut, Rooms: []string{"rr"}}, false},
		{source.Event{Kind: source.KindIn}, false},
	} {
		if got := f.match(&tc.e); got != tc.want {
			t.Errorf("%+v: %v", tc.e, got)
		}
	}
}

// BenchmarkPublish is the cost the hub pays per event with n viewers.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{0, 1, 8} {
		b.Run(fmt.Sprintf("viewers=%d", n), func(b *testing.B) {
			s := newStream(1000, testMetrics(b))
			for range n {
				s.subscribe(filter{}, 512, 32, 0)
			}
			e := source.Event{Kind: source.KindOut, Namespace: "/", Event: "signal", Rooms: []string{"room"}, Recipients: 4, Bytes: 300}
			b.ReportAllocs()
			for b.Loop() {
				s.publish(&e)
			}
		})
	}
}

// A viewer takes at most its rate of events a second, bursts up to one
// second's worth, counted by the events' own times: a flood past it is
// skipped and counted before it costs anything, and time refills it.
func TestStreamViewerRate(t *testing.T) {
	m := testMetrics(t)
	s := newStream(10, m)
	v := s.subscribe(filter{}, 1000, 4, 100)
	t0 := time.Unix(1000, 0)
	for i := range 500 { // 500 events within one millisecond
		s.publish(&source.Event{Time: t0.Add(time.Duration(i) * time.Microsecond / 2)})
	}
	got, skipped := v.take(nil)
	if len(got) != 100 || skipped != 400 {
		t.Fatalf("flood: %d delivered, %d skipped; want 100 and 400", len(got), skipped)
	}
	// Half a second later, half the bucket is back.
	for i := range 200 {
		s.publish(&source.Event{Time: t0.Add(500*time.Millisecond + time.Duration(i)*time.Microsecond)})
	}
	got, skipped = v.take(nil)
	if len(got) != 50 || skipped != 150 {
		t.Fatalf("after 0.5 s: %d delivered, %d skipped; want 50 and 150", len(got), skipped)
	}
	if n := testutil.ToFloat64(m.skipped); n != 550 {
		t.Fatalf("skipped metric %v, want 550", n)
	}
	// An unlimited viewer gets everything its buffer holds.
	u := s.subscribe(filter{}, 1000, 4, -1)
	for range 300 {
		s.publish(&source.Event{Time: t0})
	}
	if got, skipped := u.take(nil); len(got) != 300 || skipped != 0 {
		t.Fatalf("unlimited: %d delivered, %d skipped", len(got), skipped)
	}
}
