package sioadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

// TestMain checks that Close joins every goroutine the package starts.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConfig(t *testing.T) {
	srv := newHub(t, Config{Insecure: true}).srv
	for _, c := range []Config{
		{Mode: "debug"},
		{Namespace: "/"},
		{Insecure: true, Auth: &Bcrypt{}},
		{QueueSize: -1},
		{StatsInterval: 500 * time.Millisecond},
	} {
		if _, err := New(c, srv, prometheus.NewRegistry()); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", c, err)
		}
	}
	var c Config
	c.setDefaults()
	if c.Namespace != "/admin" || c.Mode != Production || c.MaxSockets != 2000 || c.StatsInterval != 2*time.Second ||
		c.EventRate != 300 || c.QueueSize != 1024 || c.SessionTTL != 24*time.Hour {
		t.Errorf("defaults %+v", c)
	}
	if _, err := NewBcrypt("admin", []byte("plain"), 0, 0); !errors.Is(err, ErrConfig) {
		t.Errorf("NewBcrypt of a non-hash: %v", err)
	}
}

// testConn is an adminConn with no socket, for queue tests.
func testConn(t testing.TB, cfg Config) *adminConn {
	t.Helper()
	cfg.setDefaults()
	m, err := newMetrics(prometheus.NewRegistry(), func() float64 { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	return newAdminConn(&Admin{cfg: cfg, m: m}, nil)
}

func TestQueueDropsOldest(t *testing.T) {
	ac := testConn(t, Config{QueueSize: 4, EventRate: 1000})
	t0 := time.Unix(1000, 0) // any instant: the bucket starts full
	for i := range 10 {
		ac.push(item{kind: kReceived, event: string(rune('a' + i)), t: t0}, 1)
	}
	items, _, _ := ac.take(nil)
	var got []string
	for _, it := range items {
		got = append(got, it.event)
	}
	if !slices.Equal(got, []string{"g", "h", "i", "j"}) {
		t.Errorf("queue kept %v, want the 4 newest", got)
	}
	if ac.skipped != [2]uint64{0, 6} || ac.lost {
		t.Errorf("skipped %v lost %v, want 6 queue drops of non-lifecycle events", ac.skipped, ac.lost)
	}
	if v := testutil.ToFloat64(ac.a.m.skipped.WithLabelValues(skipQueue)); v != 6 {
		t.Errorf("metric %v", v)
	}
	ac.push(item{kind: kConnected, t: t0}, 1)
	for range 4 {
		ac.push(item{kind: kReceived, t: t0}, 1)
	}
	if !ac.lost {
		t.Error("a dropped socket_connected does not call for a snapshot")
	}
}

func TestQueueRate(t *testing.T) {
	ac := testConn(t, Config{EventRate: 5})
	t0 := time.Unix(1000, 0) // any instant: the bucket starts full
	for range 8 {
		ac.push(item{kind: kReceived, t: t0}, 1)
	}
	ac.push(item{kind: kSent, t: t0}, 3) // a small broadcast costs its recipients
	if ac.n != 5 || ac.skipped[0] != 6 {
		t.Fatalf("at one instant: queued %d, rate-skipped %d; want 5 and 6", ac.n, ac.skipped[0])
	}
	ac.push(item{kind: kReceived, t: t0.Add(400 * time.Millisecond)}, 1) // 2 tokens back
	ac.push(item{kind: kReceived, t: t0.Add(400 * time.Millisecond)}, 1)
	ac.push(item{kind: kReceived, t: t0.Add(400 * time.Millisecond)}, 1)
	if ac.n != 7 || ac.skipped[0] != 7 {
		t.Errorf("after 400ms: queued %d, rate-skipped %d; want 7 and 7", ac.n, ac.skipped[0])
	}
	// The losses show in the next server_stats, then are reset.
	ac.setStats(serverStats{})
	var skipped []aggregatedEvent
	for _, e := range ac.stats.AggregatedEvents {
		if e.Type == "skippedEvents" {
			skipped = append(skipped, e)
		}
	}
	if len(skipped) != 1 || skipped[0].SubType != skipRate || skipped[0].Count != 7 {
		t.Errorf("aggregated %v", ac.stats.AggregatedEvents)
	}
	if ac.skipped != [2]uint64{} {
		t.Errorf("not reset: %v", ac.skipped)
	}
}

// TestResync: an admin that lost lifecycle events gets a new snapshot
// once the losses stop, at most every resyncEvery.
func TestResync(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	ac := testConn(t, Config{EventRate: 1, Now: func() time.Time { return now }})
	ac.push(item{kind: kJoined, t: now}, 1)
	ac.push(item{kind: kJoined, t: now}, 1) // over the rate
	ac.setStats(serverStats{})              // losses this interval: no resync yet
	if _, _, resync := ac.take(nil); resync {
		t.Fatal("resync while losing")
	}
	now = now.Add(2 * time.Second)
	ac.setStats(serverStats{})
	if _, _, resync := ac.take(nil); !resync {
		t.Fatal("no resync once the losses stopped")
	}
	ac.push(item{kind: kLeft, t: now}, 1)
	ac.push(item{kind: kLeft, t: now}, 1)
	now = now.Add(2 * time.Second)
	ac.setStats(serverStats{})
	ac.setStats(serverStats{})
	if _, _, resync := ac.take(nil); resync {
		t.Error("resync twice within resyncEvery")
	}
}

func TestSessions(t *testing.T) {
	s := newSessions(time.Hour, 2)
	t0 := time.Unix(1_000_000, 0)
	a := s.create(t0)
	b := s.create(t0.Add(time.Minute))
	if a == b || len(a) != 32 || !s.valid(a, t0) || !s.valid(b, t0) || s.valid("", t0) || s.valid("nope", t0) {
		t.Fatal("sessions")
	}
	c := s.create(t0.Add(2 * time.Minute)) // over MaxSessions: a, expiring first, goes
	if s.valid(a, t0) || !s.valid(b, t0) || !s.valid(c, t0) {
		t.Error("the session expiring first was not evicted")
	}
	if s.valid(b, t0.Add(time.Hour+time.Minute)) {
		t.Error("an expired session is valid")
	}
}

func TestBcryptThrottle(t *testing.T) {
	b := testAuth(t)
	now := time.Unix(1_000_000, 0)
	b.now = func() time.Time { return now }
	ctx := context.Background()
	if ok, _ := b.Check(ctx, testUser, testPassword, "192.0.2.1"); !ok {
		t.Fatal("right credentials refused")
	}
	for range 3 {
		if ok, retry := b.Check(ctx, testUser, "x", "192.0.2.1"); ok || retry != 0 {
			t.Fatal("wrong password accepted or throttled early")
		}
	}
	if ok, retry := b.Check(ctx, testUser, testPassword, "192.0.2.1"); ok || retry != time.Minute {
		t.Fatalf("throttled IP: ok %v retry %v", ok, retry)
	}
	if ok, _ := b.Check(ctx, testUser, testPassword, "192.0.2.2"); !ok {
		t.Error("another IP is throttled")
	}
	now = now.Add(time.Minute)
	if ok, _ := b.Check(ctx, testUser, testPassword, "192.0.2.1"); !ok {
		t.Error("still throttled after the window")
	}
}

func TestParseCommand(t *testing.T) {
	raw := func(s string) []any {
		var elems []json.RawMessage
		if err := json.Unmarshal([]byte(s), &elems); err != nil {
			t.Fatal(err)
		}
		out := make([]any, len(elems))
		for i, e := range elems {
			out[i] = e
		}
		return out
	}
	for _, tc := range []struct {
		name, args string
		want       command
	}{
		{"join", `["/","vip"]`, command{name: "join", nsp: "/", room: "vip"}},
		{"join", `["/","vip","sid1"]`, command{name: "join", nsp: "/", room: "vip", filter: "sid1"}},
		{"leave", `["/","vip",null]`, command{name: "leave", nsp: "/", room: "vip"}},
		{"_disconnect", `["/chat",true]`, command{name: "_disconnect", nsp: "/chat", close: true}},
		{"_disconnect", `["/",false,"r"]`, command{name: "_disconnect", nsp: "/", filter: "r"}},
		{"emit", `["/",null,"news",1,{"a":2}]`, command{name: "emit", nsp: "/", event: "news", args: raw(`[1,{"a":2}]`)}},
	} {
		got, err := parseCommand(tc.name, raw(tc.args))
		if err != nil || got.name != tc.want.name || got.nsp != tc.want.nsp || got.room != tc.want.room ||
			got.filter != tc.want.filter || got.close != tc.want.close || got.event != tc.want.event || len(got.args) != len(tc.want.args) {
			t.Errorf("%s %s: %+v, %v; want %+v", tc.name, tc.args, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ name, args string }{
		{"join", `["/"]`}, {"join", `["/",""]`}, {"join", `[1,"r"]`}, {"leave", `["/",null]`},
		{"_disconnect", `["/"]`}, {"_disconnect", `["/","yes"]`}, {"emit", `["/",null]`},
		{"emit", `["/",3,"x"]`}, {"other", `[]`},
	} {
		if _, err := parseCommand(tc.name, raw(tc.args)); !errors.Is(err, errBadCommand) {
			t.Errorf("%s %s: %v, want errBadCommand", tc.name, tc.args, err)
		}
	}
}

// FuzzParseCommand: any arguments give a command or errBadCommand, and a
// join or leave always names a room.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{`join ["/","vip","x"]`, `_disconnect ["/",true]`, `emit ["/",null,"e",{"a":[1]}]`, `leave [null]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, js, _ := strings.Cut(s, " ")
		var elems []json.RawMessage
		if json.Unmarshal([]byte(js), &elems) != nil {
			return
		}
		args := make([]any, len(elems))
		for i, e := range elems {
			args[i] = e
		}
		c, err := parseCommand(name, args)
		if err != nil {
			if !errors.Is(err, errBadCommand) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if (c.name == cmdJoin || c.name == cmdLeave) && c.room == "" {
			t.Fatalf("%s without a room", c.name)
		}
	})
}

// FuzzParseCredentials: any CONNECT payload gives credentials, never a
// panic; those that are not an object of strings give none.
func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{`{"username":"a","password":"b"}`, `{"sessionId":"x"}`, `[]`, `{"username":1}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := parseCredentials(json.RawMessage(s))
		if !json.Valid([]byte(s)) && c != (credentials{}) {
			t.Fatalf("credentials %+v from invalid JSON", c)
		}
	})
}

// dial connects n Go clients to the main namespace of h.
func dial(t *testing.T, h *hub, n int) []*signalingtest.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*signalingtest.Client
	for range n {
		c, err := signalingtest.Dial(ctx, h.url, signalingtest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		out = append(out, c)
	}
	return out
}

func TestAllSocketsCap(t *testing.T) {
	var logs bytes.Buffer
	h := newHub(t, Config{Insecure: true, Mode: Development, MaxSockets: 3,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	dial(t, h, 5)
	all := h.admin.allSockets()
	if len(all) != 3 {
		t.Fatalf("all_sockets has %d sockets, want the cap 3", len(all))
	}
	// The newest: compare with the hub's own connection times.
	var views []signaling.SocketView
	for q := (signaling.SocketQuery{}); ; {
		p := h.srv.Lookup("/").ListSockets(q)
		views = append(views, p.Items...)
		if q.Cursor = p.Next; p.Next == "" {
			break
		}
	}
	slices.SortFunc(views, func(a, b signaling.SocketView) int { return b.Connected.Compare(a.Connected) })
	for i, s := range all {
		if s.ID != views[i].ID {
			t.Errorf("all_sockets[%d] = %s, want %s (newest first)", i, s.ID, views[i].ID)
		}
	}
	if !strings.Contains(logs.String(), "all_sockets capped") {
		t.Errorf("no warning: %q", logs.String())
	}
}

// TestBroadcastOnce: a broadcast to many is one event_sent; to few, one
// per recipient; an event too large carries its size, not its arguments.
func TestBroadcastOnce(t *testing.T) {
	h := newHub(t, Config{Insecure: true, Mode: Development, LargeBroadcast: 3, MaxArgsBytes: 64, EventRate: 1 << 20})
	ac := newAdminConn(h.admin, nil)
	h.admin.admins.Store(&[]*adminConn{ac})
	defer h.admin.srv.Observe(h.admin.devObserver())()
	clients := dial(t, h, 5)
	ac.take(nil) // the connects
	root := h.srv.Lookup("/")
	if err := root.Emit("all", 1); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, 2)
	for _, v := range root.ListSockets(signaling.SocketQuery{Limit: 2}).Items {
		ids = append(ids, v.ID)
	}
	if err := root.To(ids...).Emit("few", strings.Repeat("x", 100)); err != nil {
		t.Fatal(err)
	}
	items, _, _ := ac.take(nil)
	if len(items) != 2 {
		t.Fatalf("%d items, want 2: %+v", len(items), items)
	}
	if all := items[0]; all.event != "all" || all.sids != nil || !strings.Contains(all.sid, "5 sockets") {
		t.Errorf("large broadcast %+v", all)
	}
	if few := items[1]; few.event != "few" || !sameSet(few.sids, ids) || few.args != nil {
		t.Errorf("small broadcast %+v", few)
	}
	if a := h.admin.eventArgs(&items[1]); len(a) != 2 || !strings.Contains(a[1].(string), "bytes, not shown") {
		t.Errorf("large event's args %v", a)
	}
	if len(clients) != 5 {
		t.Fatal(len(clients))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
