package signaling

import "time"

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
	return s.send(false, volatile, f, more)
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
// On WebSocket, when no writer is running, the sender of a priority frame
// becomes the writer for one non-blocking write (writeNow), and a fan-out's
// frame goes to the server's flusher, which does the same; what the socket
// does not take goes to the session's writer goroutine (writeLoop), so a
// sender never waits for a client.
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
		s.srv.notifyDrop(DropEvent{SID: s.sid, Reason: DropVolatile, Bytes: cost, Time: time.Now()})
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
	if !priority && !s.writing && s.srv.knobs.PacketGap == 0 {
		// A fan-out to many: the flusher writes it, with whatever else
		// this client's share of the next broadcasts adds meanwhile.
		s.writing = true
		s.wg.Add(1)
		s.mu.Unlock()
		t := s.srv.flush.add(s)
		for cur := s.srv.flushTicket.Load(); cur < t && !s.srv.flushTicket.CompareAndSwap(cur, t); cur = s.srv.flushTicket.Load() {
		}
		return true
	}
	if s.writing || s.srv.knobs.PacketGap > 0 || queued+cost > inlineMax {
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
	batch := s.takeLocked(inlineMax)
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

// takeLocked hands the writer of the moment what is queued, priority lane
// first, up to about max bytes (at least one frame), so that a priority
// frame queued meanwhile waits for at most that much. What it takes
// counts as in flight until written (see doneLocked); s.takenPrio says how
// many of the frames came from the priority lane, for requeue.
func (s *session) takeLocked(max int) []frame {
	s.inflightAt, s.restAt = s.restAt, 0
	var batch []frame
	n := 0
	take := func(l *lane) {
		k := 0
		for k < len(l.q) && (n < max || len(batch)+k == 0) {
			n += l.q[k].cost()
			k++
		}
		if k == 0 {
			return
		}
		if k == len(l.q) && batch == nil {
			batch = l.q
			l.q = nil
		} else {
			batch = append(batch, l.q[:k]...)
			clear(l.q[:k])
			l.q = l.q[k:]
		}
	}
	take(&s.prio)
	s.takenPrio = len(batch)
	if s.inflightAt == 0 && len(s.bcast.q) > 0 && n < max {
		s.inflightAt = s.bcast.q[0].at
	}
	take(&s.bcast)
	s.prio.bytes, s.bcast.bytes = laneBytes(s.prio.q), laneBytes(s.bcast.q)
	s.inflight += n
	return batch
}

func laneBytes(q []frame) int {
	n := 0
	for i := range q {
		n += q[i].cost()
	}
	return n
}

// requeueLocked puts back what a non-blocking write did not write: batch
// from frame i on, of which the first had its first cut bytes written
// (cut is then the framed bytes not written). The cut frame's rest goes
// first on the priority lane, already framed; whole frames go back to the
// head of the lane they came from.
func (s *session) requeueLocked(batch []frame, i int, rest []byte) {
	bcastAt := s.inflightAt
	s.doneLocked()
	var prio, bcast []frame
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
		prio = append([]frame{{data: rest, op: opRaw, at: batch[i].at}}, prio...)
		if i >= s.takenPrio {
			s.restAt = batch[i].at
		} else {
			s.restAt = bcastAt
		}
	}
	if len(prio) > 0 {
		s.prio.q = append(prio, s.prio.q...)
	}
	if len(bcast) > 0 {
		s.bcast.q = append(bcast, s.bcast.q...)
	}
	added := laneBytes(prio) + laneBytes(bcast)
	s.prio.bytes, s.bcast.bytes = laneBytes(s.prio.q), laneBytes(s.bcast.q)
	s.srv.queuedBytes.Add(int64(added))
}

// takeAll empties both lanes for a polling response, priority first.
func (s *session) takeAllLocked() []frame {
	n := s.prio.bytes + s.bcast.bytes
	s.srv.queuedBytes.Add(-int64(n))
	s.inflightAt, s.restAt = 0, 0
	defer s.notifyDrainedLocked()
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
	s.notifyDrainedLocked()
}
