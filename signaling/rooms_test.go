package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAdapterSnapshots checks Rooms, SIDs and RoomList against Socket.IO's
// adapter.rooms (room → sids, each socket's own room included) and
// adapter.sids (sid → rooms, its own room included).
func TestAdapterSnapshots(t *testing.T) {
	h := newHub(t, Config{})
	sockets := collectSockets(h.srv.Of("/"))
	h.srv.Of("/other").OnConnection(func(s *Socket) { s.Join("r1") })
	ca, a := h.connect("/")
	cb, b := h.connect("/")
	cb.send("40/other,")
	cb.expectPrefix(`40/other,{"sid":"`)
	sa, sb := sockets.get(t, a), sockets.get(t, b)
	nsp := h.srv.Of("/")

	check := func(what string, rooms, sids map[string][]string) {
		t.Helper()
		if got := roomsOf(nsp); !maps.EqualFunc(got, rooms, sameSet) {
			t.Errorf("%s: Rooms() = %v, want %v", what, got, rooms)
		}
		if got := sidsOf(nsp); !maps.EqualFunc(got, sids, sameSet) {
			t.Errorf("%s: SIDs() = %v, want %v", what, got, sids)
		}
	}
	check("connected", map[string][]string{a: {a}, b: {b}}, map[string][]string{a: {a}, b: {b}})

	if err := sa.Join("r1", "r2"); err != nil {
		t.Fatal(err)
	}
	if err := sb.Join("r1"); err != nil {
		t.Fatal(err)
	}
	check("joined",
		map[string][]string{a: {a}, b: {b}, "r1": {a, b}, "r2": {a}},
		map[string][]string{a: {a, "r1", "r2"}, b: {b, "r1"}})

	want := []RoomView{{Name: "r1", Size: 2}, {Name: "r2", Size: 1}}
	if got := nsp.ListRooms(RoomQuery{}); !slices.Equal(got.Items, want) || got.Total != 2 || got.Next != "" {
		t.Errorf("ListRooms() = %+v, want %+v", got, want)
	}
	if n := nsp.RoomCount(); n != 2 {
		t.Errorf("RoomCount() = %d", n)
	}
	if n, m, x := nsp.RoomSize("r1"), nsp.RoomSize(a), nsp.RoomSize("none"); n != 2 || m != 1 || x != 0 {
		t.Errorf("RoomSize: r1 %d, own room %d, none %d", n, m, x)
	}
	// The other namespace has rooms of its own.
	other := h.srv.Of("/other")
	waitFor(t, 5*time.Second, func() bool { return len(roomsOf(other)) == 2 && len(roomsOf(other)["r1"]) == 1 },
		func() string { return fmt.Sprintf("/other rooms: %v", roomsOf(other)) })

	// Snapshots are copies.
	snap := roomsOf(nsp)
	snap["r1"][0] = "mangled"
	delete(snap, "r2")
	if got := roomsOf(nsp); len(got["r2"]) != 1 || slices.Contains(got["r1"], "mangled") {
		t.Errorf("a snapshot shares state: %v", got)
	}

	// Leaving the last member's room removes the room.
	sa.Leave("r2")
	sa.Leave("r2") // twice is fine
	sa.Leave("never-joined")
	check("left",
		map[string][]string{a: {a}, b: {b}, "r1": {a, b}},
		map[string][]string{a: {a, "r1"}, b: {b, "r1"}})

	// A socket that disconnects leaves every room, its own included.
	cb.send("41")
	waitFor(t, 5*time.Second, func() bool { return len(sidsOf(nsp)) == 1 }, func() string { return fmt.Sprint(sidsOf(nsp)) })
	check("b left", map[string][]string{a: {a}, "r1": {a}}, map[string][]string{a: {a, "r1"}})
	if got := sidsOf(h.srv.Of("/other")); len(got) != 1 {
		t.Errorf("b is still connected to /other: %v", got)
	}
	ca.send("41")
	waitFor(t, 5*time.Second, func() bool { return len(sidsOf(nsp)) == 0 }, func() string { return fmt.Sprint(sidsOf(nsp)) })
	check("all left", map[string][]string{}, map[string][]string{})
	if err := sa.Join("r3"); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after disconnect: %v", err)
	}
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestDisconnectReasons checks what OnDisconnecting and OnDisconnect see for
// every way a socket can go.
func TestDisconnectReasons(t *testing.T) {
	type seen struct {
		roomsBefore, roomsAfter []string
		reasonBefore, reason    string
		connectedBefore         bool
	}
	for _, tc := range []struct {
		name   string
		reason string
		do     func(h *hub, c *rawWS, s *Socket)
	}{
		{"client namespace disconnect", ReasonClientDisconnect, func(h *hub, c *rawWS, s *Socket) { c.send("41") }},
		{"transport close", ReasonTransportClose, func(h *hub, c *rawWS, s *Socket) { c.conn.Close() }},
		{"close packet", ReasonTransportClose, func(h *hub, c *rawWS, s *Socket) { c.send("1"); c.expectClosed() }},
		{"parse error", ReasonParseError, func(h *hub, c *rawWS, s *Socket) { c.send("4garbage"); c.expectClosed() }},
		{"unknown packet type", ReasonParseError, func(h *hub, c *rawWS, s *Socket) { c.send("9"); c.expectClosed() }},
		{"server namespace disconnect", ReasonServerDisconnect, func(h *hub, c *rawWS, s *Socket) {
			s.Disconnect(false)
			c.expect("41")
			c.send("2")
			c.expect("3") // the session stays
		}},
		{"server disconnect and close", ReasonServerDisconnect, func(h *hub, c *rawWS, s *Socket) {
			s.Disconnect(true)
			c.expect("41")
			c.expectClosed()
		}},
		{"shutdown", ReasonServerShuttingDown, func(h *hub, c *rawWS, s *Socket) {
			if err := h.srv.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, Config{})
			got := make(chan seen, 1)
			h.srv.OnConnection(func(s *Socket) {
				s.Join("room")
				var v seen
				s.OnDisconnecting(func(r string) {
					v.roomsBefore, v.reasonBefore, v.connectedBefore = s.Rooms(), r, s.Connected()
				})
				s.OnDisconnect(func(r string) {
					v.roomsAfter, v.reason = s.Rooms(), r
					got <- v
				})
			})
			sockets := collectSockets(h.srv.Of("/")) // after the handler above
			c, id := h.connect("/")
			s := sockets.get(t, id)
			tc.do(h, c, s)
			v := recv(t, got, "OnDisconnect")
			if v.reasonBefore != tc.reason || v.reason != tc.reason {
				t.Errorf("reasons %q, %q, want %q", v.reasonBefore, v.reason, tc.reason)
			}
			if !sameSet(v.roomsBefore, []string{id, "room"}) {
				t.Errorf("OnDisconnecting saw rooms %v", v.roomsBefore)
			}
			if v.connectedBefore {
				t.Error("Connected() in OnDisconnecting")
			}
			if len(v.roomsAfter) != 0 {
				t.Errorf("OnDisconnect saw rooms %v", v.roomsAfter)
			}
			if err := s.Emit("late"); !errors.Is(err, ErrClosed) {
				t.Errorf("Emit after disconnect: %v", err)
			}
		})
	}
}

// client reads what a raw client received up to a marker, answering pings.
func (c *rawWS) until(marker string) []string {
	c.t.Helper()
	var out []string
	for {
		got, _ := c.nextPonging()
		if got == marker {
			return out
		}
		out = append(out, got)
	}
}

func TestBroadcastSelection(t *testing.T) {
	h := newHub(t, Config{})
	sockets := collectSockets(h.srv.Of("/"))
	const n = 5
	var cs [n]*rawWS
	var ss [n]*Socket
	for i := range cs {
		var id string
		cs[i], id = h.connect("/")
		ss[i] = sockets.get(t, id)
	}
	// 0,1,2 in red; 2,3 in blue; 4 in none.
	for i, rooms := range [][]string{{"red"}, {"red"}, {"red", "blue"}, {"blue"}, {}} {
		if err := ss[i].Join(rooms...); err != nil {
			t.Fatal(err)
		}
	}
	emit := func(b *BroadcastOperator, tag string) {
		t.Helper()
		if err := b.Emit("m", tag); err != nil {
			t.Fatal(err)
		}
	}
	emit(h.srv.To("red"), "red")
	emit(h.srv.To("red", "blue"), "red+blue") // a union: 2 gets it once
	emit(h.srv.To("red").To("blue"), "red.blue")
	emit(h.srv.To("red").Except("blue"), "red-blue")
	emit(h.srv.Except("red"), "not-red")
	emit(ss[0].To("red"), "0 to red") // not to 0
	emit(ss[2].Broadcast(), "2 broadcast")
	emit(ss[3].Except("red"), "3 except red")
	emit(h.srv.To(ss[4].ID()), "private 4")
	emit(h.srv.To(ss[4].ID(), ss[1].ID()), "private 4+1")
	emit(h.srv.Except(ss[0].ID()).To("red"), "red but 0")
	emit(h.srv.To("nobody"), "nobody")
	op := h.srv.To("blue")
	op.Except("red") // refining returns a new operator...
	emit(op, "blue") // ...and leaves op as it was
	h.srv.Emit("m", "end")

	want := [n][]string{
		{"red", "red+blue", "red.blue", "red-blue", "2 broadcast"},
		{"red", "red+blue", "red.blue", "red-blue", "0 to red", "2 broadcast", "private 4+1", "red but 0"},
		{"red", "red+blue", "red.blue", "0 to red", "red but 0", "blue"},
		{"red+blue", "red.blue", "not-red", "2 broadcast", "blue"},
		{"not-red", "2 broadcast", "3 except red", "private 4", "private 4+1"},
	}
	for i, c := range cs {
		var got []string
		for _, m := range c.until(`42["m","end"]`) {
			var v []string
			json.Unmarshal([]byte(strings.TrimPrefix(m, "42")), &v)
			got = append(got, v[1])
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("client %d got %q\n want %q", i, got, want[i])
		}
	}

	// FetchSockets, SocketsJoin, SocketsLeave, DisconnectSockets.
	rs, err := h.srv.In("blue").FetchSockets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
		if r.Namespace != "/" || !slices.Contains(r.Rooms, "blue") {
			t.Errorf("fetched %+v", r.SocketInfo)
		}
	}
	if !sameSet(ids, []string{ss[2].ID(), ss[3].ID()}) {
		t.Errorf("FetchSockets(blue) = %v", ids)
	}
	h.srv.In("blue").SocketsJoin("green")
	h.srv.In("red").SocketsLeave("red")
	if got := roomsOf(h.srv.Of("/")); !sameSet(got["green"], []string{ss[2].ID(), ss[3].ID()}) || got["red"] != nil {
		t.Errorf("rooms after SocketsJoin/SocketsLeave: %v", got)
	}
	rs[0].Join("solo")
	rs[0].Emit("m", "remote emit")
	i := slices.IndexFunc(ss[:], func(s *Socket) bool { return s.ID() == rs[0].ID })
	cs[i].until(`42["m","remote emit"]`)
	if !slices.Contains(ss[i].Rooms(), "solo") {
		t.Errorf("RemoteSocket.Join: %v", ss[i].Rooms())
	}
	h.srv.In("green").DisconnectSockets(false)
	waitFor(t, 5*time.Second, func() bool { return h.srv.Of("/").Len() == 3 }, func() string { return "green still connected" })
	if ss[2].Connected() || ss[3].Connected() || !ss[4].Connected() {
		t.Error("DisconnectSockets(green) disconnected the wrong sockets")
	}
}

func TestServerAcks(t *testing.T) {
	h := newHub(t, Config{})
	sockets := collectSockets(h.srv.Of("/"))
	c, id := h.connect("/")
	s := sockets.get(t, id)

	// EmitWithAck, answered with binary.
	type result struct {
		args []any
		err  error
	}
	res := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a, err := s.EmitWithAck(ctx, "ask", 1)
		res <- result{a, err}
	}()
	c.expect(`420["ask",1]`)
	c.send(`461-0[{"_placeholder":true,"num":0},"x"]`)
	c.sendBinary([]byte{7, 7})
	r := recv(t, res, "ack")
	if r.err != nil || len(r.args) != 2 || string(r.args[0].([]byte)) != "\x07\x07" || string(r.args[1].(json.RawMessage)) != `"x"` {
		t.Fatalf("EmitWithAck = %v, %v", r.args, r.err)
	}

	// A timeout, then a late answer that is ignored.
	errc := make(chan error, 2)
	if err := s.EmitWithAckFunc(50*time.Millisecond, func(_ []any, err error) { errc <- err }, "slow"); err != nil {
		t.Fatal(err)
	}
	c.expect(`421["slow"]`)
	if err := recv(t, errc, "timeout"); !errors.Is(err, ErrAckTimeout) {
		t.Errorf("timeout: %v", err)
	}
	c.send(`431[]`)

	// Pending acks fail with ErrClosed when the socket goes.
	if err := s.EmitWithAckFunc(time.Minute, func(_ []any, err error) { errc <- err }, "never"); err != nil {
		t.Fatal(err)
	}
	c.expect(`422["never"]`)
	c.send("41")
	if err := recv(t, errc, "ErrClosed"); !errors.Is(err, ErrClosed) {
		t.Errorf("disconnect: %v", err)
	}
	if err := s.EmitWithAckFunc(time.Second, func([]any, error) {}, "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("after disconnect: %v", err)
	}
	select {
	case err := <-errc:
		t.Errorf("an ack callback ran twice: %v", err)
	default:
	}
}

func TestEmitErrors(t *testing.T) {
	h := newHub(t, Config{})
	sockets := collectSockets(h.srv.Of("/"))
	c, id := h.connect("/")
	s := sockets.get(t, id)
	for _, ev := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := s.Emit(ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("Emit(%q): %v", ev, err)
		}
		if err := h.srv.Emit(ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("broadcast Emit(%q): %v", ev, err)
		}
	}
	if err := s.Emit("x", json.RawMessage(`{bad`)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("invalid RawMessage: %v", err)
	}
	if err := s.Emit("x", func() {}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a func argument: %v", err)
	}
	// Nothing was sent for the failed emits.
	s.Emit("ok", "é\u2028<>&", []byte{0}, map[string]any{"b": []any{[]byte{1}}})
	c.expect(`452-["ok","é\u2028<>&",{"_placeholder":true,"num":0},{"b":[{"_placeholder":true,"num":1}]}]`)
	if got, mt := c.next(); mt != 2 || got != "\x00" {
		t.Errorf("attachment 0: %q", got)
	}
	if got, mt := c.next(); mt != 2 || got != "\x01" {
		t.Errorf("attachment 1: %q", got)
	}
}

// TestClientEvents checks what handlers receive and the ack they send back.
func TestClientEvents(t *testing.T) {
	h := newHub(t, Config{})
	type call struct {
		event string
		args  []any
	}
	calls := make(chan call, 16)
	h.srv.OnConnection(func(s *Socket) {
		s.Use(func(event string, args []any) error {
			if event == "blocked" {
				return errors.New("no")
			}
			return nil
		})
		s.OnAny(func(event string, args []any) { calls <- call{"any:" + event, args} })
		s.On("e", func(args []any, ack Ack) {
			calls <- call{"e", args}
			ack("first")
			ack("second") // ignored
		})
	})
	c, _ := h.connect("/")
	c.send(`42["blocked",1]`)
	c.send(`4212["e", 1 ,{"a":[1,2]},null]`)
	if got := recv(t, calls, "any"); got.event != "any:e" {
		t.Fatalf("first call %q: the middleware let a blocked event through", got.event)
	}
	got := recv(t, calls, "e")
	var raws []string
	for _, a := range got.args {
		raws = append(raws, string(a.(json.RawMessage)))
	}
	if !slices.Equal(raws, []string{"1", `{"a":[1,2]}`, "null"}) {
		t.Errorf("args %q", raws)
	}
	c.expect(`4312["first"]`)
	// Binary nested in an argument arrives as a tree with []byte leaves.
	c.send(`452-["e",{"a":[{"_placeholder":true,"num":1}],"n":1.5},{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte("zero"))
	c.sendBinary([]byte("one"))
	recv(t, calls, "any")
	got = recv(t, calls, "e")
	tree, ok := got.args[0].(map[string]any)
	if !ok || string(tree["a"].([]any)[0].([]byte)) != "one" || string(got.args[1].([]byte)) != "zero" {
		t.Errorf("binary args %#v", got.args)
	}
	var v struct{ N float64 }
	if err := Decode(got.args[0], &v); err != nil || v.N != 1.5 {
		t.Errorf("Decode of a tree: %v %v", v, err)
	}
	// An event for a namespace the client is not in is ignored.
	c.send(`42/elsewhere,["e"]`)
	c.send("2")
	c.expect("3")
	select {
	case got := <-calls:
		t.Errorf("unexpected call %v", got)
	default:
	}
}

func TestNamespaces(t *testing.T) {
	h := newHub(t, Config{})
	h.srv.Of("/static").OnConnection(func(s *Socket) { s.Emit("hi", s.Namespace().Name()) })
	parent := h.srv.OfFunc(func(name string, auth json.RawMessage) bool {
		return strings.HasPrefix(name, "/dyn-") && !strings.Contains(string(auth), "deny")
	})
	parent.OnConnection(func(s *Socket) { s.Emit("hi", s.Namespace().Name(), s.Handshake().Auth) })
	guarded := h.srv.Of("/guarded")
	guarded.Use(func(s *Socket) error {
		var auth struct{ Token string }
		json.Unmarshal(s.Handshake().Auth, &auth)
		switch auth.Token {
		case "ok":
			return nil
		case "plain":
			return errors.New("plain error")
		}
		return &ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
	})

	c, _ := h.connect("/")
	c.send("40/static,")
	c.expectPrefix(`40/static,{"sid":"`)
	c.expect(`42/static,["hi","/static"]`)
	c.send(`40/dyn-1,{"k":"v"}`)
	c.expectPrefix(`40/dyn-1,{"sid":"`)
	c.expect(`42/dyn-1,["hi","/dyn-1",{"k":"v"}]`)
	c.send(`40/dyn-2,{"deny":true}`)
	c.expect(`44/dyn-2,{"message":"Invalid namespace"}`)
	c.send("40/nope,")
	c.expect(`44/nope,{"message":"Invalid namespace"}`)
	c.send(`40/guarded,{"token":"bad"}`)
	c.expect(`44/guarded,{"data":{"code":401},"message":"unauthorized"}`)
	c.send(`40/guarded,{"token":"plain"}`)
	c.expect(`44/guarded,{"message":"plain error"}`)
	c.send(`40/guarded,{"token":"ok"}`)
	c.expectPrefix(`40/guarded,{"sid":"`)
	// Connecting twice to one namespace does nothing.
	c.send("40/static,")
	c.send("2")
	c.expect("3")

	// The parent's broadcast reaches every child; a child's, its own sockets.
	c.send(`40/dyn-3,`)
	c.expectPrefix(`40/dyn-3,{"sid":"`)
	c.expect(`42/dyn-3,["hi","/dyn-3",{}]`)
	parent.Emit("all")
	got := []string{c.expectPrefix("42/dyn-"), c.expectPrefix("42/dyn-")}
	slices.Sort(got)
	if !slices.Equal(got, []string{`42/dyn-1,["all"]`, `42/dyn-3,["all"]`}) {
		t.Errorf("parent broadcast: %q", got)
	}
	h.srv.Of("/dyn-1").Emit("one")
	c.expect(`42/dyn-1,["one"]`)
	if rs, _ := parent.FetchSockets(context.Background()); len(rs) != 2 {
		t.Errorf("parent FetchSockets: %d", len(rs))
	}
	// A static namespace with that name wins over the matcher.
	if n := h.srv.Of("/dyn-1"); n.Len() != 1 {
		t.Errorf("/dyn-1 has %d sockets", n.Len())
	}
}

func TestVolatile(t *testing.T) {
	h := newHub(t, Config{})
	p, _ := h.openPoll(nil)
	p.post("40")
	var pending []string
	p.next(&pending)
	// No GET in flight: a volatile packet is dropped, a normal one queued.
	h.srv.Volatile().Emit("v", 1)
	h.srv.Emit("n", 2)
	if got := p.next(&pending); got != `42["n",2]` {
		t.Errorf("got %q", got)
	}
	h.waitMetric("noom_signaling_volatile_dropped_total", 1)
}

// TestUnansweredAcksAreForgotten checks that an ack nobody answers does not
// stay with the socket once its waiter has given up.
func TestUnansweredAcksAreForgotten(t *testing.T) {
	h := newHub(t, Config{})
	sockets := collectSockets(h.srv.Of("/"))
	c, id := h.connect("/")
	_, id2 := h.connect("/")
	s, s2 := sockets.get(t, id), sockets.get(t, id2)
	pending := func(s *Socket) int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.acks)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.EmitWithAck(ctx, "q"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("EmitWithAck: %v", err)
	}
	for i := 0; i < 3; i++ {
		acks, err := h.srv.Timeout(20*time.Millisecond).EmitWithAck(context.Background(), "q")
		if !errors.Is(err, ErrAckTimeout) || len(acks) != 0 {
			t.Errorf("broadcast EmitWithAck: %v, %v", acks, err)
		}
	}
	if n, n2 := pending(s), pending(s2); n != 0 || n2 != 0 {
		t.Errorf("%d and %d acks still pending", n, n2)
	}
	// Late answers find nobody and change nothing.
	c.expect(`420["q"]`)
	c.send(`430[]`)
	c.send(`431[]`)
	c.send("2")
	c.expect(`421["q"]`)
	c.expect(`422["q"]`)
	c.expect(`423["q"]`)
	c.expect("3")
}
