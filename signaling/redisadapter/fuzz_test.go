package redisadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
)

// The decoders of what other nodes publish, fuzzed. Seeds: Node's
// messages (testdata/capture) and what this package publishes itself, on
// a node with a real client (noomFrames). Every target checks that a
// rejected message is ErrMalformed and that what is accepted is something
// the hub can encode for its clients.

// offlineNode is a signaling server whose "/" namespace has this
// package's adapter over a Cluster without Redis and without goroutines:
// what the adapter publishes stays in the Cluster's queue.
type offlineNode struct {
	c   *Cluster
	a   *adapter
	srv *signaling.Server
}

func newOfflineNode(tb testing.TB) *offlineNode {
	tb.Helper()
	reg := prometheus.NewRegistry()
	c, err := newCluster(Config{}, nil, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	n := &offlineNode{c: c}
	n.srv, err = signaling.New(signaling.Config{Adapter: func(l signaling.Local) signaling.Adapter {
		n.a = c.newAdapter(l)
		return offlineAdapter{n.a}
	}}, reg)
	if err != nil {
		tb.Fatal(err)
	}
	ns := n.srv.Of("/")
	ns.OnServerSideEmit("greet", func(args []any, ack signaling.Ack) {
		if ack != nil {
			ack(args...)
		}
	})
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.srv.Shutdown(ctx)
		n.endRemote()
		c.cancel()
	})
	return n
}

// offlineAdapter has nothing to unsubscribe.
type offlineAdapter struct{ *adapter }

func (offlineAdapter) Close() error { return nil }

// published takes what the adapter queued for Redis.
func (n *offlineNode) published() []outMsg {
	var out []outMsg
	for {
		select {
		case m := <-n.c.out:
			out = append(out, m)
		default:
			return out
		}
	}
}

// endRemote ends the ack broadcasts other nodes asked for.
func (n *offlineNode) endRemote() {
	n.c.mu.Lock()
	var cancels []context.CancelFunc
	for f := range n.c.remote {
		cancels = append(cancels, *f)
	}
	n.c.mu.Unlock()
	for _, f := range cancels {
		f()
	}
}

// noomFrames is what a Noom node publishes, by kind ("broadcast",
// "request", "response"): it runs the adapter's operations on an offline
// node with a real WebSocket client in "room1", and makes it answer
// Node's captured requests.
func noomFrames(tb testing.TB) map[string][][]byte {
	tb.Helper()
	n := newOfflineNode(tb)
	n.srv.Of("/").OnConnection(func(s *signaling.Socket) { s.Join("room1", "42") })
	hs := httptest.NewServer(n.srv)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := signalingtest.Dial(ctx, hs.URL, signalingtest.Options{Auth: map[string]any{"token": "t"}})
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	go func() { // the client acks what asks for an ack
		for ev := range cl.Events() {
			if ev.AckRequested() {
				ev.Ack(map[string]any{"answer": 42, "bin": []byte{1, 2, 3}})
			}
		}
	}()
	for deadline := time.Now().Add(5 * time.Second); len(n.a.local.Sockets(signaling.BroadcastOptions{Rooms: []string{"room1"}})) == 0; {
		if time.Now().After(deadline) {
			tb.Fatal("the client never joined room1")
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := map[string][][]byte{}
	take := func(kind string) {
		for _, m := range n.published() {
			out[kind] = append(out[kind], m.payload)
		}
	}
	opts := signaling.BroadcastOptions{Rooms: []string{"room1"}, Except: []string{"nobody"}}
	for _, p := range []*signaling.Packet{
		{Event: "hello", Args: []any{"world"}},
		{Event: "mixed", Args: []any{1, -1.5, json.RawMessage(`{"a":[1,"x",null,true]}`), []byte{0, 0xff}, map[string]any{"deep": []any{[]byte("bin")}}, uint64(math.MaxUint64)}},
	} {
		if err := n.a.Broadcast(ctx, p, opts); err != nil {
			tb.Fatal(err)
		}
	}
	if err := n.a.Broadcast(ctx, &signaling.Packet{Event: "vol"}, signaling.BroadcastOptions{Volatile: true, Timeout: 1500 * time.Millisecond}); err != nil {
		tb.Fatal(err)
	}
	take("broadcast")
	n.a.AddSockets(ctx, opts, []string{"room3"})
	n.a.DelSockets(ctx, opts, []string{"room3"})
	n.a.DisconnectSockets(ctx, signaling.BroadcastOptions{Rooms: []string{"nobody"}}, true)
	n.a.ServerSideEmit(ctx, "greet", []any{map[string]any{"x": 1}}, nil)
	take("request")
	for _, c := range readCaptures(tb) {
		if c.kind() == "request" {
			if err := n.a.onRequest(c.payload); err != nil {
				tb.Fatalf("%s: %v", c.name, err)
			}
		}
	}
	time.Sleep(200 * time.Millisecond) // the client's ack of the broadcast with ack
	take("response")
	n.endRemote()
	if len(out["broadcast"]) < 3 || len(out["request"]) < 4 || len(out["response"]) < 5 {
		tb.Fatalf("frames: %d broadcasts, %d requests, %d responses", len(out["broadcast"]), len(out["request"]), len(out["response"]))
	}
	return out
}

// seed adds Node's captured messages of a kind and Noom's own.
func seed(f *testing.F, kind string) {
	for _, c := range readCaptures(f) {
		if c.kind() == kind {
			f.Add(c.payload)
		}
	}
	for _, b := range noomFrames(f)[kind] {
		f.Add(b)
	}
}

// checkValue fails unless v is a tree of the types the decoders promise:
// nil, bool, int64, uint64 (past MaxInt64), finite float64, string,
// []byte, []any and map[string]any.
func checkValue(t *testing.T, v any, depth int) {
	t.Helper()
	if depth > maxValueDepth+1 {
		t.Fatalf("value nested %d deep", depth)
	}
	switch x := v.(type) {
	case nil, bool, int64, string, []byte:
	case uint64:
		if x <= math.MaxInt64 {
			t.Fatalf("uint64 %d fits an int64", x)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("float %v", x)
		}
	case []any:
		for _, e := range x {
			checkValue(t, e, depth+1)
		}
	case map[string]any:
		for _, e := range x {
			checkValue(t, e, depth+1)
		}
	default:
		t.Fatalf("decoded a %T", v)
	}
}

// frames is how the hub encodes an event for clients.
func frames(t *testing.T, event string, args []any) [][]byte {
	t.Helper()
	fr, err := (&signaling.Packet{Namespace: "/", Event: event, Args: args}).Frames()
	if err != nil {
		t.Fatalf("the hub cannot encode %q %#v: %v", event, args, err)
	}
	return fr
}

// sameForClients compares two encodings of an event as a JavaScript
// client reads them: numbers are doubles (a float64 that is a whole
// number goes out as an integer once re-encoded, with the same value).
func sameForClients(t *testing.T, a, b [][]byte) bool {
	t.Helper()
	if len(a) != len(b) || !reflect.DeepEqual(a[1:], b[1:]) {
		return false
	}
	js := func(f []byte) any {
		var v any
		if err := json.Unmarshal(f[bytes.IndexByte(f, '['):], &v); err != nil {
			t.Fatalf("frame %q: %v", f, err)
		}
		return v
	}
	return reflect.DeepEqual(js(a[0]), js(b[0]))
}

func checkOpts(t *testing.T, o wireOpts) {
	t.Helper()
	if o.Rooms == nil || o.Except == nil || o.Timeout < 0 || o.Timeout%time.Millisecond != 0 {
		t.Fatalf("options %+v", o)
	}
}

func malformed(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %v is not ErrMalformed", err)
	}
}

// FuzzDecodeBroadcast: the msgpack [uid, {type, data, nsp}, opts] on
// "socket.io#<nsp>#...". What decodes is encodable for clients, and
// encoding it again gives a message that decodes to what clients would
// get the same.
func FuzzDecodeBroadcast(f *testing.F) {
	seed(f, "broadcast")
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}) // claims 2^32 elements
	f.Fuzz(func(t *testing.T, b []byte) {
		bm, err := decodeBroadcast(b)
		if err != nil {
			malformed(t, err)
			return
		}
		for _, a := range bm.args {
			checkValue(t, a, 1)
		}
		checkOpts(t, bm.opts)
		want := frames(t, bm.event, bm.args)
		again, err := encodeBroadcast(bm.uid, bm.nsp, bm.event, bm.args, bm.opts)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		bm2, err := decodeBroadcast(again)
		if err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		if bm2.uid != bm.uid || bm2.nsp != bm.nsp || !reflect.DeepEqual(bm2.opts, bm.opts) ||
			!sameForClients(t, frames(t, bm2.event, bm2.args), want) {
			t.Fatalf("round trip changed %+v into %+v", bm, bm2)
		}
	})
}

// FuzzApplyRequest: the requests on "socket.io-request#<nsp>#" (JSON,
// msgpack for a broadcast with acks), decoded and applied by a real
// namespace. Whatever it answers decodes again, with lists never null.
func FuzzApplyRequest(f *testing.F) {
	seed(f, "request")
	for _, s := range []string{
		`{"requestId":"r1","rooms":["room1"]}`,                         // SOCKETS, legacy
		`{"uid":"n","requestId":"r2","type":2,"sid":"abc","room":"r"}`, // REMOTE_JOIN, legacy
		`{"uid":"n","requestId":"r3","type":6,"data":["greet",{"x":[1,2.5,"3"]}]}`,
		`{"uid":"n","requestId":"r4","type":1}`,
		`{"uid":"n","type":5,"requestId":"r5","opts":{"rooms":[42,1.5],"except":["a"],"flags":{"timeout":1e300}}}`,
	} {
		f.Add([]byte(s))
	}
	n := newOfflineNode(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		n.published() // what an earlier input left, if it failed
		if err := n.a.onRequest(b); err != nil {
			malformed(t, err)
		}
		n.endRemote()
		for _, m := range n.published() {
			if !strings.HasPrefix(m.channel, n.a.resCh) {
				t.Fatalf("published on %q", m.channel)
			}
			checkAnswer(t, m.payload)
		}
	})
}

// checkAnswer checks one of this node's answers.
func checkAnswer(t *testing.T, b []byte) {
	t.Helper()
	m, err := decodeMessage(b)
	if err != nil {
		t.Fatalf("answer %q does not decode: %v", b, err)
	}
	for _, k := range []string{"sockets", "rooms"} {
		if v, ok := m[k]; ok && v == nil {
			t.Fatalf("answer %s with %s null", b, k)
		}
	}
	if b[0] == '{' && !json.Valid(b) {
		t.Fatalf("answer %s is not JSON", b)
	}
}

// FuzzDecodeResponse: the answers on "socket.io-response#<nsp>#" (JSON,
// msgpack for a client's ack), read as each request's answer handler
// reads them.
func FuzzDecodeResponse(f *testing.F) {
	seed(f, "response")
	f.Add([]byte(`{"requestId":"x","sockets":[{"id":1,"rooms":null,"handshake":{"headers":{"a":["b",2]},"issued":1e20,"query":{"q":[]},"auth":"x"},"data":{"d":[1]}}]}`))
	f.Add([]byte(`{"type":8,"requestId":"x","clientCount":1e19}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			malformed(t, err)
			return
		}
		for _, v := range m {
			checkValue(t, v, 1)
		}
		_ = m.str("requestId")
		if n, ok := m.int("clientCount"); ok {
			if f, isFloat := m["clientCount"].(float64); isFloat && float64(n) != f {
				t.Fatalf("clientCount %v read as %d", f, n)
			}
		}
		frames(t, "ack", []any{m["packet"]})
		frames(t, "ack", []any{m["data"]})
		rooms := strs(m["rooms"])
		if rooms == nil {
			t.Fatal("rooms nil")
		}
		for _, s := range decodeSockets(m["sockets"], "/") {
			if s.Rooms == nil || !json.Valid(s.Handshake.Auth) {
				t.Fatalf("socket %+v", s)
			}
			if d, ok := s.Data.(json.RawMessage); !ok || !json.Valid(d) {
				t.Fatalf("socket data %#v", s.Data)
			}
			// What this node would answer for that socket decodes again.
			out, err := json.Marshal(map[string]any{"requestId": "x", "sockets": encodeSockets([]signaling.SocketInfo{s})})
			if err != nil {
				t.Fatalf("re-encode %+v: %v", s, err)
			}
			checkAnswer(t, out)
		}
	})
}

// FuzzHeartbeat: the payload on "<prefix>-noom#heartbeat#", a node's uid.
func FuzzHeartbeat(f *testing.F) {
	n := newOfflineNode(f)
	f.Add(n.c.uid)
	f.Add("0123456789abcdef")
	f.Add("")
	f.Add(strings.Repeat("a", 65))
	f.Add("node 1\x00")
	f.Fuzz(func(t *testing.T, p string) {
		uid, ok := decodeHeartbeat(p)
		if !ok {
			return
		}
		if uid != p || len(uid) == 0 || len(uid) > 64 || !utf8.ValidString(uid) ||
			strings.ContainsAny(uid, "# \x00") || bytes.ContainsFunc([]byte(uid), func(r rune) bool { return r > 0x7f }) {
			t.Fatalf("accepted heartbeat %q", p)
		}
		n.c.onHeartbeat(p)
		if nodes := n.c.Nodes(); len(nodes) > maxNodes+1 {
			t.Fatalf("%d nodes", len(nodes))
		}
	})
}
