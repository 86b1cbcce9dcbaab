package engineio

import "time"

// Backpressure: a producer whose fan-out is behind waits.
//
// First, a producer may leave at most flushLead client writes to the
// flusher (see flusher.go): it goes at the pace the hub writes.
//
// A broadcast is queued to every recipient without blocking. When that
// leaves some recipients with more than fanoutHighWater bytes queued, the
// producer (the reader of the client whose event caused the broadcast, or
// an application goroutine) waits after the fan-out until each of them has
// drained to fanoutLowWater or is gone, and at most MaxQueueDelay: by then
// a recipient that is still behind has an oldest broadcast past the age
// bound and is cut off as a slow consumer. A reader that waits reads no
// more from its client, so TCP flow control slows the client down: a
// closed-loop broadcaster goes at the pace its receivers read, and nothing
// is dropped. Other clients' readers never wait for it.
const (
	fanoutHighWater = 64 << 10
	fanoutLowWater  = 16 << 10
)

// Fanout sends one broadcast (or several) to many sessions and collects
// the recipients whose queues are behind, for Wait. The zero value is ready
// to use; it is used by one goroutine, and the sessions it sends to belong
// to one Server.
type Fanout struct {
	srv     *Server
	behind  []*Conn
	flusher bool // the flusher was handed some of it
}

// SmallFanout is the most recipients a broadcast may have to go on the
// priority lane, as a 1:1 message does: a call room's messages keep
// moving however much a big room queues.
const SmallFanout = 8

// Send queues c's share of a broadcast that reaches recipients sessions:
// on the priority lane for a small room (at most SmallFanout: a call
// room, which never waits; the queue bounds hold it), on the broadcast
// lane for more, noting what the producer must wait for (Wait, once it has
// queued to every recipient). It reports whether the frames were queued
// (see Conn.Send).
func (fo *Fanout) Send(c *Conn, volatile bool, recipients int, f Frame, more ...Frame) bool {
	if recipients <= SmallFanout {
		_, ok := c.send(true, volatile, f, more)
		return ok
	}
	fo.srv = c.srv
	queued, ok := c.send(false, volatile, f, more)
	if ok {
		fo.flusher = true
		if queued > fanoutHighWater {
			fo.behind = append(fo.behind, c)
		}
	}
	return ok
}

// Wait blocks until every recipient that was behind has drained to the
// low-water mark or closed, and at most MaxQueueDelay in all; first, the
// producer may be at most a few thousand client writes ahead of the
// server's writer. It returns how long it waited. Waiting is what slows a
// producer down to its recipients' pace: a Socket.IO server waits on the
// reader of the client whose event caused the broadcast, so that client is
// read no more until its fan-out drains.
func (fo *Fanout) Wait() time.Duration {
	srv := fo.srv
	if srv == nil {
		return 0
	}
	start := time.Now()
	if fo.flusher {
		// Not more than flushLead client writes ahead of the flusher.
		srv.flush.waitFor(srv.flush.lastTicket())
		fo.flusher = false
	}
	if len(fo.behind) == 0 {
		return time.Since(start)
	}
	var timer *time.Timer
	for i, s := range fo.behind {
		fo.behind[i] = nil
		ch := s.drainedChan()
		if ch == nil {
			continue
		}
		if timer == nil {
			timer = time.NewTimer(srv.cfg.MaxQueueDelay)
			defer timer.Stop()
		}
		select {
		case <-ch:
		case <-timer.C:
			fo.behind = fo.behind[:0]
			srv.metrics.producerWait.Observe(time.Since(start).Seconds())
			return time.Since(start)
		}
	}
	fo.behind = fo.behind[:0]
	d := time.Since(start)
	if timer != nil {
		srv.metrics.producerWait.Observe(d.Seconds())
	}
	return d
}

// drainedChan returns a channel closed once the session's queue is at or
// below the low-water mark or the session closed, or nil if that is so now.
func (s *Conn) drainedChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || s.queuedLocked() <= fanoutLowWater {
		return nil
	}
	if s.drained == nil {
		s.drained = make(chan struct{})
	}
	return s.drained
}

// notifyDrainedLocked wakes the producers waiting for this session, once
// its queue is low enough or it closed; s.mu held.
func (s *Conn) notifyDrainedLocked() {
	if s.drained != nil && (s.state != stateOpen || s.queuedLocked() <= fanoutLowWater) {
		close(s.drained)
		s.drained = nil
	}
}
