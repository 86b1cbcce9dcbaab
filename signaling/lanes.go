package signaling

import (
	"sync/atomic"
	"time"
)

// A session queues what it has to send on two lanes, and its writer
// drains the priority lane first:
//
//   - the priority lane holds control packets (open, ping, pong, connect,
//     disconnect), acks, 1:1 messages and broadcasts to small rooms (a call
//     room): what a conversation needs to keep moving;
//   - the broadcast lane holds a client's share of fan-outs to many
//     (more than inlineRecipients sockets).
//
// Order is kept within a lane. A 1:1 message (or a call room's message)
// may overtake broadcasts to big rooms queued before it, never the other
// way round. Both lanes together are bounded by Config.MaxQueueBytes, and
// the broadcast lane also by age: a client whose oldest queued broadcast
// is older than Config.MaxQueueDelay is a slow consumer and is cut off,
// with the reason "slow consumer", whether its frames are still queued or
// held by a writer the client does not read from.

// frame is one queued Engine.IO packet, already encoded: for text, the type
// digit and data; for binary, the raw bytes. Broadcasts share data.
type frame struct {
	data []byte
	at   int64 // when it was queued, UnixNano
	op   uint8
}

// cost counts a frame's bytes toward the queue bound, with a small
// per-frame overhead so that floods of empty frames are bounded too.
func (f frame) cost() int { return len(f.data) + 16 }

// lane is a FIFO of frames and their cost.
type lane struct {
	q     []frame
	bytes int
}

func (l *lane) push(f frame, more []frame) {
	l.q = append(l.q, f)
	l.q = append(l.q, more...)
}

// take empties the lane and returns its frames.
func (l *lane) take() []frame {
	q := l.q
	l.q, l.bytes = nil, 0
	return q
}

// sendDirect queues control packets, acks and other packets meant for this
// one client on the priority lane: they go before any queued broadcast.
func (s *session) sendDirect(f frame, more ...frame) bool { return s.send(true, false, f, more) }

// sendTo queues an event for this one client (a 1:1 message) on the
// priority lane; a volatile one is dropped when the client is not ready.
func (s *session) sendTo(f frame, volatile bool, more ...frame) bool {
	return s.send(true, volatile, f, more)
}

// sendBroadcast queues one recipient's share of a broadcast that reaches
// recipients sockets: on the priority lane for a small room, on the
// broadcast lane for more.
func (s *session) sendBroadcast(f frame, volatile bool, recipients int, more ...frame) bool {
	if recipients <= inlineRecipients {
		return s.send(true, volatile, f, more)
	}
	ok := s.send(false, volatile, f, more)
	s.srv.fanoutYield()
	return ok
}

// queuedLocked is the bytes queued or held by a writer; s.mu held.
func (s *session) queuedLocked() int { return s.prio.bytes + s.bcast.bytes + s.inflight }

// oldestBroadcastLocked is when the oldest broadcast frame not yet written
// was queued, or 0; s.mu held.
func (s *session) oldestBroadcastLocked() int64 {
	for _, at := range [...]int64{s.inflightAt, s.restAt} {
		if at != 0 {
			return at
		}
	}
	if len(s.bcast.q) > 0 {
		return s.bcast.q[0].at
	}
	return 0
}

// send queues frames for the client without blocking, on the priority lane
// or the broadcast lane. It returns false if the frames were not queued:
// the session is closed; a volatile send found the client not ready to
// write at once (dropped and counted); the packet alone is bigger than
// Config.MaxQueueBytes (dropped and counted, the client stays); or the
// client is a slow consumer (the session is closed).
//
// On WebSocket, when no writer is running, the sender becomes the writer
// for one non-blocking write (writeNow); what the socket does not take goes
// to the session's writer goroutine (writeLoop), so a sender never waits for
// a client.
func (s *session) send(priority, volatile bool, f frame, more []frame) bool {
	now := time.Now().UnixNano()
	f.at = now
	cost := f.cost()
	for i := range more {
		more[i].at = now
		cost += more[i].cost()
	}
	max := s.srv.cfg.MaxQueueBytes
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return false
	}
	queued := s.queuedLocked()
	if volatile && (queued > 0 || s.writing || (s.transport == transportPolling && !s.polling)) {
		s.mu.Unlock()
		s.srv.metrics.volatileDropped.Inc()
		return false
	}
	if cost > max {
		s.mu.Unlock()
		s.srv.metrics.oversize.Inc()
		return false
	}
	if queued+cost > max || (!priority && s.tooOldLocked(now)) {
		s.markClosedLocked(ReasonSlowConsumer, closeNow)
		// The rest of the close (handlers, the adapter) runs elsewhere: the
		// sender may be in the middle of a fan-out.
		go func() {
			s.mu.Lock()
			s.finishClose(ReasonSlowConsumer, closeNow)
		}()
		s.mu.Unlock()
		return false
	}
	if priority {
		s.prio.push(f, more)
		s.prio.bytes += cost
	} else {
		s.bcast.push(f, more)
		s.bcast.bytes += cost
	}
	s.srv.queuedBytes.Add(int64(cost))
	if s.transport != transportWebSocket || s.ws == nil {
		s.wakePollLocked()
		s.mu.Unlock()
		return true
	}
	if s.writing || s.srv.cfg.PacketGap > 0 || queued+cost > inlineMax {
		start := s.kickLocked()
		s.mu.Unlock()
		if start != nil {
			go s.writeLoop(start)
		}
		return true
	}
	// Nobody is writing: become the writer for one non-blocking write.
	s.writing = true
	ws := s.ws
	batch := s.takeLocked()
	s.mu.Unlock()
	s.writeNow(ws, batch)
	return true
}

// tooOldLocked reports whether the oldest broadcast not yet written has
// waited longer than Config.MaxQueueDelay.
func (s *session) tooOldLocked(now int64) bool {
	oldest := s.oldestBroadcastLocked()
	return oldest != 0 && now-oldest > int64(s.srv.cfg.MaxQueueDelay)
}

// takeLocked hands everything queued to the writer of the moment: the
// priority lane first. What it takes counts as in flight until written
// (see wrote).
func (s *session) takeLocked() []frame {
	s.inflightAt, s.restAt = s.restAt, 0
	if s.inflightAt == 0 && len(s.bcast.q) > 0 {
		s.inflightAt = s.bcast.q[0].at
	}
	s.inflight += s.prio.bytes + s.bcast.bytes
	switch {
	case len(s.bcast.q) == 0:
		return s.prio.take()
	case len(s.prio.q) == 0:
		return s.bcast.take()
	default:
		b := append(s.prio.take(), s.bcast.q...)
		s.bcast.take()
		return b
	}
}

// takeAll empties both lanes for a polling response, priority first.
func (s *session) takeAllLocked() []frame {
	n := s.prio.bytes + s.bcast.bytes
	s.srv.queuedBytes.Add(-int64(n))
	s.inflightAt, s.restAt = 0, 0
	if len(s.prio.q) == 0 {
		return s.bcast.take()
	}
	if len(s.bcast.q) == 0 {
		return s.prio.take()
	}
	b := append(s.prio.take(), s.bcast.q...)
	s.bcast.take()
	return b
}

// doneLocked records that the writer of the moment has written (or given
// up on) what it took: in flight is nothing again.
func (s *session) doneLocked() {
	s.srv.queuedBytes.Add(-int64(s.inflight))
	s.inflight, s.inflightAt = 0, 0
}

// fanoutYield lets the connections that became readable during big
// fan-outs be read: every fanoutYieldEvery deliveries it checks how long
// the hub's fan-outs have run without a pause, and past fanoutSlice it
// parks the sender for a moment (the scheduler polls the network only when
// it has nothing else to run, so Gosched would not do). A gap between
// checks longer than fanoutGap starts a new burst.
func (srv *Server) fanoutYield() {
	c := &srv.fanout
	if c.n.Add(1)%fanoutYieldEvery != 0 {
		return
	}
	now := time.Now().UnixNano()
	if now-c.seen.Swap(now) > int64(fanoutGap) {
		c.burst.Store(now)
		return
	}
	if now-c.burst.Load() < int64(fanoutSlice) {
		return
	}
	time.Sleep(fanoutPause)
	now = time.Now().UnixNano()
	c.burst.Store(now)
	c.seen.Store(now)
}

const (
	fanoutYieldEvery = 32
	fanoutSlice      = 250 * time.Microsecond
	fanoutGap        = 100 * time.Microsecond
	// fanoutPause must outlast a trip through the scheduler, or the timer
	// has already fired when it looks for work and the network is not
	// polled.
	fanoutPause = 20 * time.Microsecond
)

// fanoutClock is the hub-wide state of fanoutYield; its races only make a
// pause a little early or late.
type fanoutClock struct {
	n     atomic.Uint32
	seen  atomic.Int64 // UnixNano of the last check
	burst atomic.Int64 // UnixNano when the current burst (or last pause) began
}
