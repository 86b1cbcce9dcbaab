// Package tokens is a token bucket clocked by the caller: the times it is
// given are the events' own, so it needs no clock of its own and tests
// can drive it. A Bucket is not safe for concurrent use; its owner's lock
// guards it.
package tokens

import "time"

// Bucket holds up to one second's worth of tokens at its rate.
type Bucket struct {
	rate, tokens float64
	last         time.Time
}

// New returns a full bucket of rate tokens a second.
func New(rate float64) Bucket { return Bucket{rate: rate, tokens: rate} }

// Take refills the bucket for the time since the latest now it was given
// (a time before it adds nothing) and takes n tokens if it holds them,
// reporting whether it did.
func (b *Bucket) Take(now time.Time, n float64) bool {
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(b.rate, b.tokens+dt.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}
