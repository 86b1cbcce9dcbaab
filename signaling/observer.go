package signaling

import (
	"slices"
	"time"
)

// Direction of a message event.
type Direction uint8

// Directions.
const (
	In  Direction = iota // from a client
	Out                  // to clients
)

func (d Direction) String() string {
	if d == Out {
		return "out"
	}
	return "in"
}

// SocketEvent tells of a socket that connected or disconnected.
type SocketEvent struct {
	Namespace  string
	SID        string
	RemoteAddr string
	Transport  string // on connect
	Reason     string // on disconnect
	Time       time.Time
}

// RoomEvent tells of a socket that joined or left a public room.
type RoomEvent struct {
	Namespace string
	Room      string
	SID       string
	Time      time.Time
}

// MessageEvent tells of an event in or out. For In, SID is the sender; for
// Out to one socket, SID is the target; for a broadcast, Rooms and Except
// say what was selected and Recipients how many it reached here.
type MessageEvent struct {
	Direction  Direction
	Namespace  string
	Event      string
	SID        string
	Rooms      []string
	Except     []string
	Recipients int
	Bytes      int
}

// Observer is a set of optional hooks. They are called synchronously by the
// goroutine that caused the event, never under the hub's locks, and must
// not block: hand the event to a bounded queue and drop when it is full.
// Slices in events must not be modified.
type Observer struct {
	Connect    func(SocketEvent)
	Disconnect func(SocketEvent)
	Join       func(RoomEvent)
	Leave      func(RoomEvent)
	Event      func(MessageEvent)
}

// Observe adds hooks; the returned function removes them.
func (srv *Server) Observe(o Observer) (remove func()) {
	e := &observerEntry{o: o}
	srv.updateObservers(func(l []*observerEntry) []*observerEntry { return append(l, e) })
	return func() {
		srv.updateObservers(func(l []*observerEntry) []*observerEntry {
			return slices.DeleteFunc(l, func(x *observerEntry) bool { return x == e })
		})
	}
}

type observerEntry struct{ o Observer }

// updateObservers swaps in a new list copy-on-write: notifying reads the
// list with one atomic load and no lock.
func (srv *Server) updateObservers(f func([]*observerEntry) []*observerEntry) {
	srv.obsMu.Lock()
	defer srv.obsMu.Unlock()
	var cur []*observerEntry
	if p := srv.obs.Load(); p != nil {
		cur = slices.Clone(*p)
	}
	next := f(cur)
	srv.obs.Store(&next)
}

func (srv *Server) observers() []*observerEntry {
	if p := srv.obs.Load(); p != nil {
		return *p
	}
	return nil
}

func (srv *Server) notifyConnect(e SocketEvent) {
	for _, oe := range srv.observers() {
		o := &oe.o
		if o.Connect != nil {
			o.Connect(e)
		}
	}
}

func (srv *Server) notifyDisconnect(e SocketEvent) {
	srv.metrics.socketsDisconnected.Inc()
	for _, oe := range srv.observers() {
		o := &oe.o
		if o.Disconnect != nil {
			o.Disconnect(e)
		}
	}
}

func (srv *Server) notifyRoom(join bool, e RoomEvent) {
	for _, oe := range srv.observers() {
		o := &oe.o
		if join && o.Join != nil {
			o.Join(e)
		} else if !join && o.Leave != nil {
			o.Leave(e)
		}
	}
}

func (srv *Server) notifyEvent(e MessageEvent) {
	for _, oe := range srv.observers() {
		o := &oe.o
		if o.Event != nil {
			o.Event(e)
		}
	}
}
