package call

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/noomrtc/noom/signaling"
)

// MeetingCodeLen is the length of a meeting code: 26 characters of
// lowercase base32 (a–z, 2–7), 130 random bits. The web app's "New meeting"
// makes one.
const MeetingCodeLen = 26

// IsMeetingCode tells whether a room name has the form of a meeting code.
// Such rooms are never listed, whoever creates them.
func IsMeetingCode(name string) bool {
	if len(name) != MeetingCodeLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// RoomSize is a listed room and how many are in it.
type RoomSize struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// roomList is a built room list: immutable once stored.
type roomList struct {
	v     int64           // version: +1 per change pushed
	rooms []RoomSize      // the largest listed rooms, by size then name
	total int             // listed rooms in all
	json  json.RawMessage // rooms, encoded
}

func emptyList() *roomList {
	return &roomList{rooms: []RoomSize{}, json: json.RawMessage(`[]`)}
}

// Rooms returns the largest listed rooms (at most Config.RoomListSize),
// largest first, as last built: at most Config.RoomsPushInterval old.
func (svc *Service) Rooms() []RoomSize {
	return slices.Clone(svc.list.Load().rooms)
}

// changed asks the pusher to rebuild the list.
func (svc *Service) changed() {
	select {
	case svc.dirty <- struct{}{}:
	default:
	}
}

// clientSweepInterval is how often idle per-IP state is forgotten.
const clientSweepInterval = 30 * time.Second

// run rebuilds the room list when a listed room changed, at most once per
// RoomsPushInterval, and pushes what changed to the subscribers; it also
// forgets idle client IPs.
func (svc *Service) run() {
	defer close(svc.done)
	sweep := time.NewTicker(clientSweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-svc.stop:
			return
		case <-sweep.C:
			svc.sweepClients(time.Now())
			continue
		case <-svc.dirty:
		}
		svc.rebuild()
		t := time.NewTimer(svc.cfg.RoomsPushInterval)
		select {
		case <-svc.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (svc *Service) sweepClients(now time.Time) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	for ip, c := range svc.clients {
		if c.idle(now) {
			delete(svc.clients, ip)
		}
	}
}

// listDiff is a "rooms" push: how the list of version v differs from the
// list of version v-1.
type listDiff struct {
	V     int64      `json:"v"`
	Total int        `json:"total"`
	Set   []RoomSize `json:"set"` // rooms new to the list or of a new size
	Del   []string   `json:"del"` // rooms gone from the list
}

// larger orders the list: larger rooms first, then by name.
func larger(a, b RoomSize) bool {
	if a.Size != b.Size {
		return a.Size > b.Size
	}
	return a.Name < b.Name
}

// rebuild asks the registry for the list, stores it and pushes the
// difference to this node's subscribers (each node pushes to its own).
func (svc *Service) rebuild() {
	ctx, cancel := regCtx()
	l, err := svc.reg.List(ctx, svc.cfg.RoomListSize)
	cancel()
	if err != nil {
		svc.cfg.Logger.Warn("call: the room registry did not list the rooms", "err", err)
		return
	}
	top, total := l.Rooms, l.Total
	if top == nil {
		top = []RoomSize{}
	}
	old := svc.list.Load()
	d := listDiff{V: old.v + 1, Total: total, Set: []RoomSize{}, Del: []string{}}
	before := make(map[string]int, len(old.rooms))
	for _, r := range old.rooms {
		before[r.Name] = r.Size
	}
	for _, r := range top {
		if size, ok := before[r.Name]; !ok || size != r.Size {
			d.Set = append(d.Set, r)
		}
		delete(before, r.Name)
	}
	for name := range before {
		d.Del = append(d.Del, name)
	}
	if len(d.Set) == 0 && len(d.Del) == 0 && d.Total == old.total {
		return
	}
	slices.Sort(d.Del)
	enc, _ := json.Marshal(top)
	svc.list.Store(&roomList{v: d.V, rooms: top, total: d.Total, json: enc})
	push, _ := json.Marshal(d)
	svc.nsp.To(subscribersRoom).Local().Emit("rooms", json.RawMessage(push))
	svc.metrics.listPushes.Inc()
	svc.metrics.listBytes.Add(float64(len(push)))
}

func listAck(l *roomList) map[string]any {
	return map[string]any{"rooms": l.json, "total": l.total, "v": l.v}
}

func (svc *Service) roomsList(*signaling.Socket, *peer, json.RawMessage) (map[string]any, *Error) {
	if svc.cfg.HideRoomList {
		return nil, errorf(CodeUnavailable, "the room list is turned off on this server")
	}
	return listAck(svc.list.Load()), nil
}

// subscribe sends the socket the room-list pushes from now on. The ack
// carries the list; a push of version ack.v+1 is the next change.
func (svc *Service) subscribe(s *signaling.Socket, p *peer, _ json.RawMessage) (map[string]any, *Error) {
	if svc.cfg.HideRoomList {
		return nil, errorf(CodeUnavailable, "the room list is turned off on this server")
	}
	// Join first, then read the list: a change stored after the read is
	// pushed to us, one stored before it is in the ack.
	if err := s.Join(subscribersRoom); err != nil {
		return nil, errorf(CodeUnavailable, err.Error())
	}
	svc.mu.Lock()
	if !p.subscribed && !p.gone {
		p.subscribed = true
		svc.metrics.subscribers.Inc()
	}
	svc.mu.Unlock()
	return listAck(svc.list.Load()), nil
}

func (svc *Service) unsubscribe(s *signaling.Socket, p *peer, _ json.RawMessage) (map[string]any, *Error) {
	s.Leave(subscribersRoom)
	svc.mu.Lock()
	if p.subscribed {
		p.subscribed = false
		svc.metrics.subscribers.Dec()
	}
	svc.mu.Unlock()
	return nil, nil
}
