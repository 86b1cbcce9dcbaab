package signaling

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Cheap reads for consoles and dashboards: counts that take no lock on the
// hot path, and sorted, paginated listings that hold a namespace's read
// lock only for one page's worth of work (never a copy of every socket).

// NamespaceStats counts one namespace on this node.
type NamespaceStats struct {
	Name    string
	Sockets int
	Rooms   int // public rooms (sockets' own rooms excluded)
}

// Stats are this node's counts, for consoles (Socket.IO Admin UI's
// server_stats) and tests.
type Stats struct {
	Sessions   int // Engine.IO sessions open now
	Polling    int // ... of which on HTTP long-polling
	WebSocket  int // ... of which on WebSocket
	Namespaces []NamespaceStats
	// Counters since start: Socket.IO packets (a broadcast counts once per
	// recipient) and Engine.IO bytes, each way; sessions opened and closed.
	PacketsIn, PacketsOut uint64
	BytesIn, BytesOut     uint64
	SessionsOpened        uint64
	SessionsClosed        uint64
	SlowConsumers         uint64 // clients cut off as slow consumers
	QueuedBytes           int64  // queued to clients now and not yet written
	Started               time.Time
}

// Stats returns the node's counts: atomics and one short read lock per
// namespace, O(namespaces).
func (srv *Server) Stats() Stats {
	m, e := srv.metrics, srv.eng.Stats()
	st := Stats{
		Polling:        e.Polling,
		WebSocket:      e.WebSocket,
		PacketsIn:      m.count.packetsIn.Load(),
		PacketsOut:     m.count.packetsOut.Load(),
		BytesIn:        e.BytesIn,
		BytesOut:       e.BytesOut,
		SessionsOpened: e.SessionsOpened,
		SessionsClosed: e.SessionsClosed,
		SlowConsumers:  e.SlowConsumers,
		QueuedBytes:    e.QueuedBytes,
		Started:        srv.started,
	}
	st.Sessions = st.Polling + st.WebSocket
	for _, n := range srv.Namespaces() {
		n.mu.RLock()
		st.Namespaces = append(st.Namespaces, NamespaceStats{Name: n.name, Sockets: len(n.sockets), Rooms: len(n.rooms)})
		n.mu.RUnlock()
	}
	return st
}

// RoomSize is the number of this node's sockets in room (1 for a socket's
// own room), in O(1).
func (n *Namespace) RoomSize(room string) int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.sockets[room] != nil {
		return 1
	}
	return len(n.rooms[room])
}

// RoomCount is the number of public rooms of this node's namespace.
func (n *Namespace) RoomCount() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.rooms)
}

// Page is one page of a sorted listing.
type Page[T any] struct {
	Items []T
	// Next is the cursor of the next page; empty on the last page.
	Next string
	// Total counts the items matching the query, over all pages.
	Total int
}

// RoomSort orders a room listing.
type RoomSort uint8

// Room orders.
const (
	RoomsByName RoomSort = iota // name, ascending
	RoomsBySize                 // size, descending; then name, ascending
)

// Listing limits.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// RoomQuery selects a page of public rooms (sockets' own rooms are listed
// by ListSockets).
type RoomQuery struct {
	Prefix string   // only rooms whose name starts with it
	Sort   RoomSort // default RoomsByName
	Cursor string   // from the previous page's Next; "" for the first page
	Limit  int      // default DefaultPageSize, at most MaxPageSize
}

// RoomView is a room of a listing.
type RoomView struct {
	Name string
	Size int // sockets of this node in it
}

// SocketQuery selects a page of sockets, sorted by id (by address, then
// id, when Addr is set without Room).
type SocketQuery struct {
	Prefix string // only ids starting with it
	Room   string // only sockets in this room
	Addr   string // only sockets whose remote address starts with it
	Cursor string // from the previous page's Next; "" for the first page
	Limit  int    // default DefaultPageSize, at most MaxPageSize
}

// SocketView is a socket of a listing: plain values, cheap to make (no
// handshake headers; ask the Socket for those).
type SocketView struct {
	ID         string
	Namespace  string
	Session    string // the Engine.IO session id
	Transport  string // "websocket" or "polling", as of now
	RemoteAddr string
	Connected  time.Time
	Rooms      int // rooms it is in, its own included
}

func pageLimit(l int) int {
	switch {
	case l <= 0:
		return DefaultPageSize
	case l > MaxPageSize:
		return MaxPageSize
	}
	return l
}

// Cursors are opaque to callers: base64 of "n:name" (by name) or
// "s:size:name" (by size).

func nameCursor(name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n:" + name))
}

func sizeCursor(size int, name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("s:" + strconv.Itoa(size) + ":" + name))
}

// parseCursor decodes a cursor: by size (size >= 0) or by name (size < 0).
// A cursor that does not parse starts from the beginning.
func parseCursor(c string) (size int, name string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || c == "" {
		return -1, "", false
	}
	s := string(b)
	if rest, found := strings.CutPrefix(s, "n:"); found {
		return -1, rest, true
	}
	if rest, found := strings.CutPrefix(s, "s:"); found {
		if num, name, found := strings.Cut(rest, ":"); found {
			if v, err := strconv.Atoi(num); err == nil && v >= 0 {
				return v, name, true
			}
		}
	}
	return -1, "", false
}

// ListRooms returns a page of this node's public rooms. By name it costs
// O(log rooms + page); by size it scans the rooms under the read lock
// keeping only the page (O(rooms × log page), no copy).
func (n *Namespace) ListRooms(q RoomQuery) Page[RoomView] {
	limit := pageLimit(q.Limit)
	csize, cname, hasCursor := parseCursor(q.Cursor)
	var page Page[RoomView]
	n.mu.RLock()
	defer n.mu.RUnlock()
	if q.Sort == RoomsBySize {
		if !hasCursor || csize < 0 {
			hasCursor = false
		}
		// before: does room (size, name) sort before (s2, n2)?
		before := func(s1 int, n1 string, s2 int, n2 string) bool {
			return s1 > s2 || (s1 == s2 && n1 < n2)
		}
		top := make([]RoomView, 0, limit+1)
		for name, members := range n.rooms {
			if !strings.HasPrefix(name, q.Prefix) {
				continue
			}
			page.Total++
			size := len(members)
			if hasCursor && !before(csize, cname, size, name) {
				continue
			}
			if len(top) == limit+1 && !before(size, name, top[limit].Size, top[limit].Name) {
				continue
			}
			i := len(top)
			for i > 0 && before(size, name, top[i-1].Size, top[i-1].Name) {
				i--
			}
			if len(top) < limit+1 {
				top = append(top, RoomView{})
			}
			copy(top[i+1:], top[i:len(top)-1])
			top[i] = RoomView{Name: name, Size: size}
		}
		if len(top) > limit {
			top = top[:limit]
			last := top[limit-1]
			page.Next = sizeCursor(last.Size, last.Name)
		}
		page.Items = top
		return page
	}
	page.Total = n.roomNames.countPrefix(q.Prefix)
	from, after := q.Prefix, false
	if hasCursor && csize < 0 && cname >= from {
		from, after = cname, true
	}
	page.Items = make([]RoomView, 0, min(limit, page.Total))
	n.roomNames.ascend(from, after, func(name string) bool {
		if !strings.HasPrefix(name, q.Prefix) {
			return false
		}
		if len(page.Items) == limit {
			page.Next = nameCursor(page.Items[limit-1].Name)
			return false
		}
		page.Items = append(page.Items, RoomView{Name: name, Size: len(n.rooms[name])})
		return true
	})
	return page
}

// ListSockets returns a page of this node's sockets of the namespace,
// sorted by id, or, with Addr and no Room, by remote address then id. It
// costs O(log sockets + page) under the read lock, plus, with Room, a
// scan of that room's members, and with both Addr and Prefix, a scan of
// the matching addresses for the total. Views are made outside the lock.
func (n *Namespace) ListSockets(q SocketQuery) Page[SocketView] {
	limit := pageLimit(q.Limit)
	_, after, hasCursor := parseCursor(q.Cursor)
	var page Page[SocketView]
	byAddr := false
	socks := make([]*Socket, 0, limit+1)
	n.mu.RLock()
	switch {
	case q.Room != "":
		// Scan the room's members, keeping the page.
		members := n.rooms[q.Room]
		if s := n.sockets[q.Room]; s != nil {
			members = map[string]*Socket{s.id: s}
		}
		for _, s := range members {
			if !strings.HasPrefix(s.id, q.Prefix) || !strings.HasPrefix(s.client.hd.remoteAddr, q.Addr) {
				continue
			}
			page.Total++
			if (hasCursor && s.id <= after) || (len(socks) == limit+1 && s.id >= socks[limit].id) {
				continue
			}
			i := len(socks)
			for i > 0 && s.id < socks[i-1].id {
				i--
			}
			if len(socks) < limit+1 {
				socks = append(socks, nil)
			}
			copy(socks[i+1:], socks[i:len(socks)-1])
			socks[i] = s
		}
	case q.Addr != "":
		// The address index, in (address, id) order.
		byAddr = true
		from, afterFrom := q.Addr, false
		if hasCursor && after >= from {
			from, afterFrom = after, true
		}
		n.addrs.ascend(from, afterFrom, func(key string) bool {
			if !strings.HasPrefix(key, q.Addr) {
				return false
			}
			if id := key[strings.LastIndexByte(key, 0)+1:]; strings.HasPrefix(id, q.Prefix) {
				socks = append(socks, n.sockets[id])
			}
			return len(socks) <= limit
		})
		if q.Prefix == "" {
			page.Total = n.addrs.countPrefix(q.Addr)
		} else {
			n.addrs.ascend(q.Addr, false, func(key string) bool {
				if !strings.HasPrefix(key, q.Addr) {
					return false
				}
				if strings.HasPrefix(key[strings.LastIndexByte(key, 0)+1:], q.Prefix) {
					page.Total++
				}
				return true
			})
		}
	default:
		from, afterFrom := q.Prefix, false
		if hasCursor && after >= from {
			from, afterFrom = after, true
		}
		page.Total = n.sids.countPrefix(q.Prefix)
		n.sids.ascend(from, afterFrom, func(id string) bool {
			if !strings.HasPrefix(id, q.Prefix) {
				return false
			}
			socks = append(socks, n.sockets[id])
			return len(socks) <= limit
		})
	}
	rooms := make([]int, len(socks))
	for i, s := range socks {
		rooms[i] = 1 + len(s.rooms)
	}
	n.mu.RUnlock()
	if len(socks) > limit {
		socks = socks[:limit]
		if byAddr {
			page.Next = nameCursor(addrKey(socks[limit-1]))
		} else {
			page.Next = nameCursor(socks[limit-1].id)
		}
	}
	page.Items = make([]SocketView, len(socks))
	for i, s := range socks {
		page.Items[i] = s.view(rooms[i])
	}
	return page
}

// View describes the socket cheaply, for listings.
func (s *Socket) View() SocketView {
	n := s.nsp
	n.mu.RLock()
	rooms := 1 + len(s.rooms)
	n.mu.RUnlock()
	return s.view(rooms)
}

func (s *Socket) view(rooms int) SocketView {
	return SocketView{
		ID:         s.id,
		Namespace:  s.nsp.name,
		Session:    s.client.conn.ID(),
		Transport:  s.Transport(),
		RemoteAddr: s.client.hd.remoteAddr,
		Connected:  time.Unix(0, s.connectedAt),
		Rooms:      rooms,
	}
}

// addrKey is a socket's key in its namespace's address index.
func addrKey(s *Socket) string { return s.client.hd.remoteAddr + "\x00" + s.id }
