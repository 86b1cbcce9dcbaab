package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestObserverSessions checks the Engine.IO session hooks: open and close
// with transport and reason, and that a hook may read the hub back.
func TestObserverSessions(t *testing.T) {
	h := newHub(t, Config{})
	opened := make(chan SessionEvent, 1)
	closed := make(chan SessionEvent, 1)
	h.srv.Observe(Observer{
		SessionOpen:  func(e SessionEvent) { h.srv.Stats(); h.srv.Namespaces(); opened <- e },
		SessionClose: func(e SessionEvent) { h.srv.Stats(); closed <- e },
	})
	c, _ := h.connect("/")
	o := recv(t, opened, "session open")
	if o.SID == "" || o.Transport != "websocket" || o.RemoteAddr == "" || o.Time.IsZero() {
		t.Errorf("open %+v", o)
	}
	c.conn.Close()
	e := recv(t, closed, "session close")
	if e.SID != o.SID || e.Reason != ReasonTransportClose || e.Transport != "websocket" {
		t.Errorf("close %+v", e)
	}
}

// TestObserverUpgradeAndDrop checks the hooks the engine fires through
// notifyUpgrade (filled in with the session's sockets) and notifyDrop.
func TestObserverUpgradeAndDrop(t *testing.T) {
	h := newHub(t, Config{})
	sockets := collectSockets(h.srv.Of("/"))
	ups := make(chan UpgradeEvent, 1)
	drops := make(chan DropEvent, 1)
	h.srv.Observe(Observer{Upgrade: func(e UpgradeEvent) { ups <- e }, Drop: func(e DropEvent) { drops <- e }})
	_, id := h.connect("/")
	s := sockets.get(t, id)
	sid := s.client.conn.ID()
	s.client.OnUpgrade("polling", "websocket")
	u := recv(t, ups, "upgrade")
	if u.SID != sid || u.To != "websocket" || !slices.Equal(u.Sockets, []SocketRef{{Namespace: "/", SID: id}}) {
		t.Errorf("upgrade %+v", u)
	}
	h.srv.notifyDrop(DropEvent{SID: sid, Reason: DropVolatile, Bytes: 10})
	if d := recv(t, drops, "drop"); d.SID != sid || d.Reason != DropVolatile || d.Bytes != 10 {
		t.Errorf("drop %+v", d)
	}
}

// TestObserverDetail checks the opt-in payloads and recipients, and that
// an excluded namespace tells an observer nothing, while another observer
// without detail gets the cheap events.
func TestObserverDetail(t *testing.T) {
	h := newHub(t, Config{})
	var mu sync.Mutex
	var detailed, cheap []MessageEvent
	var other []string
	h.srv.Observe(Observer{
		Event:   func(e MessageEvent) { mu.Lock(); detailed = append(detailed, e); mu.Unlock() },
		Connect: func(e SocketEvent) { mu.Lock(); other = append(other, "connect "+e.Namespace); mu.Unlock() },
		Join:    func(e RoomEvent) { mu.Lock(); other = append(other, "join "+e.Namespace); mu.Unlock() },
		Detail:  ObserveDetail{Payload: true, Recipients: true, Exclude: []string{"/admin"}},
	})
	h.srv.Observe(Observer{Event: func(e MessageEvent) { mu.Lock(); cheap = append(cheap, e); mu.Unlock() }})
	h.srv.Of("/admin").OnConnection(func(s *Socket) { s.Join("admins"); s.Emit("hello", "admin") })
	sockets := collectSockets(h.srv.Of("/"))
	ca, a := h.connect("/")
	cb, b := h.connect("/")
	ca.send("40/admin,")
	ca.expectPrefix(`40/admin,{"sid":"`)
	ca.expect(`42/admin,["hello","admin"]`)
	sockets.get(t, a).Join("r")
	sockets.get(t, b).Join("r")
	ca.send(`42["in",{"x":1},"y"]`)
	waitFor(t, 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(detailed) == 1 }, func() string { return "no event in" })
	if err := h.srv.To("r").Emit("out", 2); err != nil {
		t.Fatal(err)
	}
	ca.expect(`42["out",2]`)
	cb.expect(`42["out",2]`)
	waitFor(t, 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(detailed) == 2 }, func() string { return "no event out" })

	mu.Lock()
	defer mu.Unlock()
	in, out := detailed[0], detailed[1]
	if in.Direction != In || in.Event != "in" || len(in.Args) != 2 || string(in.Args[0].(json.RawMessage)) != `{"x":1}` {
		t.Errorf("event in: %+v", in)
	}
	if out.Direction != Out || len(out.Args) != 1 || out.Args[0] != 2 || !sameSet(out.SIDs, []string{a, b}) || out.Recipients != 2 {
		t.Errorf("event out: %+v", out)
	}
	for _, e := range detailed {
		if e.Namespace == "/admin" {
			t.Errorf("excluded namespace reported: %+v", e)
		}
	}
	slices.Sort(other) // a connect hook runs after the client sees CONNECT: order may vary
	if !slices.Equal(other, []string{"connect /", "connect /", "join /", "join /"}) {
		t.Errorf("other hooks: %q", other)
	}
	// The cheap observer sees /admin too (its emit), and a costly field
	// at most because the other observer asked for it.
	admin := slices.IndexFunc(cheap, func(e MessageEvent) bool { return e.Namespace == "/admin" })
	if len(cheap) != 3 || admin < 0 || cheap[admin].Args != nil {
		t.Errorf("cheap observer: %+v", cheap)
	}
}

// localOnly is an Adapter written against Local alone, as a third party
// would: it does not embed MemoryAdapter.
type localOnly struct{ l Local }

func (a localOnly) Broadcast(_ context.Context, p *Packet, o BroadcastOptions) error {
	a.l.Deliver(p, o)
	return nil
}
func (a localOnly) BroadcastWithAck(ctx context.Context, p *Packet, o BroadcastOptions, count func(int), ack func(string, []any)) error {
	count(a.l.DeliverWithAck(ctx, p, o, ack))
	return nil
}
func (a localOnly) FetchSockets(_ context.Context, o BroadcastOptions) ([]SocketInfo, error) {
	return a.l.Sockets(o), nil
}
func (a localOnly) AddSockets(_ context.Context, o BroadcastOptions, r []string) error {
	a.l.Join(o, r)
	return nil
}
func (a localOnly) DelSockets(_ context.Context, o BroadcastOptions, r []string) error {
	a.l.Leave(o, r)
	return nil
}
func (a localOnly) DisconnectSockets(_ context.Context, o BroadcastOptions, c bool) error {
	a.l.Disconnect(o, c)
	return nil
}
func (a localOnly) ServerSideEmit(context.Context, string, []any, func([]any)) error { return nil }
func (a localOnly) ServerCount(context.Context) (int, error)                         { return 1, nil }
func (a localOnly) AllRooms(context.Context) ([]string, error)                       { return a.l.AppendRooms(nil), nil }
func (a localOnly) Close() error                                                     { return nil }

// TestAdapterOutsider checks that an adapter that is not MemoryAdapter
// still gets the room limit, join and leave events and metrics: the
// namespace keeps them.
func TestAdapterOutsider(t *testing.T) {
	h := newHub(t, Config{MaxRoomsPerSocket: 3, Adapter: func(l Local) Adapter { return localOnly{l} }})
	var mu sync.Mutex
	var log []string
	h.srv.Observe(Observer{
		Join:  func(e RoomEvent) { mu.Lock(); log = append(log, "join "+e.Room); mu.Unlock() },
		Leave: func(e RoomEvent) { mu.Lock(); log = append(log, "leave "+e.Room); mu.Unlock() },
	})
	sockets := collectSockets(h.srv.Of("/"))
	c, id := h.connect("/")
	s := sockets.get(t, id)
	if err := h.srv.In(id).SocketsJoin("a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Join("c"); err != ErrTooManyRooms {
		t.Errorf("Join past the limit: %v", err)
	}
	h.srv.In("a").SocketsLeave("b")
	h.srv.To("a").Emit("m", 1)
	c.expect(`42["m",1]`)
	h.waitMetric("noom_signaling_deliveries_total", 1)
	mu.Lock()
	got := slices.Clone(log)
	mu.Unlock()
	if want := []string{"join a", "join b", "leave b"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// TestCrossBroadcastNoDeadlock has clients broadcast into each other's
// rooms at once, from their handlers (each on its own reading goroutine),
// while joins, leaves and observer hooks that read the hub run: every
// broadcast must arrive, under -race, without a deadlock.
func TestCrossBroadcastIntoEachOther(t *testing.T) {
	const clients, rounds = 4, 200
	h := newHub(t, Config{})
	nsp := h.srv.Of("/")
	h.srv.Observe(Observer{
		Join:  func(RoomEvent) { nsp.RoomSize("r0") },
		Event: func(e MessageEvent) { nsp.ListRooms(RoomQuery{Limit: 2}) },
	})
	h.srv.OnConnection(func(s *Socket) {
		s.On("go", func(args []any, ack Ack) {
			var target string
			Decode(args[0], &target)
			for i := 0; i < rounds; i++ {
				s.To(target).Emit("m", i)
				s.Join(fmt.Sprint("tmp", i%3))
				s.Leave(fmt.Sprint("tmp", i%3))
			}
			ack("done")
		})
	})
	sockets := collectSockets(nsp)
	cs := make([]*rawWS, clients)
	for i := range cs {
		var id string
		cs[i], id = h.connect("/")
		sockets.get(t, id).Join(fmt.Sprint("r", i))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, c := range cs {
			c.send(fmt.Sprintf(`421["go","r%d"]`, (i+1)%clients))
		}
		var wg sync.WaitGroup
		for _, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, acked := 0, false
				for got < rounds || !acked {
					c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
					_, b, err := c.conn.ReadMessage()
					if err != nil {
						t.Errorf("after %d broadcasts: %v", got, err)
						return
					}
					switch m := string(b); {
					case m == `431["done"]`:
						acked = true
					case strings.HasPrefix(m, `42["m"`):
						got++
					}
				}
			}()
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("deadlock: cross broadcasts did not finish")
	}
}

// TestObserverMaxRecipients: with MaxRecipients the recipient list comes
// with small events out only, and an observer without a limit lifts it.
func TestObserverMaxRecipients(t *testing.T) {
	h := newHub(t, Config{})
	var mu sync.Mutex
	var got []MessageEvent
	remove := h.srv.Observe(Observer{
		Event:  func(e MessageEvent) { mu.Lock(); got = append(got, e); mu.Unlock() },
		Detail: ObserveDetail{Recipients: true, MaxRecipients: 1},
	})
	sockets := collectSockets(h.srv.Of("/"))
	ca, a := h.connect("/")
	cb, b := h.connect("/")
	sockets.get(t, a).Join("r")
	sockets.get(t, b).Join("r")
	emit := func(to string) MessageEvent {
		t.Helper()
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if err := h.srv.To(to).Emit("out"); err != nil {
			t.Fatal(err)
		}
		ca.expect(`42["out"]`)
		if to == "r" {
			cb.expect(`42["out"]`)
		}
		waitFor(t, 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > n }, func() string { return "no event out" })
		mu.Lock()
		defer mu.Unlock()
		return got[n]
	}
	if e := emit(a); !slices.Equal(e.SIDs, []string{a}) {
		t.Errorf("to one socket: SIDs %v", e.SIDs)
	}
	if e := emit("r"); e.SIDs != nil || e.Recipients != 2 {
		t.Errorf("to two sockets past MaxRecipients 1: SIDs %v, recipients %d", e.SIDs, e.Recipients)
	}
	h.srv.Observe(Observer{Event: func(MessageEvent) {}, Detail: ObserveDetail{Recipients: true}})
	if e := emit("r"); !sameSet(e.SIDs, []string{a, b}) {
		t.Errorf("with an unlimited observer too: SIDs %v", e.SIDs)
	}
	remove()
}
