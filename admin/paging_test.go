package admin

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/noomrtc/noom/admin/source"
)

// world is 10,000 sockets in 1,000 rooms, as the bridge lists them.
func world() ([]source.Socket, []source.Room) {
	socks := make([]source.Socket, 10_000)
	rooms := make([]source.Room, 0, 11_000)
	for i := range socks {
		sid := fmt.Sprintf("sid%05d", (i*7919)%10_000)
		socks[i] = source.Socket{Namespace: "/", SID: sid, Address: fmt.Sprintf("10.0.%d.%d:5000", i/256%256, i%256),
			Rooms: []string{fmt.Sprintf("room%04d", i%1000)}, ConnectedAt: time.Unix(int64(i), 0)}
		rooms = append(rooms, source.Room{Name: sid, Size: 1, Private: true})
	}
	for r := range 1000 {
		rooms = append(rooms, source.Room{Name: fmt.Sprintf("room%04d", r), Size: 10 + r%7})
	}
	return socks, rooms
}

func query(t testing.TB, q string) listQuery {
	v, _ := url.ParseQuery(q)
	l, err := parseListQuery(v)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Walking every page with the cursor visits every item once, in order.
func TestPagingWalk10k(t *testing.T) {
	socks, rooms := world()
	seen := map[string]bool{}
	cur, last := "", ""
	for {
		p := pageSockets(append([]source.Socket(nil), socks...), query(t, "limit=500&cursor="+cur))
		if p.Total != 10_000 {
			t.Fatalf("total %d", p.Total)
		}
		for _, s := range p.Items {
			if seen[s.SID] || s.SID <= last {
				t.Fatalf("%s repeated or out of order", s.SID)
			}
			seen[s.SID], last = true, s.SID
		}
		if cur = p.Next; cur == "" {
			break
		}
	}
	if len(seen) != 10_000 {
		t.Fatalf("visited %d", len(seen))
	}

	// Rooms by size, largest first, names ascending within a size.
	seenRooms, n := map[string]bool{}, 0
	cur = ""
	prev := source.Room{Size: 1 << 30}
	for {
		p := pageRooms(append([]source.Room(nil), rooms...), query(t, "sort=size&limit=37&cursor="+cur))
		if p.Total != 1000 {
			t.Fatalf("public rooms %d", p.Total)
		}
		for _, r := range p.Items {
			if seenRooms[r.Name] || r.Size > prev.Size || (r.Size == prev.Size && r.Name <= prev.Name) {
				t.Fatalf("%+v after %+v", r, prev)
			}
			seenRooms[r.Name], prev = true, r
			n++
		}
		if cur = p.Next; cur == "" {
			break
		}
	}
	if n != 1000 {
		t.Fatalf("visited %d rooms", n)
	}
}

func TestPagingFilters(t *testing.T) {
	socks, rooms := world()
	if p := pageSockets(socks, query(t, "room=room0042")); p.Total != 10 {
		t.Errorf("room filter: %d", p.Total)
	}
	socks, _ = world()
	if p := pageSockets(socks, query(t, "q=SID0001")); p.Total != 10 { // sid00010..sid00019
		t.Errorf("sid prefix: %d", p.Total)
	}
	socks, _ = world()
	if p := pageSockets(socks, query(t, "q=10.0.3.")); p.Total == 0 {
		t.Errorf("address prefix: %d", p.Total)
	}
	if p := pageRooms(append([]source.Room(nil), rooms...), query(t, "private=1")); p.Total != 11_000 {
		t.Errorf("with private rooms: %d", p.Total)
	}
	if p := pageRooms(append([]source.Room(nil), rooms...), query(t, "q=ROOM09")); p.Total != 100 {
		t.Errorf("name search: %d", p.Total)
	}
	for _, bad := range []string{"limit=0", "limit=501", "sort=age", "cursor=%21", "limit=x"} {
		v, _ := url.ParseQuery(bad)
		if _, err := parseListQuery(v); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func BenchmarkListSockets10k(b *testing.B) {
	socks, _ := world()
	l := query(b, "limit=50")
	buf := make([]source.Socket, len(socks))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, socks)
		pageSockets(buf, l)
	}
}

func BenchmarkListRooms10k(b *testing.B) {
	_, rooms := world()
	l := query(b, "limit=50&sort=size")
	buf := make([]source.Room, len(rooms))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, rooms)
		pageRooms(buf, l)
	}
}
