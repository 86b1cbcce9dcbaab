package call

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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

func newRoom(name string, listed bool, passcode string) *room {
	r := &room{name: name, listed: listed, members: make(map[string]string)}
	if passcode != "" {
		r.salt = make([]byte, 16)
		rand.Read(r.salt) // never fails (crypto/rand since Go 1.24)
		r.hash = passcodeHash(r.salt, passcode)
	}
	return r
}

// passcodeHash is HMAC-SHA256 keyed by the room's random salt: a room
// lives in memory only while people are in it, so a slow hash buys little;
// the per-IP failure limit is what stops guessing.
func passcodeHash(salt []byte, passcode string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(passcode))
	return m.Sum(nil)
}

func (r *room) passcodeOK(passcode string) bool {
	return r.hash == nil || hmac.Equal(r.hash, passcodeHash(r.salt, passcode))
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

// rebuild builds the list (one pass over the rooms, keeping the
// RoomListSize largest), stores it and pushes the difference.
func (svc *Service) rebuild() {
	n := svc.cfg.RoomListSize
	top := make([]RoomSize, 0, n+1)
	total := 0
	svc.mu.RLock()
	for _, r := range svc.rooms {
		if !r.listed {
			continue
		}
		total++
		rs := RoomSize{Name: r.name, Size: len(r.members)}
		if len(top) == n && !larger(rs, top[n-1]) {
			continue // the common case: one integer comparison
		}
		i, _ := slices.BinarySearchFunc(top, rs, func(a, b RoomSize) int {
			if larger(a, b) {
				return -1
			}
			return 1
		})
		top = slices.Insert(top, i, rs)
		if len(top) > n {
			top = top[:n]
		}
	}
	svc.mu.RUnlock()
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
	svc.nsp.To(subscribersRoom).Emit("rooms", json.RawMessage(push))
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
