package redisadapter

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/redis/go-redis/v9"
)

// adapter is the signaling.Adapter of one namespace on this node.
type adapter struct {
	c        *Cluster
	local    signaling.Local
	nsp      string
	bcast    string // "<prefix>#<nsp>#", broadcasts (a room's name and '#' may follow)
	reqCh    string // "<prefix>-request#<nsp>#"
	resCh    string // "<prefix>-response#<nsp>#", answers shared by every node
	ownResCh string // "<prefix>-response#<nsp>#<uid>#", answers to this node
	closed   atomic.Bool
}

// Adapter makes the adapter of a namespace: use it as
// signaling.Config.Adapter. It subscribes the namespace's channels and
// waits (at most Config.RequestTimeout) until Redis confirms them.
func (c *Cluster) Adapter(l signaling.Local) signaling.Adapter {
	a := c.newAdapter(l)
	c.subscribe(a, a.bcast+"*", true)
	for _, ch := range []string{a.reqCh, a.resCh, a.ownResCh} {
		c.subscribe(a, ch, false)
	}
	return a
}

// newAdapter makes the adapter of l's namespace, not subscribed yet.
func (c *Cluster) newAdapter(l signaling.Local) *adapter {
	nsp := l.Name()
	p := c.cfg.KeyPrefix
	return &adapter{c: c, local: l, nsp: nsp,
		bcast:    p + "#" + nsp + "#",
		reqCh:    p + "-request#" + nsp + "#",
		resCh:    p + "-response#" + nsp + "#",
		ownResCh: p + "-response#" + nsp + "#" + c.uid + "#"}
}

func (a *adapter) isResponseChannel(ch string) bool { return ch == a.resCh || ch == a.ownResCh }

// Close implements signaling.Adapter: it unsubscribes the namespace.
func (a *adapter) Close() error {
	if a.closed.Swap(true) {
		return nil
	}
	a.c.unsubscribe([]string{a.reqCh, a.resCh, a.ownResCh}, []string{a.bcast + "*"})
	return nil
}

func wire(opts signaling.BroadcastOptions) wireOpts {
	return wireOpts{Rooms: opts.Rooms, Except: opts.Except, Volatile: opts.Volatile, Timeout: opts.Timeout}
}

func (a *adapter) publishJSON(channel string, v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.c.m.drop(dropMalformed)
		a.c.log.Warn("redis message not encoded", "namespace", a.nsp, "err", err)
		return
	}
	a.c.publish(channel, b)
}

// Broadcast implements signaling.Adapter.
func (a *adapter) Broadcast(_ context.Context, p *signaling.Packet, opts signaling.BroadcastOptions) error {
	a.local.Deliver(p, opts)
	if opts.Local {
		return nil
	}
	b, err := encodeBroadcast(a.c.uid, a.nsp, p.Event, p.Args, wire(opts))
	if err != nil {
		a.c.m.drop(dropMalformed)
		return err
	}
	ch := a.bcast
	if len(opts.Rooms) == 1 {
		ch += opts.Rooms[0] + "#" // a routing label, as Node's adapter adds
	}
	a.c.publish(ch, b)
	return nil
}

// others is how many other nodes serve the namespace: the subscribers of
// its request channel (Node's serverCount) minus this one. With Redis
// unreachable it is 0: the operation stays on this node.
func (a *adapter) others(ctx context.Context) int {
	if !a.c.Up() {
		return 0
	}
	n, err := a.serverCount(ctx)
	if err != nil {
		return 0
	}
	return n - 1
}

func (a *adapter) serverCount(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.c.cfg.PublishTimeout)
	defer cancel()
	m, err := a.c.rdb.PubSubNumSub(ctx, a.reqCh).Result()
	if err != nil {
		return 1, err
	}
	return max(int(m[a.reqCh]), 1), nil
}

// ServerCount implements signaling.Adapter: Node's serverCount, the
// subscribers of the namespace's request channel, Node servers included.
// With Redis unreachable it is 1 and ErrUnavailable.
func (a *adapter) ServerCount(ctx context.Context) (int, error) {
	n, err := a.serverCount(ctx)
	if err != nil {
		return 1, ErrUnavailable
	}
	return n, nil
}

// request publishes a request to the other nodes and waits, until ctx
// ends (RequestTimeout when ctx has no deadline), for n answers.
func (a *adapter) request(ctx context.Context, kind string, n int, body map[string]any, answer func(message) bool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.c.cfg.RequestTimeout)
		defer cancel()
	}
	id := a.c.requestID()
	p, err := a.c.addPending(id, n, answer)
	if err != nil {
		return err
	}
	defer a.c.dropPending(id)
	body["uid"] = a.c.uid
	body["requestId"] = id
	a.publishJSON(a.reqCh, body)
	start := time.Now()
	err = p.wait(ctx)
	a.c.m.requests.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	return err
}

// collector gathers answers until the request returns; later answers
// are ignored.
type collector[T any] struct {
	mu   sync.Mutex
	out  []T
	done bool
}

func (c *collector[T]) add(v ...T) {
	c.mu.Lock()
	if !c.done {
		c.out = append(c.out, v...)
	}
	c.mu.Unlock()
}

func (c *collector[T]) result() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	return c.out
}

// FetchSockets implements signaling.Adapter (request type 5).
func (a *adapter) FetchSockets(ctx context.Context, opts signaling.BroadcastOptions) ([]signaling.SocketInfo, error) {
	col := &collector[signaling.SocketInfo]{out: a.local.Sockets(opts)}
	if opts.Local {
		return col.result(), nil
	}
	n := a.others(ctx)
	if n == 0 {
		return col.result(), nil
	}
	o := wire(opts).value()
	delete(o, "flags")
	err := a.request(ctx, reqFetch, n, map[string]any{"type": typeRemoteFetch, "opts": o}, func(m message) bool {
		col.add(decodeSockets(m["sockets"], a.nsp)...)
		return true
	})
	return col.result(), err
}

// AllRooms implements signaling.Adapter (request type 1).
func (a *adapter) AllRooms(ctx context.Context) ([]string, error) {
	col := &collector[string]{out: a.local.AppendRooms(nil)}
	var err error
	if n := a.others(ctx); n > 0 {
		err = a.request(ctx, reqAllRooms, n, map[string]any{"type": typeAllRooms}, func(m message) bool {
			col.add(strs(m["rooms"])...)
			return true
		})
	}
	rooms := col.result()
	slices.Sort(rooms)
	return slices.Compact(rooms), err
}

// AddSockets implements signaling.Adapter (request type 2): applied here
// at once, and by every other node on receipt.
func (a *adapter) AddSockets(_ context.Context, opts signaling.BroadcastOptions, rooms []string) error {
	a.local.Join(opts, rooms)
	a.remoteRooms(typeRemoteJoin, opts, rooms)
	return nil
}

// DelSockets implements signaling.Adapter (request type 3).
func (a *adapter) DelSockets(_ context.Context, opts signaling.BroadcastOptions, rooms []string) error {
	a.local.Leave(opts, rooms)
	a.remoteRooms(typeRemoteLeave, opts, rooms)
	return nil
}

func (a *adapter) remoteRooms(typ int, opts signaling.BroadcastOptions, rooms []string) {
	if opts.Local {
		return
	}
	o := wire(opts).value()
	delete(o, "flags")
	a.publishJSON(a.reqCh, map[string]any{"uid": a.c.uid, "type": typ, "opts": o, "rooms": nonNil(rooms)})
}

// DisconnectSockets implements signaling.Adapter (request type 4).
func (a *adapter) DisconnectSockets(_ context.Context, opts signaling.BroadcastOptions, close bool) error {
	a.local.Disconnect(opts, close)
	if opts.Local {
		return nil
	}
	o := wire(opts).value()
	delete(o, "flags")
	a.publishJSON(a.reqCh, map[string]any{"uid": a.c.uid, "type": typeRemoteDisconnect, "opts": o, "close": close})
	return nil
}

// ServerSideEmit implements signaling.Adapter (request type 6). With ack,
// every other node answers once, with its handler's first argument.
func (a *adapter) ServerSideEmit(ctx context.Context, event string, args []any, ack func([]any)) error {
	data, err := eventValues(event, args)
	if err != nil {
		return err
	}
	body := map[string]any{"type": typeServerSideEmit, "data": data}
	if ack == nil {
		body["uid"] = a.c.uid
		a.publishJSON(a.reqCh, body)
		return nil
	}
	n := a.others(ctx)
	if n == 0 {
		return nil
	}
	return a.request(ctx, reqEmit, n, body, func(m message) bool {
		ack([]any{m["data"]})
		return true
	})
}

// BroadcastWithAck implements signaling.Adapter (request type 7, answered
// by one type 8 client count per node and one type 9 per client ack).
func (a *adapter) BroadcastWithAck(ctx context.Context, p *signaling.Packet, opts signaling.BroadcastOptions, count func(int), ack func(string, []any)) error {
	count(a.local.DeliverWithAck(ctx, p, opts, ack))
	if opts.Local {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n := a.others(ctx)
	if n == 0 {
		return nil
	}
	data, err := eventValues(p.Event, p.Args)
	if err != nil {
		return err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = a.c.cfg.RequestTimeout
	}
	id := a.c.requestID()
	pend, err := a.c.addPending(id, n, func(m message) bool {
		switch t, _ := m.int("type"); t {
		case typeBroadcastCount:
			cc, _ := m.int("clientCount")
			count(int(cc))
			return true
		case typeBroadcastAck:
			ack(m.str("sid"), []any{m["packet"]}) // "sid" is Noom's: Node answers without it
		}
		return false
	})
	if err != nil {
		return err
	}
	// Acks may come until ctx ends, after the counts.
	context.AfterFunc(ctx, func() { a.c.dropPending(id) })
	b, err := pack(map[string]any{"uid": a.c.uid, "requestId": id, "type": typeBroadcast,
		"packet": map[string]any{"type": packetEvent, "data": data, "nsp": a.nsp}, "opts": wire(opts).value()})
	if err != nil {
		a.c.dropPending(id)
		return err
	}
	a.c.publish(a.reqCh, b)
	start := time.Now()
	err = pend.wait(ctx)
	a.c.m.requests.WithLabelValues(reqBroadcast).Observe(time.Since(start).Seconds())
	return err
}

// onResponse hands an answer to the request waiting for it.
func (a *adapter) onResponse(b []byte) {
	m, err := decodeMessage(b)
	if err != nil {
		a.c.m.drop(dropMalformed)
		return
	}
	a.c.respond(m.str("requestId"), m)
}

// apply applies what another node sent: a broadcast or a request.
func (a *adapter) apply(msg *redis.Message) {
	if a.closed.Load() {
		a.c.m.drop(dropClosed)
		return
	}
	var err error
	if msg.Pattern != "" {
		err = a.onBroadcast([]byte(msg.Payload))
	} else {
		err = a.onRequest([]byte(msg.Payload))
	}
	if err != nil {
		a.c.m.drop(dropMalformed)
		a.c.log.Debug("redis message dropped", "namespace", a.nsp, "channel", msg.Channel, "err", err)
	}
}

func (a *adapter) onBroadcast(b []byte) error {
	bm, err := decodeBroadcast(b)
	if err != nil {
		return err
	}
	if bm.uid == a.c.uid || bm.nsp != a.nsp {
		return nil
	}
	a.local.Deliver(&signaling.Packet{Namespace: a.nsp, Event: bm.event, Args: bm.args},
		signaling.BroadcastOptions{Rooms: bm.opts.Rooms, Except: bm.opts.Except, Volatile: bm.opts.Volatile})
	return nil
}

func local(o wireOpts) signaling.BroadcastOptions {
	return signaling.BroadcastOptions{Rooms: o.Rooms, Except: o.Except, Volatile: o.Volatile}
}

// respondTo is where the answer to a request goes: the requester's own
// response channel when it says who it is, else the shared one.
func (a *adapter) respondTo(m message) string {
	if uid := m.str("uid"); uid != "" {
		return a.resCh + uid + "#"
	}
	return a.resCh
}

func (a *adapter) onRequest(b []byte) error {
	m, err := decodeMessage(b)
	if err != nil {
		return err
	}
	typ, _ := m.int("type")
	if m.str("uid") == a.c.uid {
		return nil // this node applied or answered it already
	}
	id := m.str("requestId")
	switch typ {
	case typeSockets: // legacy: {requestId, rooms}
		var sids []string
		for _, s := range a.local.Sockets(signaling.BroadcastOptions{Rooms: strs(m["rooms"])}) {
			sids = append(sids, s.ID)
		}
		a.publishJSON(a.respondTo(m), map[string]any{"requestId": id, "sockets": nonNil(sids)})
	case typeAllRooms:
		a.publishJSON(a.respondTo(m), map[string]any{"requestId": id, "rooms": nonNil(a.local.AppendRooms(nil))})
	case typeRemoteJoin, typeRemoteLeave:
		rooms := strs(m["rooms"])
		opts := local(m.opts("opts"))
		if _, ok := m["opts"]; !ok { // legacy: {sid, room, requestId}
			opts, rooms = signaling.BroadcastOptions{Rooms: []string{m.str("sid")}}, []string{m.str("room")}
			defer a.publishJSON(a.respondTo(m), map[string]any{"requestId": id})
		}
		if typ == typeRemoteJoin {
			a.local.Join(opts, rooms)
		} else {
			a.local.Leave(opts, rooms)
		}
	case typeRemoteDisconnect:
		closeConn, _ := m["close"].(bool)
		a.local.Disconnect(local(m.opts("opts")), closeConn)
	case typeRemoteFetch:
		socks := a.local.Sockets(local(m.opts("opts")))
		a.publishJSON(a.respondTo(m), map[string]any{"requestId": id, "sockets": encodeSockets(socks)})
	case typeServerSideEmit:
		event, args, err := eventData(m["data"])
		if err != nil {
			return err
		}
		var ack func([]any)
		if id != "" {
			to := a.respondTo(m)
			ack = func(args []any) {
				var first any
				if len(args) > 0 {
					first = args[0]
				}
				a.publishJSON(to, map[string]any{"type": typeServerSideEmit, "requestId": id, "data": first})
			}
		}
		a.local.ServerSideEvent(event, args, ack)
	case typeBroadcast:
		return a.onBroadcastWithAck(m, id)
	}
	return nil
}

func (a *adapter) onBroadcastWithAck(m message, id string) error {
	pkt, _ := m["packet"].(map[string]any)
	event, args, err := eventData(pkt["data"])
	if err != nil {
		return err
	}
	o := m.opts("opts")
	if o.Timeout <= 0 {
		o.Timeout = a.c.cfg.RequestTimeout
	}
	to := a.respondTo(m)
	ctx, cancel := context.WithTimeout(a.c.ctx, o.Timeout)
	a.c.trackRemote(ctx, cancel)
	n := a.local.DeliverWithAck(ctx, &signaling.Packet{Namespace: a.nsp, Event: event, Args: args}, local(o),
		func(sid string, args []any) {
			var first any
			if len(args) > 0 {
				first = args[0]
			}
			v, err := toValue(first)
			var b []byte
			if err == nil {
				b, err = pack(map[string]any{"type": typeBroadcastAck, "requestId": id, "packet": v, "sid": sid})
			}
			if err != nil {
				a.c.m.drop(dropMalformed)
				return
			}
			a.c.publish(to, b)
		})
	a.publishJSON(to, map[string]any{"type": typeBroadcastCount, "requestId": id, "clientCount": n})
	return nil
}
