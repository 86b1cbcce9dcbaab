package call

import (
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, at most burst.
type bucket struct {
	bmu    sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *bucket) init(rate float64, burst int) {
	b.rate, b.burst, b.tokens = rate, float64(burst), float64(burst)
}

func (b *bucket) refillLocked(now time.Time) {
	if !b.last.IsZero() {
		b.tokens += now.Sub(b.last).Seconds() * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
	}
	b.last = now
}

// allow takes a token if there is one.
func (b *bucket) allow(now time.Time) bool {
	b.bmu.Lock()
	defer b.bmu.Unlock()
	b.refillLocked(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// has tells whether a token is there, without taking it.
func (b *bucket) has(now time.Time) bool {
	b.bmu.Lock()
	defer b.bmu.Unlock()
	b.refillLocked(now)
	return b.tokens >= 1
}

// full tells whether the bucket has refilled completely: forgetting it
// then loses nothing.
func (b *bucket) full(now time.Time) bool {
	b.bmu.Lock()
	defer b.bmu.Unlock()
	b.refillLocked(now)
	return b.tokens >= b.burst
}

// client is what the service keeps per client IP: its sockets and the
// buckets they share. Service.mu guards sockets.
type client struct {
	sockets   int
	joins     bucket // membership changes
	creates   bucket // rooms created
	passcodes bucket // wrong passcodes
}

func (svc *Service) newClient() *client {
	c := &client{}
	c.joins.init(svc.cfg.IPJoinsPerSecond, svc.cfg.IPJoinBurst)
	c.creates.init(svc.cfg.IPCreatesPerSecond, svc.cfg.IPCreateBurst)
	c.passcodes.init(svc.cfg.PasscodeFailuresPerMinute/60, svc.cfg.PasscodeFailureBurst)
	return c
}

// idle tells whether c may be forgotten: no sockets, every bucket full.
func (c *client) idle(now time.Time) bool {
	return c.sockets == 0 && c.joins.full(now) && c.creates.full(now) && c.passcodes.full(now)
}
