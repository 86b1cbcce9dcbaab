// Package adaptertest is the contract every signaling.Adapter must keep,
// as a test suite: run it from the adapter's own tests against a cluster
// of real servers on loopback, with real WebSocket clients spread over the
// nodes. MemoryAdapter passes it with one node; a multi-node adapter
// (Redis) runs it with three.
package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
)

// NewNodes makes n servers that share one cluster (their Config.Adapter
// connects them). Run serves each on a loopback httptest server and shuts
// them down when the subtest ends.
type NewNodes func(t *testing.T, n int) []*signaling.Server

// Run runs the contract, each case on a fresh cluster of n nodes.
func Run(t *testing.T, n int, newNodes NewNodes) {
	cases := []struct {
		name string
		fn   func(t *testing.T, c *cluster)
	}{
		{"Broadcast", testBroadcast},
		{"Volatile", testVolatile},
		{"Acks", testAcks},
		{"AckTimeout", testAckTimeout},
		{"FetchSockets", testFetch},
		{"JoinLeave", testJoinLeave},
		{"DisconnectSockets", testDisconnect},
		{"ServerSideEmit", testServerSideEmit},
		{"ServerCount", testServerCount},
		{"AllRooms", testAllRooms},
		{"RoomSize", testRoomSize},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newCluster(t, n, newNodes)) })
	}
}

// cluster is the nodes and the clients of a case. Client i is on node
// i % n; every node has three clients, in rooms by their index: "even" or
// "odd", "third" for i % 3 == 0, and "far" for the clients not on node 0.
type cluster struct {
	t       *testing.T
	nodes   []*signaling.Server
	urls    []string
	clients []*client
}

// eventually is how long a cluster may take to apply an operation that
// does not wait for other nodes (a join, a disconnect).
const eventually = 10 * time.Second

func newCluster(t *testing.T, n int, newNodes NewNodes) *cluster {
	t.Helper()
	c := &cluster{t: t, nodes: newNodes(t, n)}
	if len(c.nodes) != n {
		t.Fatalf("newNodes made %d nodes, want %d", len(c.nodes), n)
	}
	for k, srv := range c.nodes {
		srv.OnConnection(func(s *signaling.Socket) {
			s.SetData(map[string]any{"node": k})
			s.On("join", func(args []any, ack signaling.Ack) {
				rooms := make([]string, len(args))
				for i, a := range args {
					signaling.Decode(a, &rooms[i])
				}
				s.Join(rooms...)
				ack(true)
			})
		})
		hs := httptest.NewServer(srv)
		c.urls = append(c.urls, hs.URL)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("node %d: Shutdown: %v", k, err)
			}
			hs.Close()
		})
	}
	for i := 0; i < 3*n; i++ {
		c.add(i%n, false, c.roomsOf(i)...)
	}
	return c
}

func (c *cluster) roomsOf(i int) []string {
	rooms := []string{"odd"}
	if i%2 == 0 {
		rooms[0] = "even"
	}
	if i%3 == 0 {
		rooms = append(rooms, "third")
	}
	if i%len(c.nodes) != 0 {
		rooms = append(rooms, "far")
	}
	return rooms
}

// add connects a client to a node and has it join rooms.
func (c *cluster) add(node int, silent bool, rooms ...string) *client {
	cl := dial(c.t, c.urls[node], node, silent)
	cl.call("join", rooms...)
	c.clients = append(c.clients, cl)
	return cl
}

// in lists the ids of the clients in a room.
func (c *cluster) in(room string) []string {
	var ids []string
	for i, cl := range c.clients[:3*len(c.nodes)] {
		if slices.Contains(c.roomsOf(i), room) {
			ids = append(ids, cl.id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (c *cluster) socket(cl *client) *signaling.Socket {
	return c.nodes[cl.node].Lookup("/").Socket(cl.id)
}

// end broadcasts a marker from node 0 and returns, per client still
// connected, what it got before it.
func (c *cluster) end() [][]string {
	c.t.Helper()
	if err := c.nodes[0].Emit("end"); err != nil {
		c.t.Fatal(err)
	}
	out := make([][]string, len(c.clients))
	for i, cl := range c.clients {
		cl.mu.Lock()
		gone := cl.gone
		cl.mu.Unlock()
		if gone {
			continue
		}
		out[i] = cl.until("end")
		slices.Sort(out[i])
	}
	return out
}

func testBroadcast(t *testing.T, c *cluster) {
	srv := c.nodes[0]
	last := c.clients[len(c.clients)-1]
	emits := []struct {
		what string
		emit func() error
		want func(i int, rooms []string) bool
	}{
		{"room", func() error { return srv.To("even").Emit("m", "room") },
			func(_ int, r []string) bool { return slices.Contains(r, "even") }},
		{"union", func() error { return srv.To("even", "third").Emit("m", "union") },
			func(_ int, r []string) bool { return slices.Contains(r, "even") || slices.Contains(r, "third") }},
		{"except room", func() error { return srv.Except("odd").Emit("m", "except room") },
			func(_ int, r []string) bool { return !slices.Contains(r, "odd") }},
		{"except sid", func() error { return srv.To("even").Except(c.clients[0].id).Emit("m", "except sid") },
			func(i int, r []string) bool { return i != 0 && slices.Contains(r, "even") }},
		{"all", func() error { return srv.Emit("m", "all") },
			func(int, []string) bool { return true }},
		{"local", func() error { return srv.Of("/").Local().To("odd").Emit("m", "local") },
			func(i int, r []string) bool { return i%len(c.nodes) == 0 && slices.Contains(r, "odd") }},
		{"direct", func() error { return srv.To(last.id).Emit("m", "direct") },
			func(i int, _ []string) bool { return i == len(c.clients)-1 }},
		{"socket.to", func() error { return c.socket(c.clients[0]).To("even").Emit("m", "socket.to") },
			func(i int, r []string) bool { return i != 0 && slices.Contains(r, "even") }},
	}
	for _, e := range emits {
		if err := e.emit(); err != nil {
			t.Fatalf("%s: %v", e.what, err)
		}
	}
	got := c.end()
	for i := range c.clients {
		var want []string
		for _, e := range emits {
			if e.want(i, c.roomsOf(i)) {
				want = append(want, fmt.Sprintf("m %q", e.what))
			}
		}
		slices.Sort(want)
		if !slices.Equal(got[i], want) {
			t.Errorf("client %d (node %d, rooms %v) got %q, want %q", i, i%len(c.nodes), c.roomsOf(i), got[i], want)
		}
	}
}

func testVolatile(t *testing.T, c *cluster) {
	// Idle clients are ready: a volatile event reaches them; it never
	// reaches a socket it does not select.
	if err := c.nodes[0].To("even").Volatile().Emit("v", 1); err != nil {
		t.Fatal(err)
	}
	got := c.end()
	for i := range c.clients {
		want := []string(nil)
		if slices.Contains(c.roomsOf(i), "even") {
			want = []string{"v 1"}
		}
		if !slices.Equal(got[i], want) {
			t.Errorf("client %d got %q, want %q", i, got[i], want)
		}
	}
}

// answers checks that acks came from exactly the sockets ids, each
// answering with its id.
func answers(t *testing.T, what string, acks []signaling.AckResponse, ids []string) {
	t.Helper()
	var got []string
	for _, a := range acks {
		var id string
		if len(a.Args) != 1 || signaling.Decode(a.Args[0], &id) != nil || id != a.SID {
			t.Errorf("%s: answer %+v", what, a)
		}
		got = append(got, a.SID)
	}
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		t.Errorf("%s: answers from %v, want %v", what, got, ids)
	}
}

func testAcks(t *testing.T, c *cluster) {
	ctx := context.Background()
	for k, srv := range c.nodes {
		acks, err := srv.To("even").EmitWithAck(ctx, "ask")
		if err != nil {
			t.Fatalf("node %d: %v", k, err)
		}
		answers(t, fmt.Sprintf("node %d to even", k), acks, c.in("even"))
	}
	// Node 0 has no member of "far": it must still wait for every other
	// node's count and answers.
	acks, err := c.nodes[0].To("far").EmitWithAck(ctx, "ask")
	if err != nil {
		t.Fatal(err)
	}
	answers(t, "to far", acks, c.in("far"))
	// Local: this node's answers only.
	acks, err = c.nodes[0].Of("/").Local().To("odd").EmitWithAck(ctx, "ask")
	if err != nil {
		t.Fatal(err)
	}
	var local []string
	for _, id := range c.in("odd") {
		if i := slices.IndexFunc(c.clients, func(cl *client) bool { return cl.id == id }); c.clients[i].node == 0 {
			local = append(local, id)
		}
	}
	answers(t, "local", acks, local)
	// Nobody selected: no answer, no wait.
	if acks, err := c.nodes[0].To("nobody").EmitWithAck(ctx, "ask"); err != nil || len(acks) != 0 {
		t.Errorf("to nobody: %v %v", acks, err)
	}
}

func testAckTimeout(t *testing.T, c *cluster) {
	var speak []string
	for k := range c.nodes {
		c.add(k, true, "mute")
		speak = append(speak, c.add(k, false, "mute").id)
	}
	slices.Sort(speak)
	acks, err := c.nodes[0].To("mute").Timeout(300*time.Millisecond).EmitWithAck(context.Background(), "ask")
	if !errors.Is(err, signaling.ErrAckTimeout) {
		t.Errorf("err = %v, want ErrAckTimeout", err)
	}
	answers(t, "with silent clients", acks, speak)
	// A done context ends the wait too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.nodes[0].To("mute").EmitWithAck(ctx, "ask"); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func testFetch(t *testing.T, c *cluster) {
	ctx := context.Background()
	ids := func(rs []*signaling.RemoteSocket) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		slices.Sort(out)
		return out
	}
	for k, srv := range c.nodes {
		rs, err := srv.In("even").FetchSockets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(rs), c.in("even"); !slices.Equal(got, want) {
			t.Errorf("node %d: FetchSockets(even) = %v, want %v", k, got, want)
		}
		for _, r := range rs {
			i := slices.IndexFunc(c.clients, func(cl *client) bool { return cl.id == r.ID })
			var data struct{ Node int }
			if err := signaling.Decode(r.Data, &data); err != nil || data.Node != c.clients[i].node {
				t.Errorf("socket %s: Data %v (%v), want node %d", r.ID, r.Data, err, c.clients[i].node)
			}
			if want := append([]string{r.ID}, c.roomsOf(i)...); !sameSet(r.Rooms, want) {
				t.Errorf("socket %s: Rooms %v, want %v", r.ID, r.Rooms, want)
			}
			if r.Namespace != "/" {
				t.Errorf("socket %s: namespace %q", r.ID, r.Namespace)
			}
		}
		all, err := srv.FetchSockets(ctx)
		if err != nil || len(all) != len(c.clients) {
			t.Errorf("node %d: FetchSockets() = %d sockets (%v), want %d", k, len(all), err, len(c.clients))
		}
		rs, err = srv.In("even").Except("third").FetchSockets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.DeleteFunc(c.in("even"), func(id string) bool { return slices.Contains(c.in("third"), id) })
		if got := ids(rs); !slices.Equal(got, want) {
			t.Errorf("node %d: FetchSockets(even except third) = %v, want %v", k, got, want)
		}
	}
	rs, err := c.nodes[0].Of("/").Local().FetchSockets(ctx)
	if err != nil || len(rs) != 3 {
		t.Errorf("Local FetchSockets: %d sockets (%v), want 3", len(rs), err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// waitRooms waits until every client's socket is in room exactly when in
// says so.
func (c *cluster) waitRooms(room string, in func(i int) bool) {
	c.t.Helper()
	deadline := time.Now().Add(eventually)
	for wait := time.Millisecond; ; wait = min(2*wait, 20*time.Millisecond) {
		var wrong []string
		for i, cl := range c.clients {
			s := c.socket(cl)
			if s == nil || slices.Contains(s.Rooms(), room) != in(i) {
				wrong = append(wrong, fmt.Sprintf("client %d (node %d)", i, cl.node))
			}
		}
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("room %q: wrong for %s", room, strings.Join(wrong, ", "))
		}
		time.Sleep(wait)
	}
}

func testJoinLeave(t *testing.T, c *cluster) {
	even := func(i int) bool { return i < 3*len(c.nodes) && i%2 == 0 }
	if err := c.nodes[0].In("even").SocketsJoin("joined"); err != nil {
		t.Fatal(err)
	}
	c.waitRooms("joined", even)
	if err := c.nodes[0].In("joined").Except("third").SocketsLeave("joined"); err != nil {
		t.Fatal(err)
	}
	c.waitRooms("joined", func(i int) bool { return even(i) && i%3 == 0 })
	// Through a fetched socket, on whatever node it is.
	last := len(c.clients) - 1
	rs, err := c.nodes[0].In(c.clients[last].id).FetchSockets(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("fetch one: %v %v", rs, err)
	}
	if err := rs[0].Join("solo"); err != nil {
		t.Fatal(err)
	}
	c.waitRooms("solo", func(i int) bool { return i == last })
	if err := rs[0].Leave("solo"); err != nil {
		t.Fatal(err)
	}
	c.waitRooms("solo", func(int) bool { return false })
	// Local stays on this node.
	if err := c.nodes[0].Of("/").Local().SocketsJoin("here"); err != nil {
		t.Fatal(err)
	}
	c.waitRooms("here", func(i int) bool { return c.clients[i].node == 0 })
}

func testDisconnect(t *testing.T, c *cluster) {
	if err := c.nodes[0].In("odd").DisconnectSockets(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	for i, cl := range c.clients {
		if i%2 == 1 && !cl.disconnected(ctx) {
			t.Errorf("client %d (node %d) was not disconnected", i, cl.node)
		}
	}
	// The others are still there: they get the next broadcast, and the
	// nodes count them.
	for i, got := range c.end() {
		if len(got) != 0 {
			t.Errorf("client %d got %q", i, got)
		}
	}
	total := 0
	for _, srv := range c.nodes {
		total += srv.Lookup("/").Len()
	}
	if want := len(c.in("even")); total != want {
		t.Errorf("%d sockets left, want %d", total, want)
	}
}

func testServerSideEmit(t *testing.T, c *cluster) {
	type call struct {
		node int
		arg  string
	}
	calls := make(chan call, 64)
	for k, srv := range c.nodes {
		srv.OnServerSideEmit("hello", func(args []any, ack signaling.Ack) {
			var s string
			signaling.Decode(args[0], &s)
			calls <- call{k, s}
			ack(fmt.Sprintf("node %d", k))
		})
	}
	if err := c.nodes[0].ServerSideEmit("hello", "plain"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	got, err := c.nodes[0].ServerSideEmitWithAck(ctx, "hello", "asked")
	if err != nil {
		t.Fatal(err)
	}
	var answers []string
	for _, a := range got {
		var s string
		if err := signaling.Decode(a, &s); err != nil {
			t.Errorf("answer %v: %v", a, err)
		}
		answers = append(answers, s)
	}
	var want []string
	for k := 1; k < len(c.nodes); k++ {
		want = append(want, fmt.Sprintf("node %d", k))
	}
	if !sameSet(answers, want) {
		t.Errorf("answers %q, want %q", answers, want)
	}
	// Every other node got both (the plain one first), node 0 neither.
	var seen []string
	for len(seen) < 2*(len(c.nodes)-1) {
		select {
		case cl := <-calls:
			seen = append(seen, fmt.Sprintf("%d %s", cl.node, cl.arg))
		case <-ctx.Done():
			t.Fatalf("server-side events seen: %q", seen)
		}
	}
	select {
	case cl := <-calls:
		t.Errorf("unexpected server-side event %+v", cl)
	default:
	}
	for _, s := range seen {
		if strings.HasPrefix(s, "0 ") {
			t.Errorf("node 0 got its own server-side event: %q", seen)
		}
	}
}

func testServerCount(t *testing.T, c *cluster) {
	for k, srv := range c.nodes {
		if n, err := srv.ServerCount(context.Background()); err != nil || n != len(c.nodes) {
			t.Errorf("node %d: ServerCount = %d, %v; want %d", k, n, err, len(c.nodes))
		}
	}
}

func testAllRooms(t *testing.T, c *cluster) {
	rooms, err := c.nodes[0].Of("/").AllRooms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"even", "odd", "third"}
	if len(c.nodes) > 1 {
		want = append(want, "far")
	}
	for _, cl := range c.clients {
		want = append(want, cl.id)
	}
	if !sameSet(rooms, want) {
		t.Errorf("AllRooms = %v, want %v", rooms, want)
	}
}

func testRoomSize(t *testing.T, c *cluster) {
	for _, room := range []string{"even", "odd", "third", "far", "none"} {
		total := 0
		for _, srv := range c.nodes {
			total += srv.Lookup("/").RoomSize(room)
		}
		if want := len(c.in(room)); total != want {
			t.Errorf("room %q: %d sockets over the nodes, want %d", room, total, want)
		}
	}
	if n := c.nodes[0].Lookup("/").RoomSize(c.clients[0].id); n != 1 {
		t.Errorf("own room size %d", n)
	}
}
