package admin

import (
	"slices"
	"sync"
	"time"

	"github.com/noomrtc/noom/admin/source"
	"github.com/noomrtc/noom/internal/tokens"
)

// stream is the message flow: a ring of the last events, filled by the
// hub's observer hook, and the live viewers. publish never blocks and
// never allocates per viewer: each viewer has its own bounded ring that
// drops its oldest event when full and counts the drop (derp's sendPkt /
// recordDrop idea), and a one-slot channel that says "something new".
type stream struct {
	m *metrics

	mu sync.Mutex
	// mu guards the following fields.
	seq     uint64
	ring    []source.Event // circular, len == cap once full
	next    int            // where the next event goes once full
	viewers map[*viewer]struct{}
}

func newStream(size int, m *metrics) *stream {
	return &stream{m: m, ring: make([]source.Event, 0, size), viewers: map[*viewer]struct{}{}}
}

// publish records e and hands it to every viewer whose filter matches.
// It takes a pointer, and never copies the event onto its stack: it runs
// on the hub's reading goroutines, whose stacks must stay small.
func (s *stream) publish(e *source.Event) {
	s.mu.Lock()
	s.seq++
	e.Seq = s.seq
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, *e)
	} else if cap(s.ring) > 0 {
		s.ring[s.next] = *e
		s.next = (s.next + 1) % cap(s.ring)
	}
	for v := range s.viewers {
		if v.f.match(e) {
			v.push(e)
		}
	}
	s.mu.Unlock()
}

// recent returns the kept events matching f, oldest first, at most max
// (the newest ones).
func (s *stream) recent(f filter, max int) []source.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []source.Event
	n := len(s.ring)
	for i := n - 1; i >= 0 && len(out) < max; i-- {
		e := &s.ring[(s.next+i)%n]
		if f.match(e) {
			out = append(out, *e)
		}
	}
	slices.Reverse(out)
	return out
}

// subscribe adds a viewer that takes at most rate events a second (0: no
// limit), or returns nil when max viewers are watching.
func (s *stream) subscribe(f filter, buffer, max, rate int) *viewer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.viewers) >= max {
		return nil
	}
	v := &viewer{f: f, buf: make([]source.Event, buffer), ready: make(chan struct{}, 1), m: s.m, limited: rate > 0,
		tokens: tokens.New(float64(rate))}
	s.viewers[v] = struct{}{}
	s.m.viewers.Inc()
	return v
}

func (s *stream) unsubscribe(v *viewer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.viewers[v]; ok {
		delete(s.viewers, v)
		s.m.viewers.Dec()
	}
}

// viewer is one live watcher's bounded queue.
type viewer struct {
	f     filter
	ready chan struct{} // one slot: events are waiting
	m     *metrics

	mu sync.Mutex
	// mu guards the following fields.
	buf     []source.Event // circular
	head, n int
	skipped uint64 // dropped since the last take

	// With limited, a token bucket of rate events a second, bursts up to
	// one second's worth, refilled by the events' own times: past it an
	// event is skipped and counted, before it costs the viewer anything.
	// Nobody reads tens of thousands of events a second, and encoding them
	// would take the hub's time.
	limited bool
	tokens  tokens.Bucket
}

// push adds e, dropping the oldest waiting event when full, or skipping e
// past the viewer's rate. It never blocks.
func (v *viewer) push(e *source.Event) {
	v.mu.Lock()
	if v.limited {
		now := e.Time
		if now.IsZero() {
			now = time.Now()
		}
		if !v.tokens.Take(now, 1) {
			v.skipped++
			v.m.skipped.Inc()
			v.mu.Unlock()
			return
		}
	}
	if v.n == len(v.buf) {
		v.head = (v.head + 1) % len(v.buf)
		v.n--
		v.skipped++
		v.m.skipped.Inc()
	}
	v.buf[(v.head+v.n)%len(v.buf)] = *e
	v.n++
	v.mu.Unlock()
	select {
	case v.ready <- struct{}{}:
	default:
	}
}

// take moves the waiting events into dst and returns them with how many
// were skipped since the last take.
func (v *viewer) take(dst []source.Event) ([]source.Event, uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := 0; i < v.n; i++ {
		dst = append(dst, v.buf[(v.head+i)%len(v.buf)])
		v.buf[(v.head+i)%len(v.buf)] = source.Event{}
	}
	v.head, v.n = 0, 0
	sk := v.skipped
	v.skipped = 0
	return dst, sk
}

// filter selects events of the flow; empty fields match anything.
type filter struct {
	Namespace string
	Room      string
	SID       string
	Event     string
	Kind      source.EventKind
}

func (f *filter) match(e *source.Event) bool {
	if f.Namespace != "" && e.Namespace != f.Namespace {
		return false
	}
	if f.SID != "" && e.SID != f.SID {
		return false
	}
	if f.Event != "" && e.Event != f.Event {
		return false
	}
	if f.Kind != "" && e.Kind != f.Kind {
		return false
	}
	if f.Room != "" && !slices.Contains(e.Rooms, f.Room) {
		return false
	}
	return true
}
