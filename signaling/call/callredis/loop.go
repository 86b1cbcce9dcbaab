package callredis

import (
	"context"
	"time"

	"github.com/noomrtc/noom/signaling/call"
)

// loop is the registry's one goroutine: it renews the lease and removes
// dead nodes' members every LeaseTTL/3, polls the list version every
// PollInterval, and while Redis is out of reach tries it every
// RetryInterval.
func (r *Registry) loop() {
	defer close(r.done)
	poll := time.NewTicker(r.cfg.PollInterval)
	defer poll.Stop()
	beat := time.NewTimer(r.cfg.LeaseTTL / 3)
	defer beat.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-poll.C:
			if r.up.Load() {
				r.poll()
			}
		case <-beat.C:
			if r.up.Load() {
				r.beat()
			} else if err := r.recover(); err != nil {
				r.cfg.Logger.Debug("call rooms: redis still unreachable", "err", err)
			}
			next := r.cfg.LeaseTTL / 3
			if !r.up.Load() {
				next = r.cfg.RetryInterval
			}
			beat.Reset(next)
		}
	}
}

func (r *Registry) loopCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), r.cfg.OpTimeout)
}

// poll tells the Service when another node changed a listed room.
func (r *Registry) poll() {
	ctx, cancel := r.loopCtx()
	defer cancel()
	var v string
	if r.run(ctx, opPoll, func(ctx context.Context) (err error) {
		v, err = r.rdb.Get(ctx, r.key("listv", "")).Result()
		return err
	}) != nil {
		return
	}
	if v != r.listv {
		r.listv = v
		r.listChanged()
	}
}

// renew renews the lease; had tells whether it was still there.
func (r *Registry) renew(ctx context.Context) (had bool, err error) {
	err = r.run(ctx, opLease, func(ctx context.Context) error {
		n, err := leaseScript.Run(ctx, r.rdb, nil, r.cfg.KeyPrefix, r.cfg.NodeID, r.cfg.LeaseTTL.Milliseconds()).Int()
		had = n == 1
		return err
	})
	return had, err
}

// beat renews the lease (putting the members back if it had expired) and
// removes the members of nodes whose lease expired.
func (r *Registry) beat() {
	ctx, cancel := r.loopCtx()
	defer cancel()
	had, err := r.renew(ctx)
	if err != nil {
		return
	}
	if !had {
		r.cfg.Logger.Warn("call rooms: this node's lease had expired; putting its members back")
		r.sync.Lock()
		ev, err := r.resyncLocked(ctx)
		r.sync.Unlock()
		if err != nil {
			return
		}
		r.fire(ev)
	}
	var reply any
	if r.run(ctx, opReap, func(ctx context.Context) (err error) {
		reply, err = reapScript.Run(ctx, r.rdb, nil, r.cfg.KeyPrefix, r.cfg.NodeID).Result()
		return err
	}) != nil {
		return
	}
	gone, err := pairsOf(reply, 2)
	if err != nil {
		r.m.errors[opReap].Inc()
		r.cfg.Logger.Warn("call rooms: unreadable reap reply", "err", err)
		return
	}
	if len(gone) > 0 {
		r.m.reaped.Add(float64(len(gone)))
		r.cfg.Logger.Info("call rooms: removed the members of dead nodes", "members", len(gone))
		r.fire(events{left: gone})
	}
}

// recover tries Redis: it renews the lease and makes Redis hold this
// node's members as the copy has them, then shares rooms again.
func (r *Registry) recover() error {
	ctx, cancel := r.loopCtx()
	defer cancel()
	r.sync.Lock()
	if _, err := r.renew(ctx); err != nil {
		r.sync.Unlock()
		return err
	}
	ev, err := r.resyncLocked(ctx)
	if err != nil {
		r.sync.Unlock()
		return err
	}
	r.up.Store(true)
	r.sync.Unlock()
	r.cfg.Logger.Info("call rooms: shared through redis")
	r.fire(ev)
	r.listChanged()
	return nil
}

// events are membership changes a resync or a reap made: {room, sid}
// left, {room, sid, value} joined.
type events struct{ left, joined [][]string }

// resyncLocked makes this node's members in Redis those of the copy.
func (r *Registry) resyncLocked(ctx context.Context) (events, error) {
	args := []any{r.cfg.KeyPrefix, r.cfg.NodeID}
	for _, room := range r.copy.Snapshot() {
		for _, m := range room.Members {
			v := member{node: r.cfg.NodeID, fold: fold(m.Name), name: m.Name}.encode()
			args = append(args, room.Name, m.ID, v, room.Salt, room.Hash, flag(room.Listed))
		}
	}
	var reply any
	if err := r.run(ctx, opResync, func(ctx context.Context) (err error) {
		reply, err = resyncScript.Run(ctx, r.rdb, nil, args...).Result()
		return err
	}); err != nil {
		return events{}, err
	}
	r.m.resyncs.Inc()
	parts, ok := reply.([]any)
	if !ok || len(parts) != 2 {
		r.m.errors[opResync].Inc()
		return events{}, ErrMalformed
	}
	left, err := pairsOf(parts[0], 2)
	if err != nil {
		return events{}, err
	}
	joined, err := pairsOf(parts[1], 3)
	return events{left: left, joined: joined}, err
}

// fire tells the Service what changed without it.
func (r *Registry) fire(ev events) {
	h := r.hooks.Load()
	for _, e := range ev.left {
		if h.Left != nil {
			h.Left(e[0], e[1])
		}
	}
	for _, e := range ev.joined {
		m, err := decodeMember(e[2])
		if err == nil && h.Joined != nil {
			h.Joined(e[0], call.Member{ID: e[1], Name: m.name})
		}
	}
	if len(ev.left)+len(ev.joined) > 0 {
		r.listChanged()
	}
}
