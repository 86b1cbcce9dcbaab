package admin

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/noomrtc/noom/admin/source"
	"github.com/noomrtc/noom/admin/views"
)

// sample is the state read once a second for the charts.
type sample struct {
	t           time.Time
	hub         source.HubStats
	allocations int
	relayBytes  uint64
}

// sampler keeps the last History of samples in a ring.
type sampler struct {
	mu sync.Mutex
	// mu guards the following fields.
	ring []sample
	next int
}

func (s *sampler) add(x sample, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ring) < size {
		s.ring = append(s.ring, x)
		return
	}
	s.ring[s.next] = x
	s.next = (s.next + 1) % size
}

// all returns the samples oldest first.
func (s *sampler) all() []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]sample, 0, len(s.ring))
	out = append(out, s.ring[s.next:]...)
	return append(out, s.ring[:s.next]...)
}

// take reads the sources once.
func (c *Console) take() sample {
	x := sample{t: c.cfg.Now(), hub: c.cfg.Hub.Stats()}
	if c.cfg.TURN != nil {
		for _, a := range c.cfg.TURN.Allocations() {
			x.allocations++
			x.relayBytes += a.BytesToPeer + a.BytesToClient
		}
	}
	return x
}

func (c *Console) sampleLoop() {
	defer close(c.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	size := int(c.cfg.History / time.Second)
	c.samples.add(c.take(), size)
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
			c.samples.add(c.take(), size)
		}
	}
}

// rate is the per-second growth of a counter between two samples; a
// counter that went down (a deleted allocation) counts as 0.
func rate(a, b uint64, dt time.Duration) float64 {
	if b < a || dt <= 0 {
		return 0
	}
	return float64(b-a) / dt.Seconds()
}

// overview builds the overview from the samples and a fresh reading.
func (c *Console) overview() views.Overview {
	hist := c.samples.all()
	now := c.take()
	o := views.Overview{Time: now.t, Version: c.cfg.Version, UptimeSeconds: now.t.Sub(c.started).Seconds(),
		Sockets: now.hub.Sockets, Polling: now.hub.Polling, WebSocket: now.hub.WebSocket, PublicRooms: now.hub.PublicRooms,
		SlowConsumers: now.hub.SlowConsumers, TURN: c.cfg.TURN != nil, Allocations: now.allocations, Calls: c.cfg.Calls != nil}
	c.stream.mu.Lock()
	o.Viewers = len(c.stream.viewers)
	c.stream.mu.Unlock()
	o.Namespaces = c.cfg.Hub.Namespaces()
	if len(hist) > 0 {
		prev := hist[len(hist)-1]
		if len(hist) > 1 && now.t.Sub(prev.t) < time.Second/2 {
			prev = hist[len(hist)-2]
		}
		dt := now.t.Sub(prev.t)
		o.EventsInRate = rate(prev.hub.EventsIn, now.hub.EventsIn, dt)
		o.EventsOutRate = rate(prev.hub.EventsOut, now.hub.EventsOut, dt)
		o.BytesInRate = rate(prev.hub.BytesIn, now.hub.BytesIn, dt)
		o.BytesOutRate = rate(prev.hub.BytesOut, now.hub.BytesOut, dt)
		o.RelayBytesRate = rate(prev.relayBytes, now.relayBytes, dt)
	}
	if c.cfg.Calls != nil {
		c.callQuality(&o, c.cfg.Calls.Reports())
	}
	o.Charts = c.charts(hist)
	return o
}

func (c *Console) callQuality(o *views.Overview, reports []source.CallReport) {
	var connected, relay int
	var rtts []float64
	for _, r := range reports {
		if r.State != "connected" {
			continue
		}
		connected++
		if r.CandidateType == "relay" {
			relay++
		}
		if r.RTTMs > 0 {
			rtts = append(rtts, r.RTTMs)
		}
	}
	o.Pairs = len(reports)
	if len(reports) > 0 {
		o.ConnectedShare = float64(connected) / float64(len(reports))
	}
	if connected > 0 {
		o.RelayShare = float64(relay) / float64(connected)
	}
	slices.Sort(rtts)
	o.RTTp50Ms, o.RTTp95Ms = quantile(rtts, 0.5), quantile(rtts, 0.95)
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// charts makes the overview's series from the samples: rates between
// neighbours, levels as read.
func (c *Console) charts(hist []sample) []views.Chart {
	n := max(len(hist)-1, 0)
	series := func(f func(a, b sample) float64) []float64 {
		out := make([]float64, n)
		for i := 1; i < len(hist); i++ {
			out[i-1] = math.Round(f(hist[i-1], hist[i])*10) / 10
		}
		return out
	}
	level := func(f func(s source.HubStats) int) func(a, b sample) float64 {
		return func(_, b sample) float64 { return float64(f(b.hub)) }
	}
	counter := func(f func(s sample) uint64) func(a, b sample) float64 {
		return func(a, b sample) float64 { return rate(f(a), f(b), b.t.Sub(a.t)) }
	}
	out := []views.Chart{
		{ID: "sockets", Title: "Sockets", Series: []views.Series{
			{Name: "WebSocket", Points: series(level(func(s source.HubStats) int { return s.WebSocket }))},
			{Name: "polling", Points: series(level(func(s source.HubStats) int { return s.Polling }))}}},
		{ID: "events", Title: "Events", Unit: "/s", Series: []views.Series{
			{Name: "in", Points: series(counter(func(s sample) uint64 { return s.hub.EventsIn }))},
			{Name: "out", Points: series(counter(func(s sample) uint64 { return s.hub.EventsOut }))}}},
		{ID: "bytes", Title: "Bytes", Unit: "B/s", Series: []views.Series{
			{Name: "in", Points: series(counter(func(s sample) uint64 { return s.hub.BytesIn }))},
			{Name: "out", Points: series(counter(func(s sample) uint64 { return s.hub.BytesOut }))}}},
	}
	if c.cfg.TURN != nil {
		out = append(out, views.Chart{ID: "turn", Title: "TURN relayed", Unit: "B/s", Series: []views.Series{
			{Name: "relayed", Points: series(counter(func(s sample) uint64 { return s.relayBytes }))}}})
	}
	return out
}
