package stunturn

import (
	"sync"
	"time"
)

// presence ties TURN use to signaling presence (Config.Presence). An
// Allocate needs its user present now. Refresh, CreatePermission and
// ChannelBind need the user present, or absent for less than the grace.
// When a user went away is learnt by asking: at each such request, and
// by a sweep over the users holding allocations every grace/4, so that
// "absent for the grace" is measured from within grace/4 of the moment
// the user left, however rarely its client refreshes.
type presence struct {
	present func(user string) bool
	grace   time.Duration

	mu     sync.Mutex
	absent map[string]time.Time // user -> when first seen absent; guarded by mu

	stop chan struct{} // closed by Close
	done chan struct{} // closed when the sweep has returned
}

func newPresence(present func(string) bool, grace time.Duration) *presence {
	return &presence{
		present: present,
		grace:   grace,
		absent:  make(map[string]time.Time),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// allocate reports whether user may allocate: only when present.
func (p *presence) allocate(user string) bool {
	return p.present(user) // absent: refused without grace
}

// use reports whether user may keep using its allocations: present, or
// absent for less than the grace.
func (p *presence) use(user string) bool {
	now := time.Now()
	if p.observe(user, now) {
		return true
	}
	p.mu.Lock()
	since := p.absent[user]
	p.mu.Unlock()
	return now.Sub(since) < p.grace
}

// observe asks whether user is present and records when it was first
// seen absent. Presence is called without p.mu held.
func (p *presence) observe(user string, now time.Time) bool {
	here := p.present(user)
	p.mu.Lock()
	defer p.mu.Unlock()
	if here {
		delete(p.absent, user)
	} else if _, ok := p.absent[user]; !ok {
		p.absent[user] = now
	}
	return here
}

// sweep asks about every user that holds an allocation, every grace/4,
// until stop is closed; it forgets users that hold none.
func (p *presence) sweep(users func() []string) {
	defer close(p.done)
	t := time.NewTicker(max(p.grace/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		live := users()
		now := time.Now()
		for _, u := range live {
			p.observe(u, now)
		}
		p.forgetOthers(live)
	}
}

// forgetOthers drops the absence records of users not in live (sorted).
func (p *presence) forgetOthers(live []string) {
	keep := make(map[string]struct{}, len(live))
	for _, u := range live {
		keep[u] = struct{}{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for u := range p.absent {
		if _, ok := keep[u]; !ok {
			delete(p.absent, u)
		}
	}
}
