package sioadmin

import (
	"errors"
	"sync"
	"time"

	"github.com/noomrtc/noom/internal/tokens"
	"github.com/noomrtc/noom/signaling"
)

// kind is the kind of a queued per-socket event.
type kind uint8

const (
	kConnected kind = iota
	kDisconnected
	kJoined
	kLeft
	kReceived
	kSent
	kUpdated // transport upgrade
)

// lifecycle kinds keep the UI's lists right; losing one calls for a new
// all_sockets snapshot.
func (k kind) lifecycle() bool { return k <= kLeft || k == kUpdated }

// item is a queued per-socket event: the hook's values as they are,
// serialized by the admin socket's goroutine.
type item struct {
	kind      kind
	nsp, sid  string // for kSent of a large broadcast, sid is the rooms
	session   string // kConnected: the Engine.IO session
	addr      string // kConnected: remote address
	transport string // kConnected, kUpdated
	room      string // kJoined, kLeft
	reason    string // kDisconnected
	event     string // kReceived, kSent
	args      []any  // kReceived, kSent, when small enough
	bytes     int    // kReceived, kSent: encoded size
	sids      []string
	t         time.Time
}

// resyncEvery bounds how often a lossy admin gets a new snapshot.
const resyncEvery = 10 * time.Second

// adminConn is one connected admin socket: its bounded drop-oldest queue,
// its rate limit, and the goroutine that writes to it.
type adminConn struct {
	a    *Admin
	s    *signaling.Socket
	wake chan struct{} // one slot: something to do
	quit chan struct{}
	once sync.Once

	mu sync.Mutex
	// mu guards the following fields.
	ring       []item
	head, n    int
	tokens     tokens.Bucket
	skipped    [2]uint64 // by reason (rate, queue), since the last stats
	lost       bool      // a lifecycle event was skipped
	lastResync time.Time
	resync     bool
	stats      *serverStats // the latest server_stats not yet sent
}

func newAdminConn(a *Admin, s *signaling.Socket) *adminConn {
	return &adminConn{a: a, s: s, wake: make(chan struct{}, 1), quit: make(chan struct{}),
		ring: make([]item, a.cfg.QueueSize), tokens: tokens.New(float64(a.cfg.EventRate))}
}

func (ac *adminConn) stop() { ac.once.Do(func() { close(ac.quit) }) }

func (ac *adminConn) signal() {
	select {
	case ac.wake <- struct{}{}:
	default:
	}
}

// push queues it at the price of cost tokens, never blocking: over the
// rate it is skipped, and a full queue drops its oldest. Both are counted.
func (ac *adminConn) push(it item, cost int) {
	if ac.admit(it.t, cost, it.kind.lifecycle()) {
		ac.enqueue(&it)
	}
}

// admit takes cost tokens at time t, or counts cost skipped events (a
// lost lifecycle one calls for a new snapshot). The hooks ask it before
// they build an item: most events of a busy hub stop here.
func (ac *adminConn) admit(t time.Time, cost int, lifecycle bool) bool {
	ac.mu.Lock()
	if !ac.tokens.Take(t, float64(cost)) {
		ac.skipped[0] += uint64(cost)
		ac.lost = ac.lost || lifecycle
		ac.mu.Unlock()
		ac.a.m.skippedRate.Add(float64(cost))
		return false
	}
	ac.mu.Unlock()
	return true
}

// enqueue adds an admitted item, dropping the oldest when the queue is
// full.
func (ac *adminConn) enqueue(it *item) {
	ac.mu.Lock()
	dropped := false
	if ac.n == len(ac.ring) {
		old := &ac.ring[ac.head]
		ac.lost = ac.lost || old.kind.lifecycle()
		*old = item{}
		ac.head = (ac.head + 1) % len(ac.ring)
		ac.n--
		ac.skipped[1]++
		dropped = true
	}
	ac.ring[(ac.head+ac.n)%len(ac.ring)] = *it
	ac.n++
	ac.mu.Unlock()
	if dropped {
		ac.a.m.skippedQueue.Inc()
	}
	ac.signal()
}

// setStats hands over server_stats, adding what this admin socket missed
// since the last one; it decides on a new snapshot for a lossy admin once
// the losses have stopped.
func (ac *adminConn) setStats(base serverStats) {
	now := ac.a.cfg.Now()
	ac.mu.Lock()
	st := base
	skipped := ac.skipped
	ac.skipped = [2]uint64{}
	if skipped[0]+skipped[1] > 0 {
		st.AggregatedEvents = append([]aggregatedEvent(nil), base.AggregatedEvents...)
		sec := now.Unix() * 1000
		for i, reason := range []string{skipRate, skipQueue} {
			if skipped[i] > 0 {
				st.AggregatedEvents = append(st.AggregatedEvents, aggregatedEvent{Timestamp: sec, Type: "skippedEvents", SubType: reason, Count: skipped[i]})
			}
		}
	} else if ac.lost && now.Sub(ac.lastResync) >= resyncEvery {
		ac.lost, ac.resync, ac.lastResync = false, true, now
	}
	ac.stats = &st
	ac.mu.Unlock()
	ac.signal()
}

// take empties the queue into buf.
func (ac *adminConn) take(buf []item) (items []item, st *serverStats, resync bool) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	for ; ac.n > 0; ac.n-- {
		buf = append(buf, ac.ring[ac.head])
		ac.ring[ac.head] = item{}
		ac.head = (ac.head + 1) % len(ac.ring)
	}
	st, ac.stats = ac.stats, nil
	resync, ac.resync = ac.resync, false
	return buf, st, resync
}

// run writes to the admin socket: a first server_stats, the snapshot in
// development mode, then the queue as it fills, until the socket leaves or
// the Admin closes.
func (ac *adminConn) run() {
	a := ac.a
	if ac.s.Emit("server_stats", a.stats(a.srv.Stats(), nil)) != nil {
		return
	}
	if a.cfg.Mode == Development && ac.s.Emit("all_sockets", a.allSockets()) != nil {
		return
	}
	var buf []item
	for {
		select {
		case <-ac.quit:
			return
		case <-a.done:
			return
		case <-ac.wake:
		}
		items, st, resync := ac.take(buf[:0])
		if st != nil && ac.s.Emit("server_stats", *st) != nil {
			return
		}
		if resync && ac.s.Emit("all_sockets", a.allSockets()) != nil {
			return
		}
		for i := range items {
			if !ac.send(&items[i]) {
				return
			}
			items[i] = item{}
		}
		buf = items
	}
}

// send writes one queued event (several for a small broadcast's
// event_sent). It returns false once the admin socket is gone.
func (ac *adminConn) send(it *item) bool {
	a := ac.a
	ts := isoTime(it.t)
	var err error
	n := 1
	switch it.kind {
	case kConnected:
		err = ac.s.Emit("socket_connected", a.serializeNew(it), ts)
	case kDisconnected:
		err = ac.s.Emit("socket_disconnected", it.nsp, it.sid, it.reason, ts)
	case kJoined:
		err = ac.s.Emit("room_joined", it.nsp, it.room, it.sid, ts)
	case kLeft:
		err = ac.s.Emit("room_left", it.nsp, it.room, it.sid, ts)
	case kUpdated:
		err = ac.s.Emit("socket_updated", map[string]string{"id": it.sid, "nsp": it.nsp, "transport": it.transport})
	case kReceived:
		err = ac.s.Emit("event_received", it.nsp, it.sid, a.eventArgs(it), ts)
	case kSent:
		args := a.eventArgs(it)
		if len(it.sids) == 0 {
			err = ac.s.Emit("event_sent", it.nsp, it.sid, args, ts)
			break
		}
		n = len(it.sids)
		for _, sid := range it.sids {
			if err = ac.s.Emit("event_sent", it.nsp, sid, args, ts); err != nil {
				break
			}
		}
	}
	if err == nil {
		a.m.sent.Add(float64(n))
	}
	return !errors.Is(err, signaling.ErrClosed)
}

// eventItem makes the queued item of an event in or out.
func (a *Admin) eventItem(e *signaling.MessageEvent, now time.Time) item {
	it := item{kind: kReceived, nsp: e.Namespace, sid: e.SID, event: e.Event, bytes: e.Bytes, t: now}
	if e.Bytes <= a.cfg.MaxArgsBytes {
		it.args = e.Args
	}
	if e.Direction == signaling.Out {
		it.kind = kSent
		switch {
		case len(e.Rooms) == 0 && e.SID != "" && e.Recipients == 1:
			// one socket
		case e.Recipients <= a.cfg.LargeBroadcast && len(e.SIDs) > 0:
			it.sid, it.sids = "", e.SIDs
		default:
			it.sid = broadcastLabel(*e)
		}
	}
	return it
}

// devObserver is the per-socket hooks of development mode. Each hook
// queues to every admin socket and returns.
func (a *Admin) devObserver() signaling.Observer {
	fan := func(it item, cost int) {
		for _, ac := range a.list() {
			ac.push(it, cost)
		}
	}
	return signaling.Observer{
		Connect: func(e signaling.SocketEvent) {
			fan(item{kind: kConnected, nsp: e.Namespace, sid: e.SID, session: e.Session, addr: e.RemoteAddr, transport: e.Transport, t: e.Time}, 1)
		},
		Disconnect: func(e signaling.SocketEvent) {
			fan(item{kind: kDisconnected, nsp: e.Namespace, sid: e.SID, reason: e.Reason, t: e.Time}, 1)
		},
		Join: func(e signaling.RoomEvent) {
			fan(item{kind: kJoined, nsp: e.Namespace, sid: e.SID, room: e.Room, t: e.Time}, 1)
		},
		Leave: func(e signaling.RoomEvent) {
			fan(item{kind: kLeft, nsp: e.Namespace, sid: e.SID, room: e.Room, t: e.Time}, 1)
		},
		Upgrade: func(e signaling.UpgradeEvent) {
			for _, r := range e.Sockets {
				if r.Namespace != a.cfg.Namespace {
					fan(item{kind: kUpdated, nsp: r.Namespace, sid: r.SID, transport: e.To, t: e.Time}, 1)
				}
			}
		},
		Event: func(e signaling.MessageEvent) {
			if e.Event == "" {
				return // an ack: the original does not show them
			}
			cost := 1
			if e.Direction == signaling.Out {
				if e.Recipients == 0 {
					return
				}
				if e.Recipients <= a.cfg.LargeBroadcast && len(e.SIDs) > 0 && (len(e.Rooms) > 0 || e.SID == "" || e.Recipients != 1) {
					cost = len(e.SIDs)
				}
			}
			now := a.cfg.Now()
			var it item
			built := false
			for _, ac := range a.list() {
				if !ac.admit(now, cost, false) {
					continue
				}
				if !built {
					it, built = a.eventItem(&e, now), true
				}
				ac.enqueue(&it)
			}
		},
		Detail: signaling.ObserveDetail{Payload: true, Recipients: true, MaxRecipients: a.cfg.LargeBroadcast,
			Exclude: []string{a.cfg.Namespace}},
	}
}
