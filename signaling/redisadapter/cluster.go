package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Cluster is this node's connection to the other nodes through Redis:
// one subscriber connection for every namespace, one publisher goroutine,
// one goroutine that applies what other nodes send, and the heartbeat.
// Its Adapter method is a signaling.Config.Adapter.
type Cluster struct {
	cfg    Config
	rdb    *redis.Client
	log    *slog.Logger
	uid    string // this node's id on the wire
	m      *metrics
	ps     *redis.PubSub
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	out  chan outMsg   // to publish, in order
	in   chan inbound  // received, to apply in order
	link atomic.Int32  // linkUnknown, linkUp or linkDown: the subscriber connection
	seq  atomic.Uint64 // request ids

	mu        sync.Mutex
	closed    bool
	byChannel map[string]*adapter              // subscribed channel or pattern → namespace adapter
	confirms  map[string]chan struct{}         // channel → closed when Redis confirms the subscription
	pending   map[string]*pending              // request id → this node's request awaiting answers
	nodes     map[string]time.Time             // node uid → last heartbeat
	remote    map[*context.CancelFunc]struct{} // other nodes' ack broadcasts still collecting
}

type outMsg struct {
	channel string
	payload []byte
}

type inbound struct {
	a   *adapter
	msg *redis.Message
}

// New connects this node to the cluster over rdb, which the caller owns
// and closes after Close. Redis need not be up: the node then serves its
// own clients, reports noom_redis_up 0, and joins the cluster when Redis
// comes back (go-redis reconnects and resubscribes). The metrics are
// registered on reg; a duplicate registration is an error.
func New(cfg Config, rdb *redis.Client, reg prometheus.Registerer, log *slog.Logger) (*Cluster, error) {
	if rdb == nil || reg == nil {
		return nil, errors.New("redisadapter: New needs a redis client and a registerer")
	}
	c, err := newCluster(cfg, rdb, reg, log)
	if err != nil {
		return nil, err
	}
	c.ps = rdb.Subscribe(c.ctx) // no channel yet: connects on first use
	c.subscribe(nil, c.heartbeatChannel(), false)
	c.wg.Add(4)
	go c.receiveLoop()
	go c.applyLoop()
	go c.publishLoop()
	go c.heartbeatLoop()
	return c, nil
}

// newCluster makes a Cluster that is not connected yet: no subscriber
// connection, no goroutine.
func newCluster(cfg Config, rdb *redis.Client, reg prometheus.Registerer, log *slog.Logger) (*Cluster, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	var id [8]byte
	rand.Read(id[:])
	c := &Cluster{cfg: cfg, rdb: rdb, log: log.With("component", "redisadapter"), uid: hex.EncodeToString(id[:]),
		out: make(chan outMsg, cfg.PublishQueue), in: make(chan inbound, cfg.ReceiveQueue),
		byChannel: map[string]*adapter{}, confirms: map[string]chan struct{}{}, pending: map[string]*pending{},
		nodes: map[string]time.Time{}, remote: map[*context.CancelFunc]struct{}{}}
	m, err := newMetrics(reg, c)
	if err != nil {
		return nil, err
	}
	c.m = m
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// UID is this node's id on the wire.
func (c *Cluster) UID() string { return c.uid }

// States of the subscriber connection.
const (
	linkUnknown int32 = iota // not connected yet, no failure yet
	linkUp                   // connected and subscribed
	linkDown                 // failed; go-redis redials
)

// Up reports whether the subscriber connection is up and subscribed.
// While it is not, the node serves its own clients only.
func (c *Cluster) Up() bool { return c.link.Load() == linkUp }

// Nodes lists the Noom nodes heard from within the heartbeat timeout,
// this one included, sorted. Node (JavaScript) servers do not beat: count
// them with ServerCount.
func (c *Cluster) Nodes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pruneNodesLocked(time.Now())
	out := []string{c.uid}
	for uid := range c.nodes {
		if uid != c.uid {
			out = append(out, uid)
		}
	}
	slices.Sort(out)
	return out
}

// pruneNodesLocked forgets the nodes not heard from within the heartbeat
// timeout.
func (c *Cluster) pruneNodesLocked(now time.Time) {
	cut := now.Add(-c.cfg.HeartbeatTimeout)
	for uid, seen := range c.nodes {
		if seen.Before(cut) {
			delete(c.nodes, uid)
		}
	}
}

// Close stops the cluster's goroutines, waits for them, and closes the
// subscriber connection (not rdb). Close the signaling servers first.
// Messages still queued are dropped and counted.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	remote := slices.Collect(maps.Keys(c.remote))
	c.mu.Unlock()
	for _, cancel := range remote {
		(*cancel)()
	}
	c.cancel()
	err := c.ps.Close()
	c.wg.Wait()
	for range len(c.out) {
		<-c.out
		c.m.drop(dropClosed)
	}
	for range len(c.in) {
		<-c.in
		c.m.drop(dropClosed)
	}
	return err
}

func (c *Cluster) heartbeatChannel() string { return c.cfg.KeyPrefix + "-noom#heartbeat#" }

// subscribe subscribes to channel (a pattern when pattern is set) for a,
// and waits, at most RequestTimeout, until Redis confirms, so that a
// namespace hears what other nodes send from the moment it exists. With
// Redis down it returns at once; go-redis subscribes on reconnect.
func (c *Cluster) subscribe(a *adapter, channel string, pattern bool) {
	ch := make(chan struct{})
	c.mu.Lock()
	c.byChannel[channel] = a
	c.confirms[channel] = ch
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.RequestTimeout)
	defer cancel()
	var err error
	if pattern {
		err = c.ps.PSubscribe(ctx, channel)
	} else {
		err = c.ps.Subscribe(ctx, channel)
	}
	if err != nil {
		// go-redis keeps the channel and subscribes it on reconnect; the
		// link state is what the log reports (see setUp).
		c.log.Debug("redis subscribe failed; subscribing on reconnect", "channel", channel, "err", err)
		return
	}
	if a == nil {
		return // the heartbeat channel: nobody waits for it
	}
	select {
	case <-ch:
	case <-ctx.Done():
		c.log.Warn("redis subscription not confirmed in time", "channel", channel)
	}
}

func (c *Cluster) unsubscribe(channels, patterns []string) {
	c.mu.Lock()
	for _, ch := range append(slices.Clone(channels), patterns...) {
		delete(c.byChannel, ch)
		delete(c.confirms, ch)
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.PublishTimeout)
	defer cancel()
	_ = c.ps.Unsubscribe(ctx, channels...)
	_ = c.ps.PUnsubscribe(ctx, patterns...)
}

// publish queues a message without blocking; a full queue drops it.
func (c *Cluster) publish(channel string, payload []byte) {
	select {
	case c.out <- outMsg{channel, payload}:
	default:
		c.m.drop(dropQueueFull)
	}
}

func (c *Cluster) publishLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case m := <-c.out:
			ctx, cancel := context.WithTimeout(c.ctx, c.cfg.PublishTimeout)
			err := c.rdb.Publish(ctx, m.channel, m.payload).Err()
			cancel()
			if err != nil {
				c.m.drop(dropRedisError)
				continue
			}
			c.m.published.Inc()
			c.m.publishedBytes.Add(float64(len(m.payload)))
		}
	}
}

// receiveLoop reads the subscriber connection. Responses to this node's
// requests are handled here (they only wake waiters); everything else is
// queued for applyLoop, in the order Redis delivered it.
func (c *Cluster) receiveLoop() {
	defer c.wg.Done()
	backoff := 50 * time.Millisecond
	pinged := false // a ping is unanswered
	for {
		wait := c.cfg.HeartbeatTimeout
		if pinged {
			wait = c.cfg.PublishTimeout // for the pong
		}
		msg, err := c.ps.ReceiveTimeout(c.ctx, wait)
		if c.ctx.Err() != nil {
			return
		}
		if err != nil {
			var nerr interface{ Timeout() bool }
			if errors.As(err, &nerr) && nerr.Timeout() {
				// Silence, though this node beats on a channel it
				// listens to. A ping only writes (the pong is read
				// here): no pong within PublishTimeout means Redis does
				// not answer, hung or unreachable with the connection
				// still open.
				if pinged {
					c.setUp(false, errNoAnswer)
				}
				pctx, cancel := context.WithTimeout(c.ctx, c.cfg.PublishTimeout)
				if err := c.ps.Ping(pctx); err != nil {
					c.setUp(false, err) // a failed write makes go-redis reconnect
				}
				cancel()
				pinged = true
				continue
			}
			c.setUp(false, err)
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		pinged = false
		// Anything read proves the connection, and go-redis gives one
		// only once it has subscribed it to every channel.
		if c.link.Load() != linkUp {
			c.setUp(true, nil)
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			c.mu.Lock()
			if ch := c.confirms[m.Channel]; ch != nil {
				close(ch)
				delete(c.confirms, m.Channel)
			}
			c.mu.Unlock()
		case *redis.Message:
			c.onMessage(m)
		}
	}
}

// errNoAnswer: Redis sent nothing for a heartbeat timeout, then did not
// answer a ping.
var errNoAnswer = errors.New("no answer from redis")

// setUp records the subscriber connection's state and logs each change:
// a node that cannot reach Redis says so once, and once more when it can.
func (c *Cluster) setUp(up bool, err error) {
	next := linkDown
	if up {
		next = linkUp
	}
	prev := c.link.Swap(next)
	addr := c.rdb.Options().Addr
	switch {
	case prev == next:
	case up:
		c.log.Info("redis connected: cross-node delivery on", "redis", addr)
	case prev == linkUnknown:
		c.log.Warn("redis unreachable: serving this node's clients only until it connects", "redis", addr, "err", err)
	default:
		c.log.Warn("redis connection lost: serving this node's clients only until it reconnects", "redis", addr, "err", err)
	}
}

func (c *Cluster) onMessage(m *redis.Message) {
	c.m.received.Inc()
	c.m.receivedBytes.Add(float64(len(m.Payload)))
	if m.Channel == c.heartbeatChannel() {
		c.onHeartbeat(m.Payload)
		return
	}
	key := m.Channel
	if m.Pattern != "" {
		key = m.Pattern
	}
	c.mu.Lock()
	a := c.byChannel[key]
	c.mu.Unlock()
	if a == nil {
		return
	}
	if a.isResponseChannel(m.Channel) {
		a.onResponse([]byte(m.Payload))
		return
	}
	select {
	case c.in <- inbound{a, m}:
	default:
		c.m.drop(dropQueueFull)
	}
}

// maxNodes bounds the nodes remembered from heartbeats: past it, a node
// not seen before is ignored until others time out.
const maxNodes = 1024

// onHeartbeat records that a node beat.
func (c *Cluster) onHeartbeat(payload string) {
	uid, ok := decodeHeartbeat(payload)
	if !ok {
		c.m.drop(dropMalformed)
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.nodes[uid]; !known && len(c.nodes) >= maxNodes {
		c.pruneNodesLocked(now)
		if len(c.nodes) >= maxNodes {
			return
		}
	}
	c.nodes[uid] = now
}

// decodeHeartbeat reads a heartbeat: the beating node's uid, 1 to 64
// characters of [0-9A-Za-z_-] (Noom sends 16 hex digits).
func decodeHeartbeat(p string) (string, bool) {
	if len(p) == 0 || len(p) > 64 {
		return "", false
	}
	for i := range len(p) {
		switch c := p[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '-':
		default:
			return "", false
		}
	}
	return p, true
}

func (c *Cluster) applyLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case in := <-c.in:
			in.a.apply(in.msg)
		}
	}
}

func (c *Cluster) heartbeatLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		c.publish(c.heartbeatChannel(), []byte(c.uid))
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Cluster) requestID() string {
	return c.uid + "-" + strconv.FormatUint(c.seq.Add(1), 36)
}

// pending is one of this node's requests, waiting for the other nodes.
type pending struct {
	mu     sync.Mutex
	expect int           // answers that complete it
	got    int           // answers so far
	done   chan struct{} // closed when got reaches expect
	// answer handles a response; it reports whether the response is one
	// of the expected answers (a broadcast's client count is, each client
	// ack is not).
	answer func(m message) bool
}

// addPending registers a request expecting n answers.
func (c *Cluster) addPending(id string, n int, answer func(message) bool) (*pending, error) {
	p := &pending{expect: n, done: make(chan struct{}), answer: answer}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	c.pending[id] = p
	return p, nil
}

func (c *Cluster) dropPending(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

func (c *Cluster) respond(id string, m message) {
	c.mu.Lock()
	p := c.pending[id]
	c.mu.Unlock()
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Extra answers (a node that came up after the count) are handled
	// too; completion is signaled once.
	if p.answer(m) && p.got < p.expect {
		p.got++
		if p.got == p.expect {
			close(p.done)
		}
	}
}

// wait waits until p has every answer or ctx ends.
func (p *pending) wait(ctx context.Context) error {
	if p.expect <= 0 {
		return nil
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trackRemote registers the cancel of another node's ack broadcast, so
// that Close ends it.
func (c *Cluster) trackRemote(ctx context.Context, cancel context.CancelFunc) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cancel()
		return
	}
	c.remote[&cancel] = struct{}{}
	c.mu.Unlock()
	context.AfterFunc(ctx, func() {
		c.mu.Lock()
		delete(c.remote, &cancel)
		c.mu.Unlock()
	})
}
