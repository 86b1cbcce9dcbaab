package call

import (
	"context"
	"encoding/json"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

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

	joinMu sync.Mutex // makes a room's size check and join one step

	mu sync.Mutex
	// mu guards the following fields.
	stats map[string]Stats // latest call-stats by "sid/peer"

	dirty chan struct{} // one slot: the room list may have changed
	stop  chan struct{}
	done  chan struct{}
}

// peer is a socket's call state, kept in its Data.
type peer struct {
	mu    sync.Mutex
	name  string
	rooms []string
	bucket
}

func peerOf(s *signaling.Socket) *peer {
	p, _ := s.Data().(*peer)
	return p
}

func (p *peer) in(room string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.rooms, room)
}

// New serves the call protocol on nsp. ice may be nil: joins then carry no
// ICE servers beyond none, and "ice-servers" answers unavailable.
func New(cfg Config, nsp *signaling.Namespace, ice ICEProvider, reg prometheus.Registerer) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	svc := &Service{
		cfg:   cfg,
		nsp:   nsp,
		ice:   ice,
		stats: make(map[string]Stats),
		dirty: make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	m, err := newMetrics(reg, svc)
	if err != nil {
		return nil, err
	}
	svc.metrics = m
	nsp.OnConnection(svc.onConnection)
	go svc.pushRooms()
	return svc, nil
}

// Close stops the rooms pusher.
func (svc *Service) Close() error {
	select {
	case <-svc.stop:
	default:
		close(svc.stop)
	}
	<-svc.done
	return nil
}

type handler func(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error)

func (svc *Service) onConnection(s *signaling.Socket) {
	p := &peer{}
	p.bucket.init(svc.cfg.EventsPerSecond, svc.cfg.Burst)
	s.SetData(p)
	on := func(event string, h handler) {
		s.On(event, func(args []any, ack signaling.Ack) {
			res, e := svc.serve(s, p, event, args, h)
			if e != nil {
				svc.metrics.errors.WithLabelValues(e.Code).Inc()
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
	on("rooms", svc.rooms)
	on("ice-servers", svc.iceServers)
	on("call-stats", svc.callStats)
	s.OnDisconnecting(func(string) {
		p.mu.Lock()
		rooms := p.rooms
		p.rooms = nil
		p.mu.Unlock()
		for _, r := range rooms {
			s.To(r).Emit("peer-left", map[string]any{"id": s.ID()})
		}
		if len(rooms) > 0 {
			svc.changed()
		}
		svc.mu.Lock()
		for k := range svc.stats {
			if strings.HasPrefix(k, s.ID()+"/") {
				delete(svc.stats, k)
			}
		}
		svc.mu.Unlock()
	})
}

func (svc *Service) serve(s *signaling.Socket, p *peer, event string, args []any, h handler) (map[string]any, *Error) {
	if !p.allow(time.Now()) {
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

// validText checks a name: 1 to max printable characters, no surrounding
// spaces.
func validText(s string, max int) bool {
	n := utf8.RuneCountInString(s)
	if n < 1 || n > max || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

type member struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (svc *Service) members(room string) []member {
	socks, _ := svc.nsp.In(room).Local().FetchSockets(context.Background())
	out := make([]member, 0, len(socks))
	for _, rs := range socks {
		if p, ok := rs.Data.(*peer); ok {
			p.mu.Lock()
			name := p.name
			p.mu.Unlock()
			out = append(out, member{ID: rs.ID, Name: name})
		}
	}
	slices.SortFunc(out, func(a, b member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (svc *Service) join(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var req struct{ Room, Name string }
	if e := decode(raw, &req); e != nil {
		return nil, e
	}
	if !validText(req.Room, MaxRoomNameLen) {
		return nil, errorf(CodeBadRequest, "room: 1 to 64 printable characters")
	}
	if !validText(req.Name, MaxNameLen) {
		return nil, errorf(CodeBadRequest, "name: 1 to 32 printable characters")
	}
	if svc.nsp.Socket(req.Room) != nil {
		return nil, errorf(CodeBadRequest, "room: that name is taken")
	}
	svc.joinMu.Lock()
	already := p.in(req.Room)
	p.mu.Lock()
	count := len(p.rooms)
	p.name = req.Name
	p.mu.Unlock()
	if !already {
		if count >= svc.cfg.MaxRoomsPerSocket {
			svc.joinMu.Unlock()
			return nil, errorf(CodeTooManyRooms, "in too many rooms: leave one first")
		}
		if len(svc.members(req.Room)) >= svc.cfg.MaxRoomSize {
			svc.joinMu.Unlock()
			svc.metrics.joins.WithLabelValues("room_full").Inc()
			return nil, errorf(CodeRoomFull, "the room is full")
		}
		if err := s.Join(req.Room); err != nil {
			svc.joinMu.Unlock()
			return nil, errorf(CodeTooManyRooms, err.Error())
		}
		p.mu.Lock()
		p.rooms = append(p.rooms, req.Room)
		p.mu.Unlock()
	}
	peers := slices.DeleteFunc(svc.members(req.Room), func(m member) bool { return m.ID == s.ID() })
	svc.joinMu.Unlock()
	if !already {
		s.To(req.Room).Emit("peer-joined", member{ID: s.ID(), Name: req.Name})
		svc.metrics.joins.WithLabelValues("ok").Inc()
		svc.changed()
	}
	return map[string]any{
		"id": s.ID(), "room": req.Room, "peers": peers,
		"iceServers": svc.iceFor(s),
	}, nil
}

func (svc *Service) leave(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var req struct{ Room string }
	if e := decode(raw, &req); e != nil {
		return nil, e
	}
	p.mu.Lock()
	i := slices.Index(p.rooms, req.Room)
	if i >= 0 {
		p.rooms = slices.Delete(p.rooms, i, i+1)
	}
	p.mu.Unlock()
	if i < 0 {
		return nil, errorf(CodeNotInRoom, "not in that room")
	}
	s.Leave(req.Room)
	s.To(req.Room).Emit("peer-left", map[string]any{"id": s.ID()})
	svc.changed()
	return nil, nil
}

var signalTypes = []string{"offer", "answer", "candidate"}

func (svc *Service) signal(s *signaling.Socket, p *peer, raw json.RawMessage) (map[string]any, *Error) {
	var req struct {
		To   string          `json:"to"`
		Data json.RawMessage `json:"data"`
	}
	if e := decode(raw, &req); e != nil {
		return nil, e
	}
	if len(req.Data) > MaxSignalBytes {
		return nil, errorf(CodeBadRequest, "data: at most 64 KB")
	}
	var kind struct{ Type string }
	if req.To == "" || len(req.Data) == 0 || req.Data[0] != '{' || json.Unmarshal(req.Data, &kind) != nil ||
		!slices.Contains(signalTypes, kind.Type) {
		return nil, errorf(CodeBadRequest, "signal takes {to, data} with data.type offer, answer or candidate")
	}
	if !svc.shareRoom(p, req.To) {
		return nil, errorf(CodeNotInRoom, "no room shared with that peer")
	}
	if err := svc.nsp.To(req.To).Emit("signal", map[string]any{"from": s.ID(), "data": req.Data}); err != nil {
		return nil, errorf(CodeBadRequest, err.Error())
	}
	svc.metrics.signals.WithLabelValues(kind.Type).Inc()
	return nil, nil
}

func (svc *Service) shareRoom(p *peer, to string) bool {
	t := svc.nsp.Socket(to)
	if t == nil {
		return false
	}
	tp := peerOf(t)
	if tp == nil {
		return false
	}
	p.mu.Lock()
	mine := slices.Clone(p.rooms)
	p.mu.Unlock()
	for _, r := range mine {
		if tp.in(r) {
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
	n := utf8.RuneCountInString(req.Text)
	if n < 1 || n > MaxChatLen || !utf8.ValidString(req.Text) {
		return nil, errorf(CodeBadRequest, "text: 1 to 2000 characters")
	}
	if !p.in(req.Room) {
		return nil, errorf(CodeNotInRoom, "not in that room")
	}
	p.mu.Lock()
	name := p.name
	p.mu.Unlock()
	ts := time.Now().UnixMilli()
	s.To(req.Room).Emit("chat", map[string]any{"from": s.ID(), "name": name, "text": req.Text, "ts": ts})
	svc.metrics.chats.Inc()
	return map[string]any{"ts": ts}, nil
}

// RoomSize is a public room and how many are in it.
type RoomSize struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// Rooms lists the public rooms of the namespace, sorted by name.
func (svc *Service) Rooms() []RoomSize {
	out := []RoomSize{}
	q := signaling.RoomQuery{Limit: signaling.MaxPageSize}
	for {
		page := svc.nsp.ListRooms(q)
		for _, r := range page.Items {
			out = append(out, RoomSize{Name: r.Name, Size: r.Size})
		}
		if page.Next == "" {
			return out
		}
		q.Cursor = page.Next
	}
}

func (svc *Service) rooms(*signaling.Socket, *peer, json.RawMessage) (map[string]any, *Error) {
	return map[string]any{"rooms": svc.Rooms()}, nil
}

func (svc *Service) iceFor(s *signaling.Socket) []ICEServer {
	if svc.ice == nil {
		return []ICEServer{}
	}
	host := s.Handshake().Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return svc.ice.ICEServers(host, s.ID())
}

func (svc *Service) iceServers(s *signaling.Socket, _ *peer, _ json.RawMessage) (map[string]any, *Error) {
	if svc.ice == nil {
		return nil, errorf(CodeUnavailable, "no STUN/TURN configured")
	}
	return map[string]any{"iceServers": svc.iceFor(s)}, nil
}

// changed asks the pusher for a "rooms" push.
func (svc *Service) changed() {
	select {
	case svc.dirty <- struct{}{}:
	default:
	}
}

// pushRooms sends the room list to every socket when it changes, at most
// once per RoomsPushInterval.
func (svc *Service) pushRooms() {
	defer close(svc.done)
	var last []RoomSize
	for {
		select {
		case <-svc.stop:
			return
		case <-svc.dirty:
		}
		rooms := svc.Rooms()
		if !slices.Equal(rooms, last) {
			svc.nsp.Emit("rooms", map[string]any{"rooms": rooms})
			last = rooms
		}
		t := time.NewTimer(svc.cfg.RoomsPushInterval)
		select {
		case <-svc.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}
