package callredis_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/noomrtc/noom/internal/redistest"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/signaling/call/callredis"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
)

// roomList is a subscriber's copy of the room list, kept from the pushes
// of its node: versions must follow one another (a push from another
// node's pusher would break the sequence).
type roomList struct {
	v     int64
	rooms map[string]int
}

func subscribeList(t *testing.T, c *sioclient.Client) *roomList {
	t.Helper()
	a := callAck(t, c, "", "rooms:subscribe", map[string]any{})
	l := &roomList{v: a.V, rooms: map[string]int{}}
	for _, r := range a.Rooms {
		l.rooms[r.Name] = r.Size
	}
	return l
}

type listPush struct {
	V   int64
	Set []call.RoomSize
	Del []string
}

// until applies pushes until the list is want.
func (l *roomList) until(t *testing.T, c *sioclient.Client, want map[string]int) {
	t.Helper()
	for !maps.Equal(l.rooms, want) {
		p := next[listPush](t, c, "rooms")
		if p.V <= l.v {
			continue
		}
		if p.V != l.v+1 {
			t.Fatalf("rooms push v%d after v%d", p.V, l.v)
		}
		for _, r := range p.Set {
			l.rooms[r.Name] = r.Size
		}
		for _, name := range p.Del {
			delete(l.rooms, name)
		}
		l.v = p.V
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// TestCallAcrossNodes: two people on different nodes meet in a room,
// negotiate (offer, answer, candidates), chat and report
// call stats; passcodes, names and listing hold across nodes; a socket of
// a third node outside the room cannot signal or chat to them; and the
// room list every node pushes is the cluster's.
func TestCallAcrossNodes(t *testing.T) {
	r := redistest.Start(t)
	n1 := newNode(t, r.Addr(), call.Config{}, callredis.Config{})
	n2 := newNode(t, r.Addr(), call.Config{}, callredis.Config{})
	n3 := newNode(t, r.Addr(), call.Config{}, callredis.Config{})
	home := n3.dial()
	list := subscribeList(t, home)

	a, b, c := n1.dial(), n2.dial(), n3.dial()
	if got := join(t, a, "standup", "Ann"); len(got.Peers) != 0 || !got.Listed {
		t.Fatalf("first join: %+v", got)
	}
	if got := join(t, b, "standup", "Bob"); !slices.Equal(got.Peers, []call.Member{{ID: a.ID, Name: "Ann"}}) {
		t.Fatalf("second join peers %+v, want Ann on the other node", got.Peers)
	}
	if m := next[call.Member](t, a, "peer-joined"); m != (call.Member{ID: b.ID, Name: "Bob"}) {
		t.Fatalf("peer-joined %+v", m)
	}
	list.until(t, home, map[string]int{"standup": 2})

	// Negotiation both ways. Across nodes data is the same JSON value, not
	// the same bytes: the adapter carries values (msgpack, as Node's does),
	// so the receiving node encodes the object again.
	for i, s := range []struct {
		from, to *sioclient.Client
		data     string
	}{
		{b, a, `{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}`},
		{a, b, `{"type":"answer","sdp":"v=0\r\n"}`},
		{a, b, `{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2122260223 10.0.0.1 50000 typ host","sdpMid":"0"}}`},
		{b, a, `{"type":"candidate","candidate":null}`},
	} {
		callAck(t, s.from, "", "signal", map[string]any{"to": s.to.ID, "data": json.RawMessage(s.data)})
		got := next[signalMsg](t, s.to, "signal")
		if got.From != s.from.ID || !sameJSON(got.Data, []byte(s.data)) {
			t.Fatalf("signal %d: %+v, want from %s data %s", i, got, s.from.ID, s.data)
		}
	}
	// Chat both ways, and a report on the peer of the other node.
	callAck(t, a, "", "chat", map[string]any{"room": "standup", "text": "hello from node 1"})
	if m := next[map[string]any](t, b, "chat"); m["text"] != "hello from node 1" || m["from"] != a.ID || m["name"] != "Ann" {
		t.Fatalf("chat %v", m)
	}
	callAck(t, b, "", "chat", map[string]any{"room": "standup", "text": "hi from node 2"})
	if m := next[map[string]any](t, a, "chat"); m["text"] != "hi from node 2" || m["name"] != "Bob" {
		t.Fatalf("chat %v", m)
	}
	callAck(t, a, "", "call-stats", map[string]any{"peer": b.ID, "state": "connected", "candidateType": "host", "protocol": "udp", "rttMs": 3})
	if st := n1.svc.Stats(); len(st) != 1 || st[0].Peer != b.ID || st[0].SID != a.ID {
		t.Fatalf("stats on node 1: %+v", st)
	}

	// A stranger on node 3: no signal, no chat to the room, in another
	// room or in none; a name of the room taken ignoring case; a room may
	// not be named after a socket of another node.
	for _, room := range []string{"", "elsewhere"} {
		if room != "" {
			join(t, c, room, "Cy")
		}
		callAck(t, c, call.CodeNotInRoom, "signal", map[string]any{"to": a.ID, "data": map[string]any{"type": "offer", "sdp": "x"}})
		callAck(t, c, call.CodeNotInRoom, "chat", map[string]any{"room": "standup", "text": "let me in"})
	}
	callAck(t, c, call.CodeNameTaken, "join", map[string]any{"room": "standup", "name": "ANN"})
	callAck(t, a, call.CodeBadRequest, "join", map[string]any{"room": c.ID, "name": "Ann"})
	// Nothing reached a before b's next chat: events arrive in order.
	callAck(t, b, "", "chat", map[string]any{"room": "standup", "text": "sentinel"})
	for ev := range a.Events() {
		if ev.Name != "chat" {
			t.Fatalf("a got %s %s from a stranger", ev.Name, ev.Args)
		}
		var m map[string]any
		if ev.Decode(0, &m); m["text"] != "sentinel" {
			t.Fatalf("a got chat %v", m)
		}
		break
	}

	// A passcode set on node 1 holds on node 3; an unlisted room on node
	// 2 stays unlisted for a joiner on node 3.
	callAck(t, a, "", "join", map[string]any{"room": "board", "name": "Ann", "passcode": "correct horse"})
	callAck(t, c, call.CodeBadPasscode, "join", map[string]any{"room": "board", "name": "Cy"})
	callAck(t, c, call.CodeBadPasscode, "join", map[string]any{"room": "board", "name": "Cy", "passcode": "wrong"})
	if got := callAck(t, c, "", "join", map[string]any{"room": "board", "name": "Cy", "passcode": "correct horse"}); len(got.Peers) != 1 {
		t.Fatalf("board peers %+v", got.Peers)
	}
	callAck(t, b, "", "join", map[string]any{"room": "quiet", "name": "Bob", "unlisted": true})
	if got := join(t, c, "quiet", "Cy"); got.Listed {
		t.Fatal("an unlisted room became listed on another node")
	}
	list.until(t, home, map[string]int{"standup": 2, "elsewhere": 1, "board": 2})

	// Leaving and disconnecting are told across nodes, and the list follows.
	callAck(t, b, "", "leave", map[string]any{"room": "standup"})
	if m := next[call.Member](t, a, "peer-left"); m.ID != b.ID {
		t.Fatalf("peer-left %+v", m)
	}
	c.Close()
	if m := next[call.Member](t, a, "peer-left"); m.ID != c.ID {
		t.Fatalf("peer-left %+v after c disconnected", m)
	}
	list.until(t, home, map[string]int{"standup": 1, "board": 1})
}

// TestCapAcrossNodes: when 3 × cap people join one room at the same
// moment on three nodes, exactly cap get in, every time.
func TestCapAcrossNodes(t *testing.T) {
	r := redistest.Start(t)
	const roomCap, perNode = 3, 3
	var nodes []*node
	for range 3 {
		nodes = append(nodes, newNode(t, r.Addr(), call.Config{MaxRoomSize: roomCap}, callredis.Config{}))
	}
	var clients []*sioclient.Client
	for _, n := range nodes {
		for range perNode {
			clients = append(clients, n.dial())
		}
	}
	for round := range 5 {
		room := fmt.Sprint("crowd ", round)
		start := make(chan struct{})
		codes := make([]string, len(clients))
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Go(func() {
				<-start
				var a reply
				if err := c.Call(ctx(t), &a, "join", map[string]any{"room": room, "name": fmt.Sprint("p", i)}); err != nil {
					codes[i] = err.Error()
					return
				}
				codes[i] = a.Error.Code
			})
		}
		close(start)
		wg.Wait()
		in := 0
		for _, code := range codes {
			switch code {
			case "":
				in++
			case call.CodeRoomFull:
			default:
				t.Fatalf("round %d: a join answered %q", round, code)
			}
		}
		if in != roomCap {
			t.Fatalf("round %d: %d joined a room of %d: %q", round, in, roomCap, codes)
		}
		if n := nodes[0].rdb.HLen(ctx(t), "noom:call:members:"+room).Val(); n != roomCap {
			t.Fatalf("round %d: redis has %d members", round, n)
		}
		for i, c := range clients { // a socket may be in 4 rooms at most
			if codes[i] == "" {
				callAck(t, c, "", "leave", map[string]any{"room": room})
			}
		}
	}
}

// TestDeadNodeReaped: a node that loses Redis for good without leaving
// (its client closed, as if killed) has its members removed by the others
// within the lease, and the room is told.
func TestDeadNodeReaped(t *testing.T) {
	r := redistest.Start(t)
	const lease = 600 * time.Millisecond
	rcfg := callredis.Config{LeaseTTL: lease}
	n1 := newNode(t, r.Addr(), call.Config{}, rcfg)
	n2 := newNode(t, r.Addr(), call.Config{}, rcfg)
	doomed := newNode(t, r.Addr(), call.Config{}, rcfg)
	home := n2.dial()
	list := subscribeList(t, home)
	a, d1, d2 := n1.dial(), doomed.dial(), doomed.dial()
	join(t, a, "wake", "Ann")
	join(t, d1, "wake", "Dee")
	join(t, d2, "wake", "Dot")
	list.until(t, home, map[string]int{"wake": 3})

	killed := time.Now()
	doomed.rdb.Close() // the adapter and the registry lose Redis, nobody leaves
	left := map[string]bool{}
	for len(left) < 2 {
		left[next[call.Member](t, a, "peer-left").ID] = true
	}
	took := time.Since(killed)
	if !left[d1.ID] || !left[d2.ID] {
		t.Fatalf("peer-left for %v", left)
	}
	if took > lease*4/3+2*time.Second { // a generous bound: the lease and one beat

		t.Errorf("dead node's members gone after %v, lease %v", took, lease)
	}
	t.Logf("dead node's members removed %v after it died (lease %v)", took, lease)
	list.until(t, home, map[string]int{"wake": 1})
	if got := join(t, n2.dial(), "wake", "Dee"); !slices.Equal(got.Peers, []call.Member{{ID: a.ID, Name: "Ann"}}) {
		t.Fatalf("peers after the reap: %+v", got.Peers)
	}
	if n := n1.rdb.SCard(ctx(t), "noom:call:node:"+doomed.registry.NodeID()).Val(); n != 0 {
		t.Fatalf("the dead node still has %d members in redis", n)
	}
	if got := n1.metric("noom_call_registry_reaped_members_total", "") +
		n2.metric("noom_call_registry_reaped_members_total", ""); got != 2 {
		t.Errorf("reaped %v members, want 2", got)
	}
}
