package signaling

import (
	"math"
	"slices"
	"time"

	"github.com/noomrtc/noom/signaling/engineio"
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
	Session    string // the Engine.IO session (connection) the socket rides on
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
// say what was selected and Recipients how many it reached on this node.
// An ack out has an empty Event.
type MessageEvent struct {
	Direction  Direction
	Namespace  string
	Event      string
	SID        string
	Rooms      []string
	Except     []string
	Recipients int
	Bytes      int
	// Args are the event's arguments (as handlers get them, or as emitted),
	// set when an observer asked for ObserveDetail.Payload. Read-only.
	Args []any
	// SIDs are the sockets an event out reached on this node, set when an
	// observer asked for ObserveDetail.Recipients. Read-only.
	SIDs []string
}

// SessionEvent tells of an Engine.IO session (one client connection, which
// carries a socket per namespace) that opened or closed: Socket.IO's
// rawConnection and rawDisconnection.
type SessionEvent struct {
	SID        string // the Engine.IO session id
	RemoteAddr string
	Transport  string // the transport it opened on, or had when it closed
	Reason     string // on close
	Time       time.Time
}

// SocketRef names a socket.
type SocketRef struct {
	Namespace string
	SID       string
}

// UpgradeEvent tells of a session that moved to another transport
// (polling to WebSocket): Socket.IO Admin UI's socket_updated.
type UpgradeEvent struct {
	SID      string // the Engine.IO session id
	From, To string // transports
	// Sockets are the session's sockets, filled in by the hub.
	Sockets []SocketRef
	Time    time.Time
}

// Drop reasons.
const (
	DropVolatile     = engineio.DropVolatile     // a volatile packet for a client not ready
	DropSlowConsumer = engineio.DropSlowConsumer // the client was cut off: its queue overflowed or aged
)

// DropEvent tells of packets a session did not get.
type DropEvent struct {
	SID    string // the Engine.IO session id
	Reason string // DropVolatile or DropSlowConsumer
	Bytes  int    // bytes dropped, when known
	Time   time.Time
}

// ObserveDetail opts in to costly fields. The zero value gives the cheap
// events: no payloads, no recipient lists.
type ObserveDetail struct {
	// Payload sets MessageEvent.Args (Socket.IO Admin UI's event_received
	// and event_sent carry them).
	Payload bool
	// Recipients sets MessageEvent.SIDs for events out.
	Recipients bool
	// MaxRecipients, with Recipients, sets SIDs only for events out to at
	// most this many sockets (a console that shows small broadcasts one
	// by one and large ones as a count): a list per large broadcast is
	// garbage the collector pays for, scanning every connection's stack.
	// 0 means no limit.
	MaxRecipients int
	// Exclude lists namespaces this observer is told nothing about (its
	// own, such as "/admin": no feedback loop). Session, upgrade and drop
	// events carry no namespace and are not excluded.
	Exclude []string
}

// Observer is a set of optional hooks. They are called synchronously by the
// goroutine that caused the event, never under the hub's locks, and must
// not block: hand the event to a bounded queue and drop when it is full.
// Slices in events must not be modified. A hook may call the hub (emit,
// join, disconnect); an observer that emits on the hub should Exclude the
// namespace it emits on, or it observes its own emits. With several
// observers, a costly field one of them asked for may be set for all.
type Observer struct {
	Connect      func(SocketEvent)
	Disconnect   func(SocketEvent)
	Join         func(RoomEvent) // fired by the namespace, whatever the adapter
	Leave        func(RoomEvent)
	Event        func(MessageEvent)
	SessionOpen  func(SessionEvent)
	SessionClose func(SessionEvent)
	Upgrade      func(UpgradeEvent)
	Drop         func(DropEvent)
	Detail       ObserveDetail
}

// Observe adds hooks; the returned function removes them.
func (srv *Server) Observe(o Observer) (remove func()) {
	o.Detail.Exclude = slices.Clone(o.Detail.Exclude)
	e := &observerEntry{o: o}
	srv.updateObservers(func(l []*observerEntry) []*observerEntry { return append(l, e) })
	return func() {
		srv.updateObservers(func(l []*observerEntry) []*observerEntry {
			return slices.DeleteFunc(l, func(x *observerEntry) bool { return x == e })
		})
	}
}

type observerEntry struct{ o Observer }

func (oe *observerEntry) excludes(nsp string) bool { return slices.Contains(oe.o.Detail.Exclude, nsp) }

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

// observing reports whether any observer has a hook has reports true for:
// callers skip building events nobody receives.
func (srv *Server) observing(has func(*Observer) bool) bool {
	for _, oe := range srv.observers() {
		if has(&oe.o) {
			return true
		}
	}
	return false
}

type detail struct {
	payload bool
	// maxRecipients is the largest event out that carries its SIDs: the
	// largest limit of the observers asking for them; 0 when none asks.
	maxRecipients int
}

// wantSIDs reports whether an event out to n sockets carries their ids.
func (d detail) wantSIDs(n int) bool { return n <= d.maxRecipients }

// observeDetail is the detail some observer of namespace nsp asked for.
func (srv *Server) observeDetail(nsp string) detail {
	var d detail
	for _, oe := range srv.observers() {
		if oe.o.Event == nil || (!oe.o.Detail.Payload && !oe.o.Detail.Recipients) || oe.excludes(nsp) {
			continue
		}
		d.payload = d.payload || oe.o.Detail.Payload
		if oe.o.Detail.Recipients {
			m := oe.o.Detail.MaxRecipients
			if m == 0 {
				m = math.MaxInt
			}
			d.maxRecipients = max(d.maxRecipients, m)
		}
	}
	return d
}

func (srv *Server) notifyConnect(e SocketEvent) {
	for _, oe := range srv.observers() {
		if o := &oe.o; o.Connect != nil && !oe.excludes(e.Namespace) {
			o.Connect(e)
		}
	}
}

func (srv *Server) notifyDisconnect(e SocketEvent) {
	for _, oe := range srv.observers() {
		if o := &oe.o; o.Disconnect != nil && !oe.excludes(e.Namespace) {
			o.Disconnect(e)
		}
	}
}

func (srv *Server) notifyRoom(join bool, e RoomEvent) {
	for _, oe := range srv.observers() {
		o := &oe.o
		if oe.excludes(e.Namespace) {
			continue
		}
		if join && o.Join != nil {
			o.Join(e)
		} else if !join && o.Leave != nil {
			o.Leave(e)
		}
	}
}

func (srv *Server) notifyEvent(e MessageEvent) {
	for _, oe := range srv.observers() {
		if o := &oe.o; o.Event != nil && !oe.excludes(e.Namespace) {
			o.Event(e)
		}
	}
}

// The engine calls the four below (session open and close, upgrade, drop),
// outside its locks. Each costs one atomic load when nobody observes.

// notifySessionOpen tells observers of a new Engine.IO session.
func (srv *Server) notifySessionOpen(e SessionEvent) {
	for _, oe := range srv.observers() {
		if o := &oe.o; o.SessionOpen != nil {
			o.SessionOpen(e)
		}
	}
}

// notifySessionClose tells observers of a closed Engine.IO session.
func (srv *Server) notifySessionClose(e SessionEvent) {
	for _, oe := range srv.observers() {
		if o := &oe.o; o.SessionClose != nil {
			o.SessionClose(e)
		}
	}
}

// notifyUpgrade tells observers of a session's new transport.
func (srv *Server) notifyUpgrade(e UpgradeEvent) {
	for _, oe := range srv.observers() {
		if o := &oe.o; o.Upgrade != nil {
			o.Upgrade(e)
		}
	}
}

// notifyDrop tells observers of packets a session did not get.
func (srv *Server) notifyDrop(e DropEvent) {
	for _, oe := range srv.observers() {
		if o := &oe.o; o.Drop != nil {
			o.Drop(e)
		}
	}
}
