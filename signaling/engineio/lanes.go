package engineio

import (
	"time"
)

// A session queues what it has to send on two lanes, and its writer
// drains the priority lane first:
//
//   - the priority lane holds control packets (open, ping, pong, connect,
//     disconnect), acks, 1:1 messages and broadcasts to small rooms (a call
//     room): what a conversation needs to keep moving;
//   - the broadcast lane holds a client's share of fan-outs to many
//     (more than SmallFanout sockets).
//
// Order is kept within a lane. A 1:1 message (or a call room's message)
// may overtake broadcasts to big rooms queued before it, never the other
// way round. Both lanes together are bounded by Config.MaxQueueBytes, and
// the broadcast lane also by age: a client whose oldest queued broadcast
// is older than Config.MaxQueueDelay is a slow consumer and is cut off,
// with the reason "slow consumer", whether its frames are still queued or
// held by a writer the client does not read from.

// Frame is one Engine.IO packet to send, already encoded: for text, the
// type digit and data; for binary, the raw bytes. A broadcast shares one
// Frame's bytes among its recipients: they must not change once sent.
type Frame struct {
	data []byte
	at   int64 // when it was queued, UnixNano
	op   uint8
}

// cost counts a frame's bytes toward the queue bound, with a small
// per-frame overhead so that floods of empty frames are bounded too.
func (f Frame) cost() int { return len(f.data) + 16 }

// lane is a FIFO of frames and their cost.
type lane struct {
	q     []Frame
	bytes int
}

func (l *lane) push(f Frame, more []Frame, at int64) {
	n := len(l.q)
	l.q = append(l.q, f)
	l.q = append(l.q, more...)
	for i := n; i < len(l.q); i++ {
		l.q[i].at = at // on the lane's copies: more may be shared by other senders
	}
}

// takeInto moves frames from the head of the lane to batch while *n, the
// batch's cost so far, is below max (at least one frame in all), keeping
// the lane's byte count.
func (l *lane) takeInto(batch []Frame, n *int, max int) []Frame {
	k, taken := 0, 0
	for k < len(l.q) && (*n+taken < max || len(batch)+k == 0) {
		taken += l.q[k].cost()
		k++
	}
	if k == 0 {
		return batch
	}
	if k == len(l.q) && batch == nil {
		batch = l.q // the whole lane: hand over its array
		l.q = nil
	} else {
		batch = append(batch, l.q[:k]...)
		clear(l.q[:k])
		l.q = l.q[k:]
	}
	l.bytes -= taken
	*n += taken
	return batch
}

// TextFrame is a text packet: b holds the type digit and the data
// ("4" and a Socket.IO packet, for a message).
func TextFrame(b []byte) Frame { return Frame{data: b, op: opText} }

// BinaryFrame is a binary message.
func BinaryFrame(b []byte) Frame { return Frame{data: b, op: opBinary} }

// queuedLocked is the bytes queued or held by a writer; s.mu held.
func (s *Conn) queuedLocked() int { return s.prio.bytes + s.bcast.bytes + s.inflight }

// oldestBroadcastLocked is when the oldest broadcast frame not yet written
// was queued, or 0; s.mu held.
func (s *Conn) oldestBroadcastLocked() int64 {
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
// On WebSocket, when no writer is running, the session goes to the
// server's flusher, which makes one non-blocking write (writeNow) of what
// it holds then: a priority frame ahead of the fan-outs waiting, so that
// the 1:1 messages a reader dispatches from one read leave in one write.
// What the socket does not take goes to the session's writer goroutine
// (writeLoop), so a sender never waits for a client.
//
// It returns, with ok, the bytes the client's queue holds after the send.
func (s *Conn) send(priority, volatile bool, f Frame, more []Frame) (queued int, ok bool) {
	now := time.Now().UnixNano()
	cost := f.cost()
	for i := range more {
		cost += more[i].cost()
	}
	max := s.srv.cfg.MaxQueueBytes
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return 0, false
	}
	queued = s.queuedLocked()
	// A volatile packet goes only if nothing waits in the lanes (a write
	// in flight is no backlog: the packet leaves with the next one), and,
	// on polling, only while a GET is there to take it.
	if volatile && (s.prio.bytes+s.bcast.bytes > 0 || (s.transport == transportPolling && !s.polling)) {
		s.mu.Unlock()
		s.srv.metrics.volatileDropped.Inc()
		s.h.OnDrop(DropVolatile, cost)
		return queued, false
	}
	if cost > max {
		s.mu.Unlock()
		s.srv.metrics.oversize.Inc()
		return queued, false
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
		return 0, false
	}
	if priority {
		s.prio.push(f, more, now)
		s.prio.bytes += cost
	} else {
		s.bcast.push(f, more, now)
		s.bcast.bytes += cost
	}
	s.srv.queuedBytes.Add(int64(cost))
	queued += cost
	if s.transport != transportWebSocket || s.nc == nil {
		s.wakePollLocked()
		s.mu.Unlock()
		return queued, true
	}
	if !s.writing && s.srv.knobs.PacketGap == 0 {
		// The flusher writes it, with whatever else this client gets
		// meanwhile: a fan-out's share, or the 1:1 messages a reader
		// dispatches from one read (written before any fan-out waiting).
		s.writing = true
		s.wg.Add(1)
		s.mu.Unlock()
		if priority {
			s.srv.flush.addUrgent(s)
		} else {
			s.srv.flush.add(s)
		}
		return queued, true
	}
	// A writer is at work (it takes this too), or the conformance knob
	// wants the writer goroutine's one packet per write.
	start := s.kickLocked()
	s.mu.Unlock()
	if start != nil {
		go s.writeLoop(start)
	}
	return queued, true
}

// tooOldLocked reports whether the oldest broadcast not yet written has
// waited longer than Config.MaxQueueDelay.
func (s *Conn) tooOldLocked(now int64) bool {
	oldest := s.oldestBroadcastLocked()
	return oldest != 0 && now-oldest > int64(s.srv.cfg.MaxQueueDelay)
}

// takeLocked hands the writer of the moment what is queued, priority lane
// first, up to about max bytes (at least one frame), so that a priority
// frame queued meanwhile waits for at most that much. What it takes
// counts as in flight until written (see doneLocked); s.takenPrio says how
// many of the frames came from the priority lane, for requeue.
func (s *Conn) takeLocked(max int) []Frame {
	s.inflightAt, s.restAt = s.restAt, 0
	n := 0
	batch := s.prio.takeInto(nil, &n, max)
	s.takenPrio = len(batch)
	if s.inflightAt == 0 && len(s.bcast.q) > 0 && n < max {
		s.inflightAt = s.bcast.q[0].at
	}
	batch = s.bcast.takeInto(batch, &n, max)
	s.inflight += n
	return batch
}

// requeueLocked puts back what a non-blocking write did not write: batch
// from frame i on, of which the first had its first cut bytes written
// (cut is then the framed bytes not written). The cut frame's rest goes
// first on the priority lane, already framed; whole frames go back to the
// head of the lane they came from.
func (s *Conn) requeueLocked(batch []Frame, i int, rest []byte) {
	bcastAt := s.inflightAt
	s.doneLocked()
	var prio, bcast []Frame
	for k := i; k < len(batch); k++ {
		if k == i && rest != nil {
			continue
		}
		if k < s.takenPrio {
			prio = append(prio, batch[k])
		} else {
			bcast = append(bcast, batch[k])
		}
	}
	if rest != nil {
		prio = append([]Frame{{data: rest, op: opRaw, at: batch[i].at}}, prio...)
		if i >= s.takenPrio {
			s.restAt = batch[i].at
		} else {
			s.restAt = bcastAt
		}
	}
	s.prio.putBack(prio)
	s.bcast.putBack(bcast)
	s.srv.queuedBytes.Add(int64(laneBytes(prio) + laneBytes(bcast)))
}

// putBack puts frames back at the head of the lane.
func (l *lane) putBack(q []Frame) {
	if len(q) > 0 {
		l.q = append(q, l.q...)
		l.bytes += laneBytes(q)
	}
}

// doneLocked records that the writer of the moment has written (or given
// up on) what it took: in flight is nothing again.
func (s *Conn) doneLocked() {
	s.srv.queuedBytes.Add(-int64(s.inflight))
	s.inflight, s.inflightAt = 0, 0
	s.notifyDrainedLocked()
}

// laneBytes is the cost of frames.
func laneBytes(q []Frame) int {
	n := 0
	for i := range q {
		n += q[i].cost()
	}
	return n
}
