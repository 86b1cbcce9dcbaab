package call

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
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
	reg     Registry // the rooms: members, passcodes, the room list
	metrics *metrics

	mu sync.RWMutex
	// mu guards the following fields, and the fields of every peer and
	// client that say so.
	peers        map[string]*peer   // connected sockets, by id
	clients      map[string]*client // per client IP
	local        map[string]int     // call rooms with people of this node: how many
	participants int                // sum of local

	list  atomic.Pointer[roomList] // the room list last built; read without locks
	dirty chan struct{}            // one slot: a listed room may have changed
	stop  chan struct{}
	done  chan struct{}
}

// joined is a room a peer is in, and what it needs of it without asking
// the registry. Immutable.
type joined struct {
	room             string
	name             string // the peer's name in this room
	passcode, listed bool
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
	rooms      []*joined
	joining    bool // a join is being decided: it holds one of the rooms
	gone       bool // disconnecting: joins must not add rooms any more
	subscribed bool // to the room list

	mu    sync.Mutex
	stats map[string]Stats // mu guards it: the latest report per peer id
}

// subscribersRoom is the hub room of the sockets subscribed to the room
// list. Its name has a control character, which no call room can have.
const subscribersRoom = "\x00call:rooms"

// registryTimeout bounds one call to the registry; a shared registry
// applies its own, shorter, bound.
const registryTimeout = 5 * time.Second

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
		reg:     cfg.Registry,
		peers:   make(map[string]*peer),
		clients: make(map[string]*client),
		local:   make(map[string]int),
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
	svc.reg.Watch(Hooks{ListChanged: svc.changed, Joined: svc.rejoined, Left: svc.removed})
	// The call protocol never sends binary: attachments would only pin memory.
	nsp.RefuseBinary()
	nsp.OnConnection(svc.onConnection)
	go svc.run()
	return svc, nil
}

// Close stops the room-list pusher. The registry is the caller's.
func (svc *Service) Close() error {
	select {
	case <-svc.stop:
	default:
		close(svc.stop)
	}
	<-svc.done
	return nil
}

// Present tells whether the socket with this id is connected to this node
// and in a call room: the TURN server relays only for such users.
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
	return counts{len(svc.local), svc.participants}
}

func regCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), registryTimeout)
}

// rejoined and removed are the registry's hooks: membership it changed by
// itself is told to the rest of the room, on every node.
func (svc *Service) rejoined(room string, m Member) {
	svc.nsp.To(room).Except(m.ID).Emit("peer-joined", m)
}

func (svc *Service) removed(room, sid string) {
	svc.nsp.To(room).Except(sid).Emit("peer-left", map[string]any{"id": sid})
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
	shared, err := svc.shareRoom(p, req.To)
	if err != nil {
		return nil, errorf(CodeUnavailable, "the room registry did not answer: try again")
	}
	if !shared {
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

// shareRoom tells whether p and the socket to share a call room: from
// this node's state when to is connected here, else from the registry.
func (svc *Service) shareRoom(p *peer, to string) (bool, error) {
	if to == p.id {
		return false, nil
	}
	svc.mu.RLock()
	var rooms []string
	q := svc.peers[to]
	if q == nil {
		rooms = make([]string, len(p.rooms))
		for i, j := range p.rooms {
			rooms[i] = j.room
		}
	}
	shared := q != nil && slices.ContainsFunc(q.rooms, func(j *joined) bool { return p.roomLocked(j.room) != nil })
	svc.mu.RUnlock()
	if q != nil || len(rooms) == 0 {
		return shared, nil
	}
	ctx, cancel := regCtx()
	defer cancel()
	return svc.reg.Shares(ctx, rooms, to)
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
	j := p.roomLocked(req.Room)
	svc.mu.RUnlock()
	if j == nil {
		return nil, errorf(CodeNotInRoom, "not in that room")
	}
	ts := time.Now().UnixMilli()
	s.To(req.Room).Emit("chat", map[string]any{"from": p.id, "name": j.name, "text": req.Text, "ts": ts})
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
