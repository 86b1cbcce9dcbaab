package admin

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/noomrtc/noom/admin/source"
)

// Page sizes of the lists.
const (
	defaultLimit = 50
	maxLimit     = 500
	maxCursorLen = 512 // bytes of an encoded cursor
)

var errBadCursor = errors.New("bad cursor")

// listQuery is a list request: GET rooms or sockets.
type listQuery struct {
	nsp     string
	q       string
	room    string
	sort    string // rooms: "name" (default) or "size"
	private bool   // rooms: include sockets' own rooms
	limit   int
	cursor  cursor
	raw     string // the cursor as given
}

// parseListQuery reads nsp, q, room, sort, private, limit and cursor.
func parseListQuery(v url.Values) (listQuery, error) {
	l := listQuery{nsp: queryNamespace(v.Get("nsp")), q: v.Get("q"), room: v.Get("room"), sort: v.Get("sort"),
		private: v.Get("private") == "1" || v.Get("private") == "true", limit: defaultLimit, raw: v.Get("cursor")}
	if l.sort != "" && l.sort != "name" && l.sort != "size" {
		return l, errors.New("sort must be name or size")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return l, errors.New("limit must be 1 to " + strconv.Itoa(maxLimit))
		}
		l.limit = n
	}
	if len(l.q) > 256 || len(l.room) > 256 {
		return l, errors.New("search text too long")
	}
	c, err := decodeCursor(l.raw)
	if err != nil {
		return l, err
	}
	l.cursor = c
	return l, nil
}

// queryNamespace takes a namespace as a query gives it: "/chat", "chat",
// or "_" / "" for the main namespace.
func queryNamespace(s string) string {
	if s == "" || s == "_" || s == "/" {
		return source.MainNamespace
	}
	if !strings.HasPrefix(s, "/") {
		return "/" + s
	}
	return s
}

// pathNamespace takes a namespace as a path segment gives it: "_" is "/",
// anything else is given its leading slash.
func pathNamespace(seg string) string {
	if seg == "_" {
		return source.MainNamespace
	}
	return "/" + seg
}

// cursor is where the previous page ended: the last item's sort key.
type cursor struct {
	key  string
	size int // rooms sorted by size
	set  bool
}

// encodeCursor makes the opaque text of a cursor.
func encodeCursor(key string, size int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(size) + ":" + key))
}

// decodeCursor parses what encodeCursor made; "" is no cursor.
func decodeCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	if len(s) > maxCursorLen {
		return cursor{}, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, errBadCursor
	}
	n, key, ok := strings.Cut(string(b), ":")
	if !ok {
		return cursor{}, errBadCursor
	}
	size, err := strconv.Atoi(n)
	if err != nil || size < 0 || strconv.Itoa(size) != n {
		return cursor{}, errBadCursor
	}
	return cursor{key: key, size: size, set: true}, nil
}

// list is the JSON of every list answer.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
	Total int    `json:"total"`
}

// listRooms answers a rooms list: one page from the hub when it can page
// (no search text, public rooms only), else the whole list filtered and
// cut here. A cursor belongs to the path that made it, and a query always
// takes the same path.
func (c *Console) listRooms(l listQuery) (list[source.Room], bool) {
	if p, ok := c.cfg.Hub.(source.Pager); ok && l.q == "" && !l.private {
		pg, ok := p.RoomPage(l.nsp, l.sort == "size", l.cursor.key, l.limit)
		return fromPage(pg), ok
	}
	rooms, ok := c.cfg.Hub.Rooms(l.nsp)
	if !ok {
		return list[source.Room]{Items: []source.Room{}}, false
	}
	return pageRooms(rooms, l), true
}

// listSockets answers a sockets list: one page from the hub when it can
// page (a search, too: the hub filters light views), else the whole list
// filtered and cut here.
func (c *Console) listSockets(l listQuery) (list[source.Socket], bool) {
	if p, ok := c.cfg.Hub.(source.Pager); ok {
		pg, ok := p.SocketPage(l.nsp, l.room, l.cursor.key, l.limit)
		if l.q != "" {
			pg, ok = p.SearchSockets(l.nsp, l.q, l.room, l.cursor.key, l.limit)
		}
		return fromPage(pg), ok
	}
	socks, ok := c.cfg.Hub.Sockets(l.nsp)
	if !ok {
		return list[source.Socket]{Items: []source.Socket{}}, false
	}
	return pageSockets(socks, l), true
}

// fromPage wraps a hub's page and its cursor.
func fromPage[T any](p source.Page[T]) list[T] {
	out := list[T]{Items: p.Items, Total: p.Total}
	if out.Items == nil {
		out.Items = []T{}
	}
	if p.Next != "" {
		out.Next = encodeCursor(p.Next, 0)
	}
	return out
}

// pageRooms filters, sorts and cuts one page of rooms.
func pageRooms(rooms []source.Room, l listQuery) list[source.Room] {
	q := strings.ToLower(l.q)
	rooms = slices.DeleteFunc(rooms, func(r source.Room) bool {
		return (r.Private && !l.private) || (q != "" && !strings.Contains(strings.ToLower(r.Name), q))
	})
	bySize := l.sort == "size"
	if bySize {
		slices.SortFunc(rooms, func(a, b source.Room) int {
			if a.Size != b.Size {
				return b.Size - a.Size
			}
			return strings.Compare(a.Name, b.Name)
		})
	} else {
		slices.SortFunc(rooms, func(a, b source.Room) int { return strings.Compare(a.Name, b.Name) })
	}
	start := 0
	if l.cursor.set {
		start, _ = slices.BinarySearchFunc(rooms, l.cursor, func(r source.Room, c cursor) int {
			if bySize && r.Size != c.size {
				return c.size - r.Size
			}
			return strings.Compare(r.Name, c.key)
		})
		if start < len(rooms) && rooms[start].Name == l.cursor.key && (!bySize || rooms[start].Size == l.cursor.size) {
			start++
		}
	}
	end := min(start+l.limit, len(rooms))
	out := list[source.Room]{Items: slices.Clone(rooms[start:end]), Total: len(rooms)}
	if end < len(rooms) {
		last := rooms[end-1]
		out.Next = encodeCursor(last.Name, last.Size)
	}
	if out.Items == nil {
		out.Items = []source.Room{}
	}
	return out
}

// pageSockets filters sockets (sid prefix, address prefix or name
// containing q; member of room) and returns the page after the cursor in
// id order. It keeps only the page's smallest ids while scanning, so a
// page of 50 out of 10,000 costs one pass, not a sort of everything.
func pageSockets(socks []source.Socket, l listQuery) list[source.Socket] {
	q := strings.ToLower(l.q)
	total, after := 0, 0
	best := make([]int32, 0, l.limit+1) // indices, sorted by SID
	less := func(a, b int32) int { return strings.Compare(socks[a].SID, socks[b].SID) }
	for i := range socks {
		s := &socks[i]
		if l.room != "" && !slices.Contains(s.Rooms, l.room) {
			continue
		}
		if q != "" && !strings.HasPrefix(strings.ToLower(s.SID), q) && !strings.HasPrefix(s.Address, l.q) &&
			!strings.Contains(strings.ToLower(s.Name), q) {
			continue
		}
		total++
		if l.cursor.set && s.SID <= l.cursor.key {
			continue
		}
		after++
		if len(best) == l.limit && s.SID >= socks[best[len(best)-1]].SID {
			continue
		}
		at, _ := slices.BinarySearchFunc(best, int32(i), less)
		best = slices.Insert(best, at, int32(i))
		if len(best) > l.limit {
			best = best[:l.limit]
		}
	}
	out := list[source.Socket]{Items: make([]source.Socket, len(best)), Total: total}
	for i, x := range best {
		out.Items[i] = socks[x]
	}
	if after > len(best) {
		out.Next = encodeCursor(out.Items[len(best)-1].SID, 0)
	}
	return out
}

// localReturn accepts a return path only when it stays in the console.
func localReturn(s, fallback string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/admin/") ||
		strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return fallback
	}
	return u.RequestURI()
}

// limitBody caps request bodies (forms and JSON).
func limitBody(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
}
