package signaling

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/noomrtc/noom/signaling/socketio"
)

// Ack answers an event the client emitted with an acknowledgement
// callback. It is never nil: when the client asked for no ack it does
// nothing. Only the first call sends.
type Ack func(args ...any)

// EventHandler handles one event. args are json.RawMessage values (the JSON
// as sent), []byte (binary attachments), or decoded trees when binary is
// nested; see Decode. They must not be modified: a handler that forwards
// them as they are (socket.To(sid).Emit(event, args[1])) has them written
// without a second JSON validation.
type EventHandler func(args []any, ack Ack)

type namedHandler struct {
	event string
	fn    EventHandler
}

// AnyHandler sees every incoming event before its own handlers.
type AnyHandler func(event string, args []any)

// PacketMiddleware runs for every incoming event before any handler; a
// non-nil error drops the event.
type PacketMiddleware func(event string, args []any) error

// Socket is one client's connection to one namespace.
//
// Handlers registered with On and OnAny run on the connection's reading
// goroutine, one at a time and in the order the client sent; a handler that
// blocks holds up that client alone. Do not wait for an ack of the same
// client inside a handler (use EmitWithAckFunc, or a goroutine).
// OnDisconnecting and OnDisconnect handlers run once, on the goroutine that
// ends the socket: the reader when the client leaves or its transport
// fails, otherwise the caller of Disconnect or Shutdown, or a goroutine of
// the hub's (ping timeout, slow consumer). They may therefore run while an
// event handler of the same socket is still running. Every other method is
// safe for concurrent use.
type Socket struct {
	id     string
	nsp    *Namespace
	client *client
	auth   json.RawMessage // the CONNECT payload

	mu sync.Mutex
	// mu guards the following fields.
	handlers      []namedHandler // few per socket: a slice is smaller than a map
	anyIn         []AnyHandler
	middlewares   []PacketMiddleware
	disconnecting []func(reason string)
	disconnected  []func(reason string)
	acks          map[int64]func(args []any, err error)
	connected     bool
	data          any

	// rooms are the public rooms the socket is in; nsp.mu guards them.
	rooms []string
	// connectedAt is when the socket connected (UnixNano); set once, under
	// nsp.mu, before the socket is visible in its namespace.
	connectedAt int64
	// inArgs are the arguments of the event the reader is dispatching, nil
	// between events: emits of this socket write those that are forwarded
	// as they are without validating them again.
	inArgs atomic.Pointer[[]any]
}

func newSocket(nsp *Namespace, c *client, auth json.RawMessage) *Socket {
	return &Socket{
		id:     newID(),
		nsp:    nsp,
		client: c,
		auth:   auth,
	}
}

// newID returns 20 URL-safe random characters (120 bits).
func newID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ID is the socket's id: random, distinct from the Engine.IO session id,
// and the name of the socket's private room.
func (s *Socket) ID() string { return s.id }

// Namespace is the namespace the socket belongs to.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake tells how the socket connected.
func (s *Socket) Handshake() Handshake { return s.client.hd.build(s.auth) }

// Transport is "websocket" or "polling", as of now.
func (s *Socket) Transport() string {
	return s.client.conn.Transport()
}

// Data returns the application's state for this socket.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData stores application state for this socket (Socket.IO's socket.data).
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// On registers a handler for an event.
func (s *Socket) On(event string, h EventHandler) {
	s.mu.Lock()
	s.handlers = append(s.handlers, namedHandler{event, h})
	s.mu.Unlock()
}

// OnAny registers a handler for every incoming event.
func (s *Socket) OnAny(h AnyHandler) {
	s.mu.Lock()
	s.anyIn = append(s.anyIn, h)
	s.mu.Unlock()
}

// Use adds a middleware for incoming packets.
func (s *Socket) Use(m PacketMiddleware) {
	s.mu.Lock()
	s.middlewares = append(s.middlewares, m)
	s.mu.Unlock()
}

// OnDisconnecting registers a handler that runs when the socket is about
// to disconnect, while Rooms still lists its rooms.
func (s *Socket) OnDisconnecting(h func(reason string)) {
	s.mu.Lock()
	s.disconnecting = append(s.disconnecting, h)
	s.mu.Unlock()
}

// OnDisconnect registers a handler that runs once the socket has left.
func (s *Socket) OnDisconnect(h func(reason string)) {
	s.mu.Lock()
	s.disconnected = append(s.disconnected, h)
	s.mu.Unlock()
}

// Rooms lists the rooms the socket is in, its private room included,
// sorted; none once it has left.
func (s *Socket) Rooms() []string {
	n := s.nsp
	n.mu.RLock()
	if n.sockets[s.id] != s {
		n.mu.RUnlock()
		return nil
	}
	out := make([]string, 0, 1+len(s.rooms))
	out = append(out, s.id)
	out = append(out, s.rooms...)
	n.mu.RUnlock()
	slices.Sort(out)
	return out
}

// Join adds the socket to rooms of this node. It fails with
// ErrTooManyRooms past Config.MaxRoomsPerSocket, joining none of them.
func (s *Socket) Join(rooms ...string) error {
	if !s.Connected() {
		return ErrClosed
	}
	return s.nsp.join(s, rooms)
}

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) { s.nsp.leave(s, room) }

// info describes the socket for FetchSockets.
func (s *Socket) info() SocketInfo {
	return SocketInfo{ID: s.id, Namespace: s.nsp.name, Handshake: s.Handshake(), Rooms: s.Rooms(), Data: s.Data()}
}

// addAck registers an ack callback, unless the socket has disconnected.
func (s *Socket) addAck(id int64, cb func([]any, error)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		return false
	}
	if s.acks == nil {
		s.acks = make(map[int64]func([]any, error))
	}
	s.acks[id] = cb
	return true
}

func (s *Socket) dropAck(id int64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

var reserved = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

// Emit sends an event to this client, on its priority lane: encoded once,
// into one buffer.
func (s *Socket) Emit(event string, args ...any) error {
	if reserved[event] {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	return s.emit(event, args, false, nil, s.dispatching())
}

// emit is the direct 1:1 path of Emit and To(sid).Emit; rooms are what the
// operator selected, for observers; trusted are arguments known valid.
func (s *Socket) emit(event string, args []any, volatile bool, rooms []string, trusted []any) error {
	if !s.Connected() {
		return ErrClosed
	}
	text, _, atts, err := appendEvent(nil, s.nsp.name, socketio.NoID, event, args, trusted)
	if err != nil {
		return err
	}
	return s.write(event, args, rooms, text, atts, volatile, false)
}

// write queues an encoded event (or, with ack set, an ack) to this client's
// priority lane, counts it and tells observers.
func (s *Socket) write(event string, args []any, rooms []string, text []byte, atts [][]byte, volatile, ack bool) error {
	first, more := engineio.TextFrame(text), attFrames(atts)
	var ok bool
	if volatile && !ack {
		ok = s.client.conn.SendVolatile(first, more...)
	} else {
		ok = s.client.conn.Send(first, more...)
	}
	if !ok {
		if volatile {
			return nil
		}
		return ErrClosed
	}
	srv := s.nsp.srv
	srv.metrics.eventOut(1)
	if !srv.observing(func(o *Observer) bool { return o.Event != nil }) {
		return nil
	}
	size := len(text)
	for _, a := range atts {
		size += len(a)
	}
	e := MessageEvent{Direction: Out, Namespace: s.nsp.name, Event: event, SID: s.id, Rooms: rooms, Recipients: 1, Bytes: size}
	d := srv.observeDetail(s.nsp.name)
	if d.payload {
		e.Args = args
	}
	if d.wantSIDs(1) {
		e.SIDs = []string{s.id}
	}
	srv.notifyEvent(e)
	return nil
}

// EmitWithAckFunc sends an event and calls cb with the client's answer, or
// with ErrAckTimeout after timeout, or ErrClosed if the socket disconnects
// first. cb runs on the socket's reading goroutine or a timer's.
func (s *Socket) EmitWithAckFunc(timeout time.Duration, cb func(args []any, err error), event string, args ...any) error {
	_, err := s.emitWithAck(timeout, cb, event, args)
	return err
}

// emitWithAck is EmitWithAckFunc, returning the ack id.
func (s *Socket) emitWithAck(timeout time.Duration, cb func(args []any, err error), event string, args []any) (int64, error) {
	if reserved[event] {
		return 0, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	id := s.nsp.nextAckID()
	text, _, atts, err := appendEvent(nil, s.nsp.name, id, event, args, s.dispatching())
	if err != nil {
		return 0, err
	}
	var once sync.Once
	var timer *time.Timer
	done := func(a []any, err error) {
		once.Do(func() {
			if timer != nil {
				timer.Stop()
			}
			cb(a, err)
		})
	}
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	if s.acks == nil {
		s.acks = make(map[int64]func([]any, error))
	}
	s.acks[id] = done
	if timeout > 0 {
		// Armed under mu: whoever finds done in acks (and may call it, reading
		// timer) takes mu after this write.
		timer = time.AfterFunc(timeout, func() {
			s.mu.Lock()
			delete(s.acks, id)
			s.mu.Unlock()
			done(nil, ErrAckTimeout)
		})
	}
	s.mu.Unlock()
	if !s.Connected() {
		err = ErrClosed
	} else {
		err = s.write(event, args, nil, text, atts, false, false)
	}
	if err != nil {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
		if timer != nil {
			timer.Stop()
		}
		return 0, err
	}
	return id, nil
}

// EmitWithAck sends an event and waits for the client's answer until ctx
// is done. Do not call it from a handler of the same socket: the answer is
// read by the goroutine that would be waiting.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	type result struct {
		args []any
		err  error
	}
	ch := make(chan result, 1)
	id, err := s.emitWithAck(0, func(a []any, err error) { ch <- result{a, err} }, event, args)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.acks, id) // a late answer finds nobody waiting
		s.mu.Unlock()
		return nil, ctx.Err()
	}
}

// dispatching returns the arguments of the event this socket's handlers are
// handling now, or nil.
func (s *Socket) dispatching() []any {
	if p := s.inArgs.Load(); p != nil {
		return *p
	}
	return nil
}

// To broadcasts to rooms, excluding this socket (socket.to in Socket.IO).
// To(sid) of another socket of this node is the direct 1:1 path.
func (s *Socket) To(rooms ...string) *BroadcastOperator {
	b := newOperator(s.nsp, rooms, []string{s.id})
	b.from = s
	return b
}

// In is To.
func (s *Socket) In(rooms ...string) *BroadcastOperator { return s.To(rooms...) }

// Except broadcasts to every socket of the namespace but this one and the
// rooms given.
func (s *Socket) Except(rooms ...string) *BroadcastOperator {
	b := s.nsp.Except(append(rooms, s.id)...)
	b.from = s
	return b
}

// Broadcast sends to every other socket of the namespace.
func (s *Socket) Broadcast() *BroadcastOperator {
	b := newOperator(s.nsp, nil, []string{s.id})
	b.from = s
	return b
}

// Disconnect disconnects the socket from its namespace, telling the client.
// With close set, the whole underlying connection is closed too.
func (s *Socket) Disconnect(close bool) {
	if close {
		s.close(ReasonServerDisconnect, true)
		s.client.conn.Close(ReasonForcedServerClose)
		return
	}
	s.close(ReasonServerDisconnect, true)
}

// close disconnects the socket once. tell sends DISCONNECT to the client.
func (s *Socket) close(reason string, tell bool) {
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return
	}
	s.connected = false
	disconnecting := s.disconnecting
	s.mu.Unlock()
	for _, h := range disconnecting {
		h(reason)
	}
	if tell {
		s.client.conn.Send(engineio.TextFrame(encodeControl(socketio.Disconnect, s.nsp.name, nil)))
	}
	s.nsp.remove(s)
	s.client.remove(s)
	s.mu.Lock()
	acks := s.acks
	s.acks = nil
	disconnected := s.disconnected
	s.mu.Unlock()
	for _, cb := range acks {
		cb(nil, ErrClosed)
	}
	for _, h := range disconnected {
		h(reason)
	}
	s.nsp.srv.metrics.socketsDisconnected.Inc()
	if s.nsp.srv.observing(func(o *Observer) bool { return o.Disconnect != nil }) {
		s.nsp.srv.notifyDisconnect(SocketEvent{Namespace: s.nsp.name, SID: s.id, Session: s.client.conn.ID(),
			Reason: reason, RemoteAddr: s.client.hd.remoteAddr, Time: time.Now()})
	}
}

// eventName reads an event's name: a JSON string.
func eventName(raw json.RawMessage) (string, error) {
	if name, ok := plainString(raw); ok {
		return name, nil
	}
	var event string
	err := json.Unmarshal(raw, &event)
	return event, err
}

// plainString reads a JSON string without escapes, in UTF-8 (nearly every
// event name, socket id and room), as encoding/json would, without its
// reflection; ok is false for anything else, which encoding/json then
// reads.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || bytes.IndexByte(raw, '\\') >= 0 ||
		!utf8.Valid(raw) || !socketio.Valid(raw) {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}

// onEvent dispatches an incoming EVENT, on the reading goroutine.
func (s *Socket) onEvent(pkt socketio.Packet, atts [][]byte) error {
	elems, err := socketio.SplitArray(pkt.Data)
	if err != nil {
		return err
	}
	event, err := eventName(elems[0])
	if err != nil {
		return err
	}
	var args []any
	if atts != nil {
		if args, err = socketio.Reconstruct(elems[1:], atts); err != nil {
			return err
		}
	} else {
		args = make([]any, len(elems)-1)
		for i, e := range elems[1:] {
			args[i] = e
		}
	}
	size := len(pkt.Data)
	for _, a := range atts {
		size += len(a)
	}
	srv := s.nsp.srv
	srv.metrics.count.packetsIn.Add(1)
	if srv.observing(func(o *Observer) bool { return o.Event != nil }) {
		e := MessageEvent{Direction: In, Namespace: s.nsp.name, Event: event, SID: s.id, Bytes: size}
		if srv.observeDetail(s.nsp.name).payload {
			e.Args = args
		}
		srv.notifyEvent(e)
	}

	s.inArgs.Store(&args)
	defer s.inArgs.Store(nil)
	ack := noAck
	if pkt.ID != socketio.NoID {
		ack = s.ackFunc(pkt.ID)
	}
	s.mu.Lock()
	mws, anyIn, all := s.middlewares, s.anyIn, s.handlers
	s.mu.Unlock()
	for _, m := range mws {
		if m(event, args) != nil {
			return nil
		}
	}
	for _, h := range anyIn {
		h(event, args)
	}
	for _, h := range all {
		if h.event == event {
			h.fn(args, ack)
		}
	}
	return nil
}

func noAck(...any) {}

func (s *Socket) ackFunc(id int64) Ack {
	var once sync.Once
	return func(args ...any) {
		once.Do(func() {
			text, _, atts, err := appendPacket(make([]byte, 0, 32+argsSize(args)), socketio.Ack, s.nsp.name, id, "", args, s.dispatching())
			if err != nil {
				s.nsp.srv.log.Warn("signaling: ack not sent", "sid", s.id, "err", err)
				return
			}
			s.write("", args, nil, text, atts, false, true)
		})
	}
}

// onAck delivers a client's answer to the waiting EmitWithAck.
func (s *Socket) onAck(pkt socketio.Packet, atts [][]byte) error {
	elems, err := socketio.SplitArray(pkt.Data)
	if err != nil {
		return err
	}
	var args []any
	if atts != nil {
		if args, err = socketio.Reconstruct(elems, atts); err != nil {
			return err
		}
	} else {
		args = make([]any, len(elems))
		for i, e := range elems {
			args[i] = e
		}
	}
	s.mu.Lock()
	cb := s.acks[pkt.ID]
	delete(s.acks, pkt.ID)
	s.mu.Unlock()
	if cb != nil {
		cb(args, nil)
	}
	return nil
}
