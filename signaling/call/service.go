package call

import (
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/prometheus/client_golang/prometheus"
)

// ICEServer is an RTCIceServer as the browser takes it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICEProvider mints ICE servers with fresh credentials for a client that
// reached us at host. The STUN/TURN component implements it; cmd/noom
// plugs it in.
type ICEProvider interface {
	ICEServers(host, user string) []ICEServer
}

// Service runs the call protocol on a namespace.
type Service struct {
	cfg     Config
	nsp     *signaling.Namespace
	ice     ICEProvider
	metrics *metrics

	mu sync.RWMutex
	// mu guards the following fields, and the fields of every room, peer
	// and client that say so.
	rooms        map[string]*room   // call rooms with people in them, by name
	peers        map[string]*peer   // connected sockets, by id
	clients      map[string]*client // per client IP
	participants int                // sum of the rooms' sizes

	list  atomic.Pointer[roomList] // the room list last built; read without locks
	dirty chan struct{}            // one slot: a listed room may have changed
	stop  chan struct{}
	done  chan struct{}
}

// room is a call room. Service.mu guards members.
type room struct {
	name       string
	listed     bool
	salt, hash []byte            // HMAC-SHA256(salt, passcode); nil without a passcode
	members    map[string]string // socket id → nickname in this room
}

// peer is a socket's call state.
type peer struct {
	sock   *signaling.Socket
	id     string
	idJSON []byte // id as a JSON string, for building relayed events
	host   string // the host the client reached, for its ICE servers
	client *client
	events bucket // every event
	joins  bucket // membership changes

	// Service.mu guards the following fields.
	rooms      []*room
	gone       bool // disconnecting: joins must not add rooms any more
	subscribed bool // to the room list

	mu    sync.Mutex
	stats map[string]Stats // mu guards it: the latest report per peer id
}

// subscribersRoom is the hub room of the sockets subscribed to the room
// list. Its name has a control character, which no call room can have.
const subscribersRoom = "\x00call:rooms"

// New serves the call protocol on nsp. ice may be nil: joins then carry an
// empty ICE server list, and "ice-servers" answers unavailable.
func New(cfg Config, nsp *signaling.Namespace, ice ICEProvider, reg prometheus.Registerer) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	svc := &Service{
		cfg:     cfg,
		nsp:     nsp,
		ice:     ice,
		rooms:   make(map[string]*room),
		peers:   make(map[string]*peer),
		clients: make(map[string]*client),
		dirty:   make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	svc.list.Store(emptyList())
	m, err := newMetrics(reg, svc)
	if err != nil {
		return nil, err
	}
	svc.metrics = m
	// The call protocol never sends binary: attachments would only pin memory.
	nsp.RefuseBinary()
	nsp.OnConnection(svc.onConnection)
	go svc.run()
	return svc, nil
}

// Close stops the room-list pusher.
func (svc *Service) Close() error {
	select {
	case <-svc.stop:
	default:
		close(svc.stop)
	}
	<-svc.done
	return nil
}

// Present tells whether the socket with this id is connected and in a
// call room: the TURN server relays only for such users.
func (svc *Service) Present(user string) bool {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	p := svc.peers[user]
	return p != nil && len(p.rooms) > 0
}

type counts struct{ rooms, participants int }

func (svc *Service) counts() counts {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	return counts{len(svc.rooms), svc.participants}
}

type handler func(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error)

func (svc *Service) onConnection(s *signaling.Socket) {
	id, _ := json.Marshal(s.ID())
	hs := s.Handshake() // parses the kept headers: once per connection
	host := hs.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	p := &peer{sock: s, id: s.ID(), idJSON: id, host: host}
	p.events.init(svc.cfg.EventsPerSecond, svc.cfg.Burst)
	p.joins.init(svc.cfg.JoinsPerSecond, svc.cfg.JoinBurst)
	ip := svc.cfg.ClientIP(hs)
	svc.mu.Lock()
	c := svc.clients[ip]
	if c == nil {
		c = svc.newClient()
		svc.clients[ip] = c
	}
	c.sockets++
	p.client = c
	svc.peers[p.id] = p
	svc.mu.Unlock()

	on := func(event string, h handler) {
		s.On(event, func(args []any, ack signaling.Ack) {
			res, e := svc.serve(s, p, event, args, h)
			if e != nil {
				svc.metrics.errors[e.Code].Inc()
				ack(map[string]any{"ok": false, "error": e})
				return
			}
			if res == nil {
				res = map[string]any{}
			}
			res["ok"] = true
			ack(res)
		})
	}
	on("join", svc.join)
	on("leave", svc.leave)
	on("signal", svc.signal)
	on("chat", svc.chat)
	on("rooms", svc.roomsList)
	on("rooms:subscribe", svc.subscribe)
	on("rooms:unsubscribe", svc.unsubscribe)
	on("ice-servers", svc.iceServers)
	on("call-stats", svc.callStats)
	s.OnDisconnecting(func(string) { svc.disconnecting(p) })
}

// disconnecting forgets the socket: its rooms (telling them), its
// subscription, its stats. O(its rooms).
func (svc *Service) disconnecting(p *peer) {
	svc.mu.Lock()
	p.gone = true
	rooms := make([]string, 0, len(p.rooms))
	for len(p.rooms) > 0 {
		r := p.rooms[0]
		rooms = append(rooms, r.name)
		svc.removeLocked(p, r)
	}
	if p.subscribed {
		p.subscribed = false
		svc.metrics.subscribers.Dec()
	}
	delete(svc.peers, p.id)
	p.client.sockets--
	svc.mu.Unlock()
	for _, r := range rooms {
		p.sock.To(r).Emit("peer-left", map[string]any{"id": p.id})
	}
}

func (svc *Service) serve(s *signaling.Socket, p *peer, event string, args []any, h handler) (map[string]any, *Error) {
	if !p.events.allow(time.Now()) {
		return nil, errorf(CodeRateLimited, "too many events: slow down")
	}
	var raw json.RawMessage
	if len(args) > 0 {
		r, ok := args[0].(json.RawMessage)
		if !ok || len(r) == 0 || r[0] != '{' {
			return nil, errorf(CodeBadRequest, event+" takes one object")
		}
		raw = r
	} else {
		raw = json.RawMessage(`{}`)
	}
	return h(s, p, raw)
}

func decode(raw json.RawMessage, v any) *Error {
	if err := json.Unmarshal(raw, v); err != nil {
		return errorf(CodeBadRequest, "malformed payload: "+err.Error())
	}
	return nil
}

type member struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// othersLocked lists r's members but id, sorted by id.
func (r *room) othersLocked(id string) []member {
	out := make([]member, 0, len(r.members))
	for sid, name := range r.members {
		if sid != id {
			out = append(out, member{ID: sid, Name: name})
		}
	}
	slices.SortFunc(out, func(a, b member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (r *room) nameTakenLocked(name string) bool {
	for _, n := range r.members {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func (p *peer) roomLocked(name string) *room {
	for _, r := range p.rooms {
		if r.name == name {
			return r
		}
	}
	return nil
}

type joinRequest struct {
	Room     string `json:"room"`
	Name     string `json:"name"`
	Passcode string `json:"passcode"`
	Unlisted bool   `json:"unlisted"`
}

func (svc *Service) join(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var req joinRequest
	if e := decode(raw, &req); e != nil {
		return nil, e
	}
	if !validText(req.Room, MaxRoomNameLen) {
		return nil, errorf(CodeBadRequest, "room: 1 to 64 printable characters")
	}
	if !validText(req.Name, MaxNameLen) {
		return nil, errorf(CodeBadRequest, "name: 1 to 32 printable characters")
	}
	if req.Passcode != "" && !validText(req.Passcode, MaxPasscodeLen) {
		return nil, errorf(CodeBadRequest, "passcode: 1 to 64 printable characters")
	}
	if svc.nsp.Socket(req.Room) != nil {
		return nil, errorf(CodeBadRequest, "room: that name is taken")
	}
	svc.mu.Lock()
	r, peers, already, e := svc.enterLocked(p, req, time.Now())
	name := req.Name
	if already {
		name = r.members[p.id]
	}
	svc.mu.Unlock()
	if e != nil {
		if slices.Contains(joinResults, e.Code) {
			svc.metrics.joins[e.Code].Inc()
		}
		return nil, e
	}
	if !already {
		if err := s.Join(req.Room); err != nil {
			svc.mu.Lock()
			if p.roomLocked(r.name) == r {
				svc.removeLocked(p, r)
			}
			svc.mu.Unlock()
			if errors.Is(err, signaling.ErrTooManyRooms) {
				return nil, errorf(CodeTooManyRooms, err.Error())
			}
			return nil, errorf(CodeUnavailable, err.Error())
		}
		s.To(req.Room).Emit("peer-joined", member{ID: p.id, Name: req.Name})
		svc.metrics.joins["ok"].Inc()
	}
	return map[string]any{
		"id": p.id, "room": req.Room, "name": name, "peers": peers,
		"passcode": r.hash != nil, "listed": r.listed,
		"iceServers": svc.iceFor(p),
	}, nil
}

// enterLocked puts p in the room req names, creating it if need be, or
// tells why not. already is true when p was in it: nothing changes then.
func (svc *Service) enterLocked(p *peer, req joinRequest, now time.Time) (r *room, peers []member, already bool, e *Error) {
	if p.gone {
		return nil, nil, false, errorf(CodeUnavailable, "disconnecting")
	}
	if r = p.roomLocked(req.Room); r != nil {
		return r, r.othersLocked(p.id), true, nil
	}
	if len(p.rooms) >= svc.cfg.MaxRoomsPerSocket {
		return nil, nil, false, errorf(CodeTooManyRooms, "in too many rooms: leave one first")
	}
	r = svc.rooms[req.Room]
	if r != nil && r.hash != nil {
		if !p.client.passcodes.has(now) {
			return nil, nil, false, errorf(CodeRateLimited, "too many wrong passcodes: wait a minute")
		}
		if !r.passcodeOK(req.Passcode) {
			p.client.passcodes.allow(now)
			return nil, nil, false, errorf(CodeBadPasscode, "this room needs its passcode")
		}
	}
	if r != nil && len(r.members) >= svc.cfg.MaxRoomSize {
		return nil, nil, false, errorf(CodeRoomFull, "the room is full")
	}
	if r != nil && r.nameTakenLocked(req.Name) {
		return nil, nil, false, errorf(CodeNameTaken, "someone in this room has that name: pick another")
	}
	if !p.joins.has(now) || !p.client.joins.has(now) || (r == nil && !p.client.creates.has(now)) {
		return nil, nil, false, errorf(CodeRateLimited, "too many joins: wait a moment")
	}
	p.joins.allow(now)
	p.client.joins.allow(now)
	if r == nil {
		p.client.creates.allow(now)
		r = newRoom(req.Room, !svc.cfg.HideRoomList && !req.Unlisted && !IsMeetingCode(req.Room), req.Passcode)
		svc.rooms[r.name] = r
	}
	peers = r.othersLocked(p.id)
	r.members[p.id] = req.Name
	p.rooms = append(p.rooms, r)
	svc.participants++
	if r.listed {
		svc.changed()
	}
	return r, peers, false, nil
}

// removeLocked takes p out of r, and r away when it empties.
func (svc *Service) removeLocked(p *peer, r *room) {
	p.rooms = slices.DeleteFunc(p.rooms, func(x *room) bool { return x == r })
	delete(r.members, p.id)
	svc.participants--
	if len(r.members) == 0 && svc.rooms[r.name] == r {
		delete(svc.rooms, r.name)
	}
	if r.listed {
		svc.changed()
	}
}

func (svc *Service) leave(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var req struct{ Room string }
	if e := decode(raw, &req); e != nil {
		return nil, e
	}
	svc.mu.Lock()
	r := p.roomLocked(req.Room)
	if r != nil {
		svc.removeLocked(p, r)
	}
	svc.mu.Unlock()
	if r == nil {
		return nil, errorf(CodeNotInRoom, "not in that room")
	}
	s.Leave(req.Room)
	s.To(req.Room).Emit("peer-left", map[string]any{"id": p.id})
	return nil, nil
}

var signalTypes = []string{"offer", "answer", "candidate"}

// signalData is a signal's data, kept as sent, with its type read on the way.
type signalData struct {
	raw  json.RawMessage
	Type string `json:"type"`
}

func (d *signalData) UnmarshalJSON(b []byte) error {
	if len(b) > MaxSignalBytes {
		return errors.New("data: at most 64 KB")
	}
	if len(b) == 0 || b[0] != '{' {
		return errors.New("data: an object")
	}
	var t struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	d.raw, d.Type = b, t.Type
	return nil
}

func (svc *Service) signal(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var req struct {
		To   string     `json:"to"`
		Data signalData `json:"data"`
	}
	if e := decode(raw, &req); e != nil {
		return nil, e
	}
	sig, ok := svc.metrics.signals[req.Data.Type]
	if req.To == "" || req.Data.raw == nil || !ok {
		return nil, errorf(CodeBadRequest, "signal takes {to, data} with data.type offer, answer or candidate")
	}
	if !svc.shareRoom(p, req.To) {
		return nil, errorf(CodeNotInRoom, "no room shared with that peer")
	}
	// {"data":<as sent>,"from":"<id>"}: built once, never re-encoded.
	out := make([]byte, 0, len(req.Data.raw)+len(p.idJSON)+18)
	out = append(out, `{"data":`...)
	out = append(out, req.Data.raw...)
	out = append(out, `,"from":`...)
	out = append(out, p.idJSON...)
	out = append(out, '}')
	if err := svc.nsp.To(req.To).Emit("signal", json.RawMessage(out)); err != nil {
		return nil, errorf(CodeBadRequest, err.Error())
	}
	sig.Inc()
	return nil, nil
}

func (svc *Service) shareRoom(p *peer, to string) bool {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	for _, r := range p.rooms {
		if _, ok := r.members[to]; ok && to != p.id {
			return true
		}
	}
	return false
}

func (svc *Service) chat(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var req struct{ Room, Text string }
	if e := decode(raw, &req); e != nil {
		return nil, e
	}
	if !validChat(req.Text) {
		return nil, errorf(CodeBadRequest, "text: 1 to 2000 characters, no control characters")
	}
	svc.mu.RLock()
	r := p.roomLocked(req.Room)
	var name string
	if r != nil {
		name = r.members[p.id]
	}
	svc.mu.RUnlock()
	if r == nil {
		return nil, errorf(CodeNotInRoom, "not in that room")
	}
	ts := time.Now().UnixMilli()
	s.To(req.Room).Emit("chat", map[string]any{"from": p.id, "name": name, "text": req.Text, "ts": ts})
	svc.metrics.chats.Inc()
	return map[string]any{"ts": ts}, nil
}

func (svc *Service) iceFor(p *peer) []ICEServer {
	if svc.ice == nil {
		return []ICEServer{}
	}
	return svc.ice.ICEServers(p.host, p.id)
}

// iceServers gives fresh TURN credentials, only to a socket in a room.
func (svc *Service) iceServers(_ *signaling.Socket, p *peer, _ json.RawMessage) (map[string]any, *Error) {
	if svc.ice == nil {
		return nil, errorf(CodeUnavailable, "no STUN/TURN configured")
	}
	svc.mu.RLock()
	in := len(p.rooms) > 0
	svc.mu.RUnlock()
	if !in {
		return nil, errorf(CodeNotInRoom, "join a room first")
	}
	return map[string]any{"iceServers": svc.iceFor(p)}, nil
}
