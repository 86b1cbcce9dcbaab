package engineio

import (
	"sync"
	"time"
)

// The heartbeat is one goroutine that keeps every session's deadlines,
// instead of a timer per connection. Each kind of deadline has a fixed
// duration (ping interval, pong timeout, connect timeout), so appending
// "now + d" to the tail of that kind's list keeps it sorted: insertion,
// removal and expiry are O(1), and the goroutine sleeps until the earliest
// head.

type deadlineKind uint8

const (
	dueNone    deadlineKind = iota
	duePing                 // time to send a ping
	duePong                 // a ping is unanswered: the pong is due
	dueConnect              // no namespace joined yet
	numKinds
)

// dlNode is an intrusive list node. All its fields are guarded by heartbeat.mu.
type dlNode struct {
	prev, next *dlNode
	kind       deadlineKind
	due        time.Time
	s          *Conn
}

type dlList struct {
	d          time.Duration
	head, tail *dlNode
}

type heartbeat struct {
	fire func(s *Conn, k deadlineKind, now time.Time)

	mu    sync.Mutex // guards lists and every dlNode
	lists [numKinds]dlList

	wake chan struct{} // one slot: the earliest deadline may have changed
	stop chan struct{}
	done chan struct{}
}

func newHeartbeat(ping, pong, connect time.Duration, fire func(*Conn, deadlineKind, time.Time)) *heartbeat {
	h := &heartbeat{
		fire: fire,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	h.lists[duePing].d = ping
	h.lists[duePong].d = pong
	h.lists[dueConnect].d = connect
	go h.run()
	return h
}

// schedule moves n to the tail of list k with due = now + k's duration and
// returns that due time.
func (h *heartbeat) schedule(n *dlNode, k deadlineKind, now time.Time) time.Time {
	h.mu.Lock()
	h.unlink(n)
	l := &h.lists[k]
	n.kind, n.due = k, now.Add(l.d)
	n.prev, n.next = l.tail, nil
	wasEmpty := l.head == nil
	if l.tail != nil {
		l.tail.next = n
	} else {
		l.head = n
	}
	l.tail = n
	due := n.due
	h.mu.Unlock()
	if wasEmpty {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	return due
}

func (h *heartbeat) remove(n *dlNode) {
	h.mu.Lock()
	h.unlink(n)
	h.mu.Unlock()
}

func (h *heartbeat) unlink(n *dlNode) {
	if n.kind == dueNone {
		return
	}
	l := &h.lists[n.kind]
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next, n.kind = nil, nil, dueNone
}

type fired struct {
	s *Conn
	k deadlineKind
}

func (h *heartbeat) run() {
	defer close(h.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var batch []fired
	for {
		now := time.Now()
		var next time.Time
		h.mu.Lock()
		for k := duePing; k < numKinds; k++ {
			l := &h.lists[k]
			for l.head != nil && !l.head.due.After(now) {
				n := l.head
				batch = append(batch, fired{n.s, k})
				h.unlink(n)
			}
			if l.head != nil && (next.IsZero() || l.head.due.Before(next)) {
				next = l.head.due
			}
		}
		h.mu.Unlock()
		for i, f := range batch {
			h.fire(f.s, f.k, now)
			batch[i] = fired{}
		}
		batch = batch[:0]
		wait := time.Hour
		if !next.IsZero() {
			wait = time.Until(next)
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-h.wake:
		case <-h.stop:
			return
		}
	}
}

func (h *heartbeat) close() {
	close(h.stop)
	<-h.done
}
