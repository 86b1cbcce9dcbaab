package signaling

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeSocket connects an in-process socket, with no network connection
// under it, to nsp: enough for rooms and listings at 10k sockets.
func fakeSocket(t testing.TB, nsp *Namespace, addr string) *Socket {
	t.Helper()
	c := &client{conn: detachedConn(t, nsp.srv, addr), srv: nsp.srv, hd: &handshakeData{remoteAddr: addr}}
	s := newSocket(nsp, c, nil)
	c.sockets = append(c.sockets, s)
	nsp.connect(s)
	return s
}

// bigNamespace is a namespace of n in-process sockets in n/8 rooms of 8
// ("room-0000", ...), with addresses 10.0.x.y.
func bigNamespace(t testing.TB, n int) (*Namespace, []*Socket) {
	t.Helper()
	srv, err := New(Config{Logger: quietLogger()}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	nsp := srv.Of("/")
	socks := make([]*Socket, n)
	for i := range socks {
		socks[i] = fakeSocket(t, nsp, fmt.Sprintf("10.0.%d.%d:4000", i/250, i%250))
		if err := socks[i].Join(fmt.Sprintf("room-%04d", i/8)); err != nil {
			t.Fatal(err)
		}
	}
	return nsp, socks
}

func TestSortedSet(t *testing.T) {
	var s sortedSet
	ref := map[string]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		k := fmt.Sprintf("k%05d", r.IntN(5000))
		if r.IntN(3) == 0 {
			if s.remove(k) != ref[k] {
				t.Fatalf("remove %s: disagrees", k)
			}
			delete(ref, k)
		} else {
			if s.insert(k) == ref[k] {
				t.Fatalf("insert %s: disagrees", k)
			}
			ref[k] = true
		}
	}
	want := make([]string, 0, len(ref))
	for k := range ref {
		want = append(want, k)
	}
	slices.Sort(want)
	var got []string
	s.ascend("", false, func(k string) bool { got = append(got, k); return true })
	if !slices.Equal(got, want) || s.len() != len(want) {
		t.Fatalf("ascend: %d elements, want %d", len(got), len(want))
	}
	for _, p := range []string{"", "k", "k01", "k049", "k0499", "x", "k\xff"} {
		n := 0
		for _, k := range want {
			if strings.HasPrefix(k, p) {
				n++
			}
		}
		if c := s.countPrefix(p); c != n {
			t.Errorf("countPrefix(%q) = %d, want %d", p, c, n)
		}
	}
	for _, k := range []string{"", "k02500", "k025005", "z"} {
		i, _ := slices.BinarySearch(want, k)
		if r := s.rank(k); r != i {
			t.Errorf("rank(%q) = %d, want %d", k, r, i)
		}
		var after []string
		s.ascend(k, true, func(x string) bool { after = append(after, x); return len(after) < 3 })
		j := i
		if j < len(want) && want[j] == k {
			j++
		}
		if !slices.Equal(after, want[j:min(j+3, len(want))]) {
			t.Errorf("ascend after %q = %v", k, after)
		}
	}
}

// TestListRooms walks every page of the rooms at 10k sockets, by name and
// by size, with and without a prefix, against what the rooms are.
func TestListRooms(t *testing.T) {
	nsp, socks := bigNamespace(t, 10000)
	// Make sizes differ: room-0001 gets 20 more, room-0002 10 more.
	for i := 0; i < 20; i++ {
		socks[100+i].Join("room-0001")
		if i < 10 {
			socks[200+i].Join("room-0002")
		}
	}
	size := func(r string) int {
		switch r {
		case "room-0001":
			return 28
		case "room-0002":
			return 18
		}
		return 8
	}
	var names []string
	for i := 0; i < 1250; i++ {
		names = append(names, fmt.Sprintf("room-%04d", i))
	}
	for _, tc := range []struct {
		q    RoomQuery
		want []string
	}{
		{RoomQuery{Limit: 100}, names},
		{RoomQuery{Limit: 7, Prefix: "room-01"}, names[100:200]},
		{RoomQuery{Limit: 1000, Prefix: "room-12"}, names[1200:1250]},
		{RoomQuery{Prefix: "none"}, nil},
		{RoomQuery{Limit: 33, Sort: RoomsBySize},
			append([]string{"room-0001", "room-0002"}, slices.DeleteFunc(slices.Clone(names), func(r string) bool { return r == "room-0001" || r == "room-0002" })...)},
		{RoomQuery{Limit: 9, Sort: RoomsBySize, Prefix: "room-000"},
			[]string{"room-0001", "room-0002", "room-0000", "room-0003", "room-0004", "room-0005", "room-0006", "room-0007", "room-0008", "room-0009"}},
	} {
		q := tc.q
		var got []string
		pages := 0
		for {
			p := nsp.ListRooms(q)
			pages++
			if p.Total != len(tc.want) {
				t.Errorf("%+v: Total %d, want %d", q, p.Total, len(tc.want))
			}
			if len(p.Items) > pageLimit(q.Limit) {
				t.Fatalf("%+v: page of %d", q, len(p.Items))
			}
			for _, r := range p.Items {
				if r.Size != size(r.Name) {
					t.Errorf("room %s: size %d", r.Name, r.Size)
				}
				got = append(got, r.Name)
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %d rooms in %d pages, want %d: %.5q...", tc.q, len(got), pages, len(tc.want), got)
		}
	}
	// A cursor that does not parse starts over.
	if p := nsp.ListRooms(RoomQuery{Cursor: "!!", Limit: 1}); len(p.Items) != 1 || p.Items[0].Name != "room-0000" {
		t.Errorf("bad cursor: %+v", p)
	}
}

// TestListSockets walks every page of the sockets at 10k sockets, plain
// and filtered by id prefix, room and address, against a brute-force scan.
func TestListSockets(t *testing.T) {
	nsp, socks := bigNamespace(t, 10000)
	for _, q := range []SocketQuery{
		{Limit: 500},
		{Limit: 3, Room: "room-0042"},
		{Limit: 7, Prefix: socks[5].ID()[:2]},
		{Limit: 50, Addr: "10.0.3."},
		{Limit: 50, Addr: "10.0.3.", Prefix: socks[800].ID()[:1]},
		{Limit: 4, Addr: "10.0.3.", Room: "room-0100"},
		{Limit: 2, Room: socks[9].ID()},
		{Room: "none"},
	} {
		var want []string
		for i, s := range socks {
			if strings.HasPrefix(s.ID(), q.Prefix) && strings.HasPrefix(s.client.hd.remoteAddr, q.Addr) &&
				(q.Room == "" || (q.Room == fmt.Sprintf("room-%04d", i/8)) || q.Room == s.ID()) {
				want = append(want, s.ID())
			}
		}
		if q.Addr != "" && q.Room == "" { // by address, then id
			slices.SortFunc(want, func(x, y string) int {
				return strings.Compare(nsp.Socket(x).client.hd.remoteAddr+"\x00"+x, nsp.Socket(y).client.hd.remoteAddr+"\x00"+y)
			})
		} else {
			slices.Sort(want)
		}
		var got []string
		first := q
		for {
			p := nsp.ListSockets(q)
			if p.Total != len(want) {
				t.Errorf("%+v: Total %d, want %d", q, p.Total, len(want))
			}
			for _, v := range p.Items {
				got = append(got, v.ID)
				s := nsp.Socket(v.ID)
				if v.Namespace != "/" || v.Transport != "polling" || v.RemoteAddr != s.client.hd.remoteAddr ||
					v.Session != s.client.conn.ID() || v.Rooms != 2 || v.Connected.IsZero() {
					t.Errorf("view %+v", v)
				}
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: %d sockets, want %d", first, len(got), len(want))
		}
	}
}

// TestListingsWhileJoining pages through rooms and sockets while sockets
// join, leave and disconnect: for -race, and to check that a page is
// always sorted and within its limit.
func TestListingsWhileJoining(t *testing.T) {
	nsp, socks := bigNamespace(t, 2000)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s := socks[i%len(socks)]
			r := fmt.Sprintf("x-%d", i%300)
			s.Join(r)
			if i%3 == 0 {
				s.Leave(r)
			}
			if i%500 == 0 {
				nsp.remove(s)
			}
		}
	}()
	for i := 0; i < 200; i++ {
		sort := RoomSort(i % 2)
		p := nsp.ListRooms(RoomQuery{Sort: sort, Limit: 20, Prefix: "x-"})
		if len(p.Items) > 20 {
			t.Fatal("page over its limit")
		}
		if sort == RoomsByName && !slices.IsSortedFunc(p.Items, func(a, b RoomView) int { return strings.Compare(a.Name, b.Name) }) {
			t.Fatalf("unsorted page %v", p.Items)
		}
		sp := nsp.ListSockets(SocketQuery{Limit: 30, Room: fmt.Sprintf("x-%d", i%300)})
		if !slices.IsSortedFunc(sp.Items, func(a, b SocketView) int { return strings.Compare(a.ID, b.ID) }) {
			t.Fatalf("unsorted sockets")
		}
	}
	close(stop)
	wg.Wait()
}

func TestStatsAndLookup(t *testing.T) {
	h := newHub(t, Config{})
	h.srv.Of("/chat").OnConnection(func(s *Socket) { s.Join("lobby") })
	c, _ := h.connect("/")
	c.send("40/chat,")
	c.expectPrefix(`40/chat,{"sid":"`)
	if h.srv.Lookup("/nope") != nil || h.srv.Lookup("nope") != nil {
		t.Error("Lookup found a namespace that does not exist")
	}
	for _, n := range h.srv.Namespaces() {
		if n.Name() == "/nope" {
			t.Error("Lookup created a namespace")
		}
	}
	if h.srv.Lookup("chat") != h.srv.Of("/chat") {
		t.Error("Lookup(chat) is not /chat")
	}
	waitFor(t, 5e9, func() bool { return h.srv.Lookup("/chat").RoomSize("lobby") == 1 }, func() string { return "not in lobby" })
	c.send(`42["hi"]`)
	c.send("2")
	c.expect("3")
	st := h.srv.Stats()
	want := []NamespaceStats{{Name: "/", Sockets: 1}, {Name: "/chat", Sockets: 1, Rooms: 1}}
	if st.Sessions != 1 || st.WebSocket != 1 || st.Polling != 0 || !slices.Equal(st.Namespaces, want) ||
		st.PacketsIn != 1 || st.BytesIn == 0 || st.BytesOut == 0 || st.SessionsOpened != 1 || st.Started.IsZero() {
		t.Errorf("Stats = %+v", st)
	}
}

// Benchmarks at 10k sockets in 1,250 rooms of 8 (a busy node), one page
// of 50 each.

func benchNamespace(b *testing.B) (*Namespace, []*Socket) {
	nsp, socks := bigNamespace(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	return nsp, socks
}

func BenchmarkListRooms(b *testing.B) {
	for _, q := range []struct {
		name string
		q    RoomQuery
	}{
		{"byName", RoomQuery{}},
		{"byName/cursor", RoomQuery{Cursor: nameCursor("room-0600")}},
		{"byName/prefix", RoomQuery{Prefix: "room-06"}},
		{"bySize", RoomQuery{Sort: RoomsBySize}},
		{"bySize/cursor", RoomQuery{Sort: RoomsBySize, Cursor: sizeCursor(8, "room-0600")}},
	} {
		b.Run(q.name, func(b *testing.B) {
			nsp, _ := benchNamespace(b)
			for b.Loop() {
				if p := nsp.ListRooms(q.q); len(p.Items) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}

func BenchmarkListSockets(b *testing.B) {
	for _, q := range []struct {
		name string
		q    func(socks []*Socket) SocketQuery
	}{
		{"all", func([]*Socket) SocketQuery { return SocketQuery{} }},
		{"cursor", func(s []*Socket) SocketQuery { return SocketQuery{Cursor: nameCursor(s[5000].ID())} }},
		{"prefix", func(s []*Socket) SocketQuery { return SocketQuery{Prefix: s[77].ID()[:1]} }},
		{"room", func([]*Socket) SocketQuery { return SocketQuery{Room: "room-0600"} }},
		{"addr", func([]*Socket) SocketQuery { return SocketQuery{Addr: "10.0.7."} }},
	} {
		b.Run(q.name, func(b *testing.B) {
			nsp, socks := benchNamespace(b)
			query := q.q(socks)
			for b.Loop() {
				if p := nsp.ListSockets(query); len(p.Items) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}

func BenchmarkRoomSize(b *testing.B) {
	nsp, _ := benchNamespace(b)
	for b.Loop() {
		if nsp.RoomSize("room-0600") != 8 {
			b.Fatal("size")
		}
	}
}

func BenchmarkStats(b *testing.B) {
	nsp, _ := benchNamespace(b)
	for b.Loop() {
		nsp.srv.Stats()
	}
}

// FuzzParseCursor checks that any cursor a client sends parses or is
// refused without panicking, and that the cursors the hub makes parse
// back to what they hold.
func FuzzParseCursor(f *testing.F) {
	f.Add("", 0, "room-0001")
	f.Add(nameCursor("a:b"), 3, "x\x00y")
	f.Add(sizeCursor(8, "room"), -1, "")
	f.Add("bjo", 1<<40, "é")
	f.Fuzz(func(t *testing.T, raw string, size int, name string) {
		parseCursor(raw)
		if s, n, ok := parseCursor(nameCursor(name)); !ok || s != -1 || n != name {
			t.Errorf("name cursor %q: %d %q %v", name, s, n, ok)
		}
		if size >= 0 {
			if s, n, ok := parseCursor(sizeCursor(size, name)); !ok || s != size || n != name {
				t.Errorf("size cursor %d %q: %d %q %v", size, name, s, n, ok)
			}
		}
	})
}

// detachedConn opens a polling session in process, with no network
// connection (the handshake goes to a ResponseRecorder), from addr.
func detachedConn(t testing.TB, srv *Server, addr string) *engineio.Conn {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, srv.cfg.Path+"?EIO=4&transport=polling", nil)
	r.RemoteAddr = addr
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(body, `0{"sid":"`) {
		t.Fatalf("handshake: %d %s", w.Code, body)
	}
	sid, _, _ := strings.Cut(strings.TrimPrefix(body, `0{"sid":"`), `"`)
	c := srv.eng.Lookup(sid)
	if c == nil {
		t.Fatalf("no session %s", sid)
	}
	return c
}
