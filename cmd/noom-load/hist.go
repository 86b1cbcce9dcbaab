package main

import (
	"fmt"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"
)

// hist is a latency histogram that many goroutines record into without a
// lock: 16 buckets per power of two (about 6 % wide), so a percentile is
// read to within 6 %. The zero value is ready.
type hist struct {
	counts [64 * 16]atomic.Int64
	n      atomic.Int64
	max    atomic.Int64
}

func bucketOf(ns int64) int {
	if ns < 16 {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) - 5 // keep the top 5 bits: 1 + 4 for the sub-bucket
	return (e+1)*16 + int(ns>>e)&15
}

// lowOf is the smallest value of bucket b.
func lowOf(b int) int64 {
	if b < 16 {
		return int64(b)
	}
	e := b/16 - 1
	return (16 + int64(b%16)) << e
}

func (h *hist) add(d time.Duration) {
	ns := int64(d)
	h.counts[bucketOf(ns)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if ns <= m || h.max.CompareAndSwap(m, ns) {
			return
		}
	}
}

// count is how many values were recorded.
func (h *hist) count() int64 { return h.n.Load() }

// quantile returns the value below which a fraction q of the recorded
// values lie (the upper end of its bucket, capped at the maximum).
func (h *hist) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(q*float64(n-1)) + 1
	var seen int64
	for b := range h.counts {
		seen += h.counts[b].Load()
		if seen >= rank {
			return time.Duration(min(lowOf(b+1)-1, h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// quantileOf is the q-quantile among the recorded values and lost ones
// (sent, never received), which count as later than every received one:
// ok is false when the quantile falls among the lost.
func (h *hist) quantileOf(q float64, lost int64) (d time.Duration, ok bool) {
	n := h.count()
	if n == 0 || float64(n) < q*float64(n+lost) {
		return 0, false
	}
	return h.quantile(q * float64(n+lost) / float64(n)), true
}

// summary prints p50/p95/p99/max; lost values (sent, never received) count
// as later than every received one, so a percentile that falls among them
// reads "lost".
func (h *hist) summary(lost int64) string {
	n := h.count()
	if n == 0 && lost == 0 {
		return "no samples"
	}
	var b strings.Builder
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50", .50}, {"p95", .95}, {"p99", .99}} {
		if d, ok := h.quantileOf(q.q, lost); ok {
			fmt.Fprintf(&b, "%s %v, ", q.name, round(d))
		} else {
			fmt.Fprintf(&b, "%s lost, ", q.name)
		}
	}
	fmt.Fprintf(&b, "max %v", round(time.Duration(h.max.Load())))
	if lost > 0 {
		fmt.Fprintf(&b, " (%d of %d never arrived)", lost, n+lost)
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
