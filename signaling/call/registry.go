package call

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
)

// Registry keeps who is in which call room: the members' names, each
// room's passcode and listing, and the list of listed rooms. The Service
// keeps its own sockets' state and asks the registry only what concerns a
// whole room, so that a registry shared by several nodes (package
// callredis) makes rooms, --max-room-size and the room list cluster-wide.
// MemoryRegistry, the default, serves one node.
//
// Every method may be called from any goroutine, may wait (ctx bounds it),
// and must never wait long: a shared registry that cannot reach its store
// answers from what it knows locally rather than block the hub.
type Registry interface {
	// Join puts req.SID in req.Room, creating the room when nobody is in
	// it, or tells why not in JoinResult.Code. The checks and their order
	// are the protocol's (see JoinRequest). An error means the registry
	// could not answer: nothing changed.
	Join(ctx context.Context, req JoinRequest) (JoinResult, error)
	// Leave takes sid out of room; the room goes when it empties. Leaving
	// a room one is not in does nothing.
	Leave(ctx context.Context, room, sid string) error
	// Members lists room's members, sorted by id.
	Members(ctx context.Context, room string) ([]Member, error)
	// Shares tells whether sid is a member of one of rooms.
	Shares(ctx context.Context, rooms []string, sid string) (bool, error)
	// List returns the n largest listed rooms, largest first (then by
	// name), and how many rooms are listed.
	List(ctx context.Context, n int) (RoomList, error)
	// Watch is called once, by New, with what the registry calls when
	// something changed that the Service did not do itself (another
	// node's joins, a dead node's members removed). A registry that only
	// records the Service's own calls may ignore it.
	Watch(h Hooks)
}

// Hooks are the calls a shared Registry makes to its Service. Each runs on
// the registry's goroutine, must not block, and may be nil.
type Hooks struct {
	// ListChanged: listed rooms may have changed.
	ListChanged func()
	// Joined: m was put back in room by the registry (re-registered after
	// an outage of the shared store); the room is told peer-joined.
	Joined func(room string, m Member)
	// Left: sid was taken out of room by the registry (its node died, or
	// left while the store was out of reach); the room is told peer-left.
	Left func(room, sid string)
}

// JoinRequest is a join to decide. On an existing room the checks run in
// this order: the passcode (rate_limited when SpentPasscodes and the room
// has a passcode, then bad_passcode), the size (room_full), the name
// (name_taken: a member has Name, ignoring case), then the join limits
// (rate_limited when SpentJoins). A join that would create the room is
// refused (rate_limited) when SpentJoins or SpentCreates.
type JoinRequest struct {
	Room, SID, Name string
	Passcode        string // "" for none; sets the passcode of a room this join creates
	Listed          bool   // whether a room this join creates is listed
	Cap             int    // the most members the room may have
	// The Service's rate limits, spent: refuse as described above.
	SpentPasscodes, SpentJoins, SpentCreates bool
}

// JoinResult is a decided join.
type JoinResult struct {
	// Code is "" when the socket joined, else CodeBadPasscode,
	// CodeRoomFull, CodeNameTaken or CodeRateLimited.
	Code string
	// Created: this join created the room.
	Created bool
	// Peers are the other members, sorted by id (set when joined).
	Peers []Member
	// Passcode and Listed describe the room (Passcode also on a refusal
	// of an existing room).
	Passcode, Listed bool
}

// Member is a member of a call room.
type Member struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// RoomList is the head of the list of listed rooms.
type RoomList struct {
	Rooms []RoomSize // the largest listed rooms, largest first, then by name
	Total int        // listed rooms in all
}

// HashPasscode is a room passcode's hash: HMAC-SHA256 keyed by the room's
// random salt. A room lives only while people are in it, so a slow hash
// buys little; the per-IP failure limit is what stops guessing.
func HashPasscode(salt []byte, passcode string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(passcode))
	return m.Sum(nil)
}

// NewSalt returns a fresh random passcode salt.
func NewSalt() []byte {
	salt := make([]byte, 16)
	rand.Read(salt) // never fails (crypto/rand since Go 1.24)
	return salt
}

// RoomMeta is what a room is apart from its members.
type RoomMeta struct {
	Name       string
	Listed     bool
	Salt, Hash []byte // HashPasscode(Salt, passcode); nil without a passcode
}

// RoomState is a room and its members, as MemoryRegistry.Snapshot gives it.
type RoomState struct {
	RoomMeta
	Members []Member
}

// MemoryRegistry is the Registry of one node, in memory. A shared
// registry may also keep one as its node's copy (Put, Snapshot).
type MemoryRegistry struct {
	mu    sync.RWMutex
	rooms map[string]*memRoom // mu guards it and every room's members
}

type memRoom struct {
	RoomMeta
	members map[string]string // socket id → name
}

// NewMemoryRegistry returns an empty registry.
func NewMemoryRegistry() *MemoryRegistry {
	return &MemoryRegistry{rooms: make(map[string]*memRoom)}
}

var _ Registry = (*MemoryRegistry)(nil)

// Join implements Registry.
func (m *MemoryRegistry) Join(_ context.Context, req JoinRequest) (JoinResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rooms[req.Room]
	if r == nil {
		if req.SpentJoins || req.SpentCreates {
			return JoinResult{Code: CodeRateLimited}, nil
		}
		r = &memRoom{RoomMeta: RoomMeta{Name: req.Room, Listed: req.Listed}, members: make(map[string]string)}
		if req.Passcode != "" {
			r.Salt = NewSalt()
			r.Hash = HashPasscode(r.Salt, req.Passcode)
		}
		m.rooms[req.Room] = r
		r.members[req.SID] = req.Name
		return JoinResult{Created: true, Peers: []Member{}, Passcode: r.Hash != nil, Listed: r.Listed}, nil
	}
	res := JoinResult{Passcode: r.Hash != nil, Listed: r.Listed}
	if _, in := r.members[req.SID]; !in {
		res.Code = r.refusal(req)
	}
	if res.Code == "" {
		res.Peers = r.others(req.SID)
		r.members[req.SID] = req.Name
	}
	return res, nil
}

// refusal checks a join of an existing room, in the documented order.
func (r *memRoom) refusal(req JoinRequest) string {
	switch {
	case r.Hash != nil && req.SpentPasscodes:
		return CodeRateLimited
	case r.Hash != nil && !hmac.Equal(r.Hash, HashPasscode(r.Salt, req.Passcode)):
		return CodeBadPasscode
	case len(r.members) >= req.Cap:
		return CodeRoomFull
	}
	for _, n := range r.members {
		if strings.EqualFold(n, req.Name) {
			return CodeNameTaken
		}
	}
	if req.SpentJoins {
		return CodeRateLimited
	}
	return ""
}

// others lists r's members but id, sorted by id.
func (r *memRoom) others(id string) []Member {
	out := make([]Member, 0, len(r.members))
	for sid, name := range r.members {
		if sid != id {
			out = append(out, Member{ID: sid, Name: name})
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Leave implements Registry.
func (m *MemoryRegistry) Leave(_ context.Context, room, sid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.rooms[room]; r != nil {
		delete(r.members, sid)
		if len(r.members) == 0 {
			delete(m.rooms, room)
		}
	}
	return nil
}

// Members implements Registry.
func (m *MemoryRegistry) Members(_ context.Context, room string) ([]Member, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if r := m.rooms[room]; r != nil {
		return r.others(""), nil
	}
	return []Member{}, nil
}

// Shares implements Registry.
func (m *MemoryRegistry) Shares(_ context.Context, rooms []string, sid string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, name := range rooms {
		if r := m.rooms[name]; r != nil {
			if _, ok := r.members[sid]; ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// List implements Registry: one pass over the rooms, keeping the n
// largest listed ones.
func (m *MemoryRegistry) List(_ context.Context, n int) (RoomList, error) {
	top := make([]RoomSize, 0, n+1)
	total := 0
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, r := range m.rooms {
		if !r.Listed {
			continue
		}
		total++
		rs := RoomSize{Name: r.Name, Size: len(r.members)}
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
	return RoomList{Rooms: top, Total: total}, nil
}

// Watch implements Registry: a MemoryRegistry changes only when called.
func (m *MemoryRegistry) Watch(Hooks) {}

// Put adds mem to the room meta names without any check, creating the
// room with meta when it does not exist and otherwise taking meta's
// listing and passcode: a shared registry records here what its store
// decided.
func (m *MemoryRegistry) Put(meta RoomMeta, mem Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rooms[meta.Name]
	if r == nil {
		r = &memRoom{members: make(map[string]string)}
		m.rooms[meta.Name] = r
	}
	r.RoomMeta = meta
	r.members[mem.ID] = mem.Name
}

// Snapshot returns every room with its members, sorted by name.
func (m *MemoryRegistry) Snapshot() []RoomState {
	m.mu.RLock()
	out := make([]RoomState, 0, len(m.rooms))
	for _, r := range m.rooms {
		out = append(out, RoomState{RoomMeta: r.RoomMeta, Members: r.others("")})
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b RoomState) int { return strings.Compare(a.Name, b.Name) })
	return out
}
