package engineio

import (
	"sync"
	"sync/atomic"
	"time"
)

// flusher is one goroutine that writes fan-outs to clients whose sockets
// have room, one non-blocking write per client of everything its broadcast
// lane holds, instead of a goroutine per client and broadcast: while a
// producer queues broadcast after broadcast, each client's share is written
// in one system call. It yields between groups of clients, so that a
// broadcast to thousands does not keep other connections' readers waiting
// for its whole length. A client whose socket is full gets a writer
// goroutine of its own (writeLoop), which may wait for it.
//
// A producer may run ahead of the flusher by at most flushLead client
// writes (see fanout.wait): a closed-loop broadcaster is paced by the
// hub's own write speed, so what it queues is written within milliseconds
// instead of piling up.
type flusher struct {
	mu      sync.Mutex
	pending []*Conn // guarded by mu; each holds a count on its wg
	// urgent are sessions with priority frames (1:1, acks, control) and
	// no writer: written before the next pending one. Guarded by mu.
	urgent  []*Conn
	nurgent atomic.Int32 // len(urgent), read without mu
	added   uint64       // guarded by mu: sessions ever handed in
	flushed atomic.Uint64
	cond    *sync.Cond // on mu: flushed moved, for producers waiting
	waiters int        // guarded by mu

	wake chan struct{} // one slot
	stop chan struct{}
	done chan struct{}
}

// flushLead is how many client writes a producer may leave to the flusher
// before it waits: a few fan-outs to a thousand.
const flushLead = 4096

func newFlusher() *flusher {
	f := &flusher{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	f.cond = sync.NewCond(&f.mu)
	go f.run()
	return f
}

// add hands s to the flusher; its ticket is the count of sessions handed
// in so far (the flusher has written for s once flushed reaches it). The
// caller has set s.writing and added one to s.wg, which the flusher
// releases.
func (f *flusher) add(s *Conn) {
	f.mu.Lock()
	f.pending = append(f.pending, s)
	f.added++
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// addUrgent hands s to the flusher ahead of the fan-outs pending; no
// ticket (producers do not wait for it). The caller has set s.writing and
// added one to s.wg.
func (f *flusher) addUrgent(s *Conn) {
	f.mu.Lock()
	f.urgent = append(f.urgent, s)
	f.nurgent.Store(int32(len(f.urgent)))
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// flushUrgent writes the urgent sessions, into spare.
func (f *flusher) flushUrgent(spare []*Conn) []*Conn {
	f.mu.Lock()
	spare, f.urgent = f.urgent, spare[:0]
	f.nurgent.Store(0)
	f.mu.Unlock()
	for i, s := range spare {
		s.flushNow()
		spare[i] = nil
	}
	return spare[:0]
}

// lastTicket is the ticket of the latest session handed in.
func (f *flusher) lastTicket() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.added
}

// waitFor blocks until the flusher has written for every session handed in
// up to ticket t, less flushLead.
func (f *flusher) waitFor(t uint64) {
	if t <= flushLead || f.flushed.Load() >= t-flushLead {
		return
	}
	f.mu.Lock()
	f.waiters++
	for f.flushed.Load() < t-flushLead {
		f.cond.Wait()
	}
	f.waiters--
	f.mu.Unlock()
}

// The flusher writes for flushYieldEvery clients between checks, and
// yields once it has run flushSlice without a pause.
const (
	flushYieldEvery = 32
	flushSlice      = 250 * time.Microsecond
	// flushPause must outlast a trip through the scheduler, or the timer
	// has already fired when it looks for work and the network is not
	// polled.
	flushPause = 20 * time.Microsecond
)

func (f *flusher) run() {
	defer close(f.done)
	var batch, urgent []*Conn
	var lastYield time.Time
	for {
		select {
		case <-f.wake:
		case <-f.stop:
			return
		}
		lastYield = time.Now()
		for {
			if f.nurgent.Load() > 0 {
				urgent = f.flushUrgent(urgent)
			}
			f.mu.Lock()
			batch, f.pending = f.pending, batch[:0]
			f.mu.Unlock()
			if len(batch) == 0 {
				if f.nurgent.Load() > 0 {
					continue
				}
				break
			}
			for i, s := range batch {
				if f.nurgent.Load() > 0 {
					urgent = f.flushUrgent(urgent)
				}
				s.flushNow()
				batch[i] = nil
				if i%flushYieldEvery == flushYieldEvery-1 {
					f.progress(flushYieldEvery)
					if time.Since(lastYield) > flushSlice {
						// Let the connections that became readable meanwhile
						// be read: the scheduler polls the network only when
						// it has nothing else to run, so park for a moment
						// rather than Gosched.
						time.Sleep(flushPause)
						lastYield = time.Now()
					}
				}
			}
			f.progress(uint64(len(batch) % flushYieldEvery))
		}
	}
}

// progress records n more sessions written and wakes waiting producers.
func (f *flusher) progress(n uint64) {
	if n == 0 {
		return
	}
	f.flushed.Add(n)
	f.mu.Lock()
	if f.waiters > 0 {
		f.cond.Broadcast()
	}
	f.mu.Unlock()
}

// close stops the flusher once no session is left in it (Shutdown calls
// it after every session's writers are done).
func (f *flusher) close() {
	close(f.stop)
	<-f.done
}

// flushNow writes what s has queued, for the flusher.
func (s *Conn) flushNow() {
	s.mu.Lock()
	nc := s.nc
	batch := s.takeLocked(inlineMax)
	s.mu.Unlock()
	s.writeNow(nc, batch)
	s.wg.Done()
}
