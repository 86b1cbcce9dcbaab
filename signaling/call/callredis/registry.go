package callredis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling/call"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Registry is a call.Registry shared by the nodes of a cluster through
// Redis. See the package documentation.
type Registry struct {
	cfg  Config
	rdb  redis.UniversalClient
	m    *metrics
	copy *call.MemoryRegistry // this node's members, with their rooms' meta

	// sync is held shared by each change (of Redis and the copy) and
	// exclusively by a resync, which makes Redis match the copy.
	sync sync.RWMutex
	up   atomic.Bool // Redis answers: decide there, else from the copy

	hooks  atomic.Pointer[call.Hooks]
	listv  string // the list version last seen; the loop's own
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
}

var _ call.Registry = (*Registry)(nil)

// New makes this node's registry over rdb, which the caller owns and
// closes after Close. Redis need not be up: the registry then answers from
// this node's rooms and joins the cluster when Redis comes back. The
// metrics are registered on reg; a duplicate registration is an error.
//
// Give rdb ContextTimeoutEnabled so that Config.OpTimeout bounds each
// call; otherwise go-redis' own timeouts and retries do.
func New(cfg Config, rdb redis.UniversalClient, reg prometheus.Registerer) (*Registry, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if rdb == nil || reg == nil {
		return nil, errors.New("callredis: New needs a redis client and a registerer")
	}
	r := &Registry{cfg: cfg, rdb: rdb, copy: call.NewMemoryRegistry(),
		stop: make(chan struct{}), done: make(chan struct{})}
	r.cfg.Logger = cfg.Logger.With("component", "callredis", "node", cfg.NodeID)
	m, err := newMetrics(reg, r)
	if err != nil {
		return nil, err
	}
	r.m = m
	r.hooks.Store(&call.Hooks{})
	if err := r.recover(); err != nil {
		r.cfg.Logger.Warn("call rooms: redis unreachable at start; rooms are this node's own until it answers", "err", err)
	}
	go r.loop()
	return r, nil
}

// NodeID is this node's id in Redis.
func (r *Registry) NodeID() string { return r.cfg.NodeID }

// Up reports whether rooms are shared through Redis now (not degraded to
// this node's own).
func (r *Registry) Up() bool { return r.up.Load() }

// Close stops the registry's goroutine and gives up this node's lease, so
// that the other nodes remove at once any member this node still has
// (close the hub first: its sockets' leaves are then recorded). It does
// not close rdb.
func (r *Registry) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	close(r.stop)
	<-r.done
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.OpTimeout)
	defer cancel()
	r.rdb.Del(ctx, r.key("lease:", r.cfg.NodeID))
	return nil
}

// Watch implements call.Registry.
func (r *Registry) Watch(h call.Hooks) { r.hooks.Store(&h) }

func (r *Registry) key(kind, name string) string { return r.cfg.KeyPrefix + kind + name }

// run runs one Redis call of op under OpTimeout, timing it; a failure
// makes the registry answer locally until it recovers.
func (r *Registry) run(ctx context.Context, op string, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.OpTimeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	r.m.seconds[op].Observe(time.Since(start).Seconds())
	if err != nil && !errors.Is(err, redis.Nil) {
		r.m.errors[op].Inc()
		r.down(op, err)
		return err
	}
	return nil
}

// down switches to local answers.
func (r *Registry) down(op string, err error) {
	if r.up.Swap(false) {
		r.cfg.Logger.Warn("call rooms: redis unreachable; rooms are this node's own (cap per node, no cross-node signals) until it answers",
			"op", op, "err", err)
		r.listChanged()
	}
}

func (r *Registry) listChanged() {
	if f := r.hooks.Load().ListChanged; f != nil {
		f()
	}
}

func hasNewline(s ...string) bool {
	return slices.ContainsFunc(s, func(x string) bool { return strings.Contains(x, "\n") })
}

// Join implements call.Registry: one script decides and records the join
// (two when the room has a passcode: the first returns its salt).
func (r *Registry) Join(ctx context.Context, req call.JoinRequest) (call.JoinResult, error) {
	if hasNewline(req.Room, req.SID, req.Name) {
		return call.JoinResult{}, ErrInvalidName
	}
	r.sync.RLock()
	defer r.sync.RUnlock()
	if !r.up.Load() {
		return r.joinLocal(ctx, req)
	}
	mem := member{node: r.cfg.NodeID, fold: fold(req.Name), name: req.Name}
	var newSalt, newHash, usedSalt, hash []byte
	if req.Passcode != "" {
		newSalt = call.NewSalt()
		newHash = call.HashPasscode(newSalt, req.Passcode)
	}
	for range 3 {
		var reply any
		err := r.run(ctx, opJoin, func(ctx context.Context) (err error) {
			reply, err = joinScript.Run(ctx, r.rdb, nil, r.cfg.KeyPrefix, req.Room, req.SID, r.cfg.NodeID, mem.fold, mem.encode(),
				req.Cap, usedSalt, hash, newSalt, newHash, flag(req.Listed),
				flag(req.SpentPasscodes), flag(req.SpentJoins), flag(req.SpentCreates), flag(req.Passcode != "")).Result()
			return err
		})
		if err != nil {
			return r.joinLocal(ctx, req)
		}
		res, salt, retry, err := r.joined(reply, req)
		if err != nil {
			r.m.errors[opJoin].Inc()
			return call.JoinResult{}, err
		}
		if !retry {
			return res, nil
		}
		// The room has a passcode: hash ours with its salt and ask again.
		usedSalt, hash = []byte(salt), call.HashPasscode([]byte(salt), req.Passcode)
	}
	return call.JoinResult{}, errors.New("callredis: the room changed under three joins in a row")
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// joined reads the join script's reply, and records a join in the copy.
func (r *Registry) joined(reply any, req call.JoinRequest) (res call.JoinResult, salt string, retry bool, err error) {
	head, rest, err := stringsOf(reply, 2)
	if err != nil {
		return res, "", false, err
	}
	res.Passcode = head[1] == "1"
	switch head[0] {
	case "retry":
		s, _, err := stringsOf(rest, 1)
		if err != nil {
			return res, "", false, err
		}
		return res, s[0], true, nil
	case "ok":
	case call.CodeBadPasscode, call.CodeRoomFull, call.CodeNameTaken, call.CodeRateLimited:
		res.Code = head[0]
		return res, "", false, nil
	default:
		return res, "", false, fmt.Errorf("%w: join answered %q", ErrMalformed, head[0])
	}
	meta, rest, err := stringsOf(rest, 4)
	if err != nil || len(rest) != 1 {
		return res, "", false, fmt.Errorf("%w: join reply %v", ErrMalformed, reply)
	}
	peers, err := pairsOf(rest[0], 2)
	if err != nil {
		return res, "", false, err
	}
	res.Listed, res.Created = meta[0] == "1", meta[1] == "1"
	res.Peers = make([]call.Member, 0, len(peers))
	for _, p := range peers {
		if p[0] == req.SID {
			continue
		}
		m, err := decodeMember(p[1])
		if err != nil {
			return res, "", false, err
		}
		res.Peers = append(res.Peers, call.Member{ID: p[0], Name: m.name})
	}
	sortMembers(res.Peers)
	r.copy.Put(roomMeta(req.Room, meta[0], meta[2], meta[3]), call.Member{ID: req.SID, Name: req.Name})
	return res, "", false, nil
}

func roomMeta(room, listed, salt, hash string) call.RoomMeta {
	m := call.RoomMeta{Name: room, Listed: listed == "1"}
	if hash != "" {
		m.Salt, m.Hash = []byte(salt), []byte(hash)
	}
	return m
}

func sortMembers(ms []call.Member) {
	slices.SortFunc(ms, func(a, b call.Member) int { return strings.Compare(a.ID, b.ID) })
}

// joinLocal decides a join from this node's rooms: Redis is out of reach.
func (r *Registry) joinLocal(ctx context.Context, req call.JoinRequest) (call.JoinResult, error) {
	r.m.local[opJoin].Inc()
	return r.copy.Join(ctx, req)
}

// Leave implements call.Registry.
func (r *Registry) Leave(ctx context.Context, room, sid string) error {
	r.sync.RLock()
	defer r.sync.RUnlock()
	r.copy.Leave(ctx, room, sid)
	if !r.up.Load() {
		r.m.local[opLeave].Inc()
		return nil // the resync removes it from Redis
	}
	r.run(ctx, opLeave, func(ctx context.Context) error {
		return leaveScript.Run(ctx, r.rdb, nil, r.cfg.KeyPrefix, room, sid).Err()
	})
	return nil
}

// Members implements call.Registry.
func (r *Registry) Members(ctx context.Context, room string) ([]call.Member, error) {
	if r.up.Load() {
		var all map[string]string
		err := r.run(ctx, opMembers, func(ctx context.Context) (err error) {
			all, err = r.rdb.HGetAll(ctx, r.key("members:", room)).Result()
			return err
		})
		if err == nil {
			out := make([]call.Member, 0, len(all))
			for sid, v := range all {
				m, err := decodeMember(v)
				if err != nil {
					r.m.errors[opMembers].Inc()
					return nil, err
				}
				out = append(out, call.Member{ID: sid, Name: m.name})
			}
			sortMembers(out)
			return out, nil
		}
	}
	r.m.local[opMembers].Inc()
	return r.copy.Members(ctx, room)
}

// Shares implements call.Registry: one round trip for all of rooms.
func (r *Registry) Shares(ctx context.Context, rooms []string, sid string) (bool, error) {
	if r.up.Load() {
		var cmds []redis.Cmder
		err := r.run(ctx, opShares, func(ctx context.Context) (err error) {
			cmds, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, room := range rooms {
					p.HExists(ctx, r.key("members:", room), sid)
				}
				return nil
			})
			return err
		})
		if err == nil {
			return slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return c.(*redis.BoolCmd).Val() }), nil
		}
	}
	r.m.local[opShares].Inc()
	return r.copy.Shares(ctx, rooms, sid)
}

// List implements call.Registry: the sorted set's score is minus the
// size, so its order (score, then name) is the list's.
func (r *Registry) List(ctx context.Context, n int) (call.RoomList, error) {
	if r.up.Load() {
		var top *redis.ZSliceCmd
		var total *redis.IntCmd
		err := r.run(ctx, opList, func(ctx context.Context) error {
			_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				top = p.ZRangeWithScores(ctx, r.key("list", ""), 0, int64(n-1))
				total = p.ZCard(ctx, r.key("list", ""))
				return nil
			})
			return err
		})
		if err == nil {
			l := call.RoomList{Rooms: make([]call.RoomSize, 0, len(top.Val())), Total: int(total.Val())}
			for _, z := range top.Val() {
				name, _ := z.Member.(string)
				l.Rooms = append(l.Rooms, call.RoomSize{Name: name, Size: int(-z.Score)})
			}
			return l, nil
		}
	}
	r.m.local[opList].Inc()
	return r.copy.List(ctx, n)
}
