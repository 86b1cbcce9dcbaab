package call_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/call"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fakeICE struct{}

// ICEServers stands in for the TURN server, which has tests of its own; the
// call service only passes its answer through.
func (fakeICE) ICEServers(host, user string) []call.ICEServer {
	return []call.ICEServer{{URLs: []string{"stun:" + host + ":3478"}}, {URLs: []string{"turn:" + host + ":3478?transport=udp"}, Username: "u:" + user, Credential: "p"}}
}

type env struct {
	t   testing.TB
	url string
	svc *call.Service
	reg *prometheus.Registry
}

func newEnv(t testing.TB, cfg call.Config) *env {
	t.Helper()
	return newEnvICE(t, cfg, fakeICE{})
}

func newEnvICE(t testing.TB, cfg call.Config, ice call.ICEProvider) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	hub, err := signaling.New(signaling.Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RoomsPushInterval == 0 {
		cfg.RoomsPushInterval = 20 * time.Millisecond
	}
	svc, err := call.New(cfg, hub.Of("/"), ice, reg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(hub)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		svc.Close()
		hs.Close()
	})
	return &env{t: t, url: hs.URL, svc: svc, reg: reg}
}

func (e *env) dial() *sioclient.Client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, e.url, sioclient.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

type ack struct {
	OK    bool `json:"ok"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	ID         string           `json:"id"`
	Room       string           `json:"room"`
	Peers      []map[string]any `json:"peers"`
	IceServers []call.ICEServer `json:"iceServers"`
	Rooms      []call.RoomSize  `json:"rooms"`
	Total      int              `json:"total"`
	V          int64            `json:"v"`
	Name       string           `json:"name"`
	Passcode   bool             `json:"passcode"`
	Listed     bool             `json:"listed"`
	TS         int64            `json:"ts"`
	Extra      map[string]any   `json:"-"`
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func do(t testing.TB, c *sioclient.Client, event string, payload any) ack {
	t.Helper()
	var a ack
	if err := c.Call(ctx(t), &a, event, payload); err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	return a
}

func mustOK(t testing.TB, a ack) ack {
	t.Helper()
	if !a.OK {
		t.Fatalf("ack not ok: %+v", a.Error)
	}
	return a
}

func mustFail(t testing.TB, a ack, code string) {
	t.Helper()
	if a.OK || a.Error == nil || a.Error.Code != code || a.Error.Message == "" {
		t.Fatalf("want error %q, got %+v", code, a)
	}
}

func arg(t *testing.T, e sioclient.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if len(e.Args) != 1 || json.Unmarshal(e.Args[0], &m) != nil {
		t.Fatalf("event %s args %s", e.Name, e.Args)
	}
	return m
}

func TestTwoPersonCall(t *testing.T) {
	e := newEnv(t, call.Config{})
	alice, bob := e.dial(), e.dial()

	a := mustOK(t, do(t, alice, "join", map[string]any{"room": "standup", "name": "Alice"}))
	if a.ID != alice.ID || a.Room != "standup" || len(a.Peers) != 0 {
		t.Fatalf("alice join ack %+v", a)
	}
	if len(a.IceServers) != 2 || a.IceServers[1].Username != "u:"+alice.ID || !strings.HasPrefix(a.IceServers[0].URLs[0], "stun:127.0.0.1") {
		t.Fatalf("iceServers %+v", a.IceServers)
	}
	b := mustOK(t, do(t, bob, "join", map[string]any{"room": "standup", "name": "Bob"}))
	if len(b.Peers) != 1 || b.Peers[0]["id"] != alice.ID || b.Peers[0]["name"] != "Alice" {
		t.Fatalf("bob sees peers %+v", b.Peers)
	}
	ev, err := alice.Next(ctx(t), "peer-joined")
	if err != nil {
		t.Fatal(err)
	}
	if m := arg(t, ev); m["id"] != bob.ID || m["name"] != "Bob" {
		t.Fatalf("peer-joined %v", m)
	}

	offer := map[string]any{"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n<script>&"}
	mustOK(t, do(t, bob, "signal", map[string]any{"to": alice.ID, "data": offer}))
	ev, err = alice.Next(ctx(t), "signal")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"data":{"sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n<script>&","type":"offer"},"from":"` + bob.ID + `"}`; string(ev.Args[0]) != want {
		t.Fatalf("signal relayed as %s, want %s", ev.Args[0], want)
	}

	c := mustOK(t, do(t, alice, "chat", map[string]any{"room": "standup", "text": "hi Bob"}))
	if c.TS == 0 {
		t.Fatal("chat ack without ts")
	}
	ev, err = bob.Next(ctx(t), "chat")
	if err != nil {
		t.Fatal(err)
	}
	if m := arg(t, ev); m["from"] != alice.ID || m["name"] != "Alice" || m["text"] != "hi Bob" || int64(m["ts"].(float64)) != c.TS {
		t.Fatalf("chat %v", m)
	}

	waitList(t, bob, subscribe(t, bob), map[string]int{"standup": 2})
	r := mustOK(t, do(t, bob, "rooms", map[string]any{}))
	if len(r.Rooms) != 1 || r.Rooms[0] != (call.RoomSize{Name: "standup", Size: 2}) || r.Total != 1 || r.V < 1 {
		t.Fatalf("rooms %+v", r)
	}
	ice := mustOK(t, do(t, bob, "ice-servers", map[string]any{}))
	if len(ice.IceServers) != 2 {
		t.Fatalf("ice-servers %+v", ice)
	}
	mustOK(t, do(t, bob, "call-stats", map[string]any{"peer": alice.ID, "state": "connected", "candidateType": "relay", "protocol": "udp", "rttMs": 12.5, "bytesSent": 1000, "bytesReceived": 2000}))
	if st := e.svc.Stats(); len(st) != 1 || st[0].CandidateType != "relay" || st[0].RTTMs != 12.5 {
		t.Fatalf("stats %+v", st)
	}

	mustOK(t, do(t, alice, "leave", map[string]any{"room": "standup"}))
	ev, err = bob.Next(ctx(t), "peer-left")
	if err != nil {
		t.Fatal(err)
	}
	if m := arg(t, ev); m["id"] != alice.ID {
		t.Fatalf("peer-left %v", m)
	}
	mustFail(t, do(t, alice, "chat", map[string]any{"room": "standup", "text": "still here?"}), call.CodeNotInRoom)
	mustFail(t, do(t, alice, "leave", map[string]any{"room": "standup"}), call.CodeNotInRoom)
	mustFail(t, do(t, bob, "signal", map[string]any{"to": alice.ID, "data": offer}), call.CodeNotInRoom)

	if got := testutil.ToFloat64(mustCounter(t, e.reg, "noom_call_signals_total", "offer")); got != 1 {
		t.Fatalf("noom_call_signals_total{type=offer} = %v", got)
	}
}

// mustCounter finds a counter's value in the registry by name and the
// value of its single label.
func mustCounter(t *testing.T, reg *prometheus.Registry, name, label string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"}, func() float64 { return m.GetCounter().GetValue() })
			}
		}
	}
	t.Fatalf("no %s{%s}", name, label)
	return nil
}

func TestDisconnectSendsPeerLeftAndRoomsPush(t *testing.T) {
	e := newEnv(t, call.Config{})
	watcher, alice, bob := e.dial(), e.dial(), e.dial()
	list := subscribe(t, watcher)
	mustOK(t, do(t, alice, "join", map[string]any{"room": "r1", "name": "Alice"}))
	mustOK(t, do(t, bob, "join", map[string]any{"room": "r1", "name": "Bob"}))
	waitList(t, watcher, list, map[string]int{"r1": 2})
	alice.Close()
	ev, err := bob.Next(ctx(t), "peer-left")
	if err != nil {
		t.Fatal(err)
	}
	if m := arg(t, ev); m["id"] != alice.ID {
		t.Fatalf("peer-left %v", m)
	}
	waitList(t, watcher, list, map[string]int{"r1": 1})
	bob.Close()
	waitList(t, watcher, list, map[string]int{})
}

func TestValidation(t *testing.T) {
	e := newEnv(t, call.Config{MaxRoomSize: 2})
	a, b, c := e.dial(), e.dial(), e.dial()
	for _, tc := range []struct {
		event   string
		payload any
		code    string
	}{
		{"join", map[string]any{"room": "", "name": "A"}, call.CodeBadRequest},
		{"join", map[string]any{"room": strings.Repeat("r", 65), "name": "A"}, call.CodeBadRequest},
		{"join", map[string]any{"room": "ok", "name": strings.Repeat("n", 33)}, call.CodeBadRequest},
		{"join", map[string]any{"room": "bad\x00room", "name": "A"}, call.CodeBadRequest},
		{"join", map[string]any{"room": "ok", "name": " padded "}, call.CodeBadRequest},
		{"join", map[string]any{"room": 7, "name": "A"}, call.CodeBadRequest},
		{"join", "not an object", call.CodeBadRequest},
		{"join", map[string]any{"room": b.ID, "name": "A"}, call.CodeBadRequest},
		{"signal", map[string]any{"to": b.ID, "data": map[string]any{"type": "bogus"}}, call.CodeBadRequest},
		{"signal", map[string]any{"to": b.ID}, call.CodeBadRequest},
		{"signal", map[string]any{"to": b.ID, "data": map[string]any{"type": "offer", "sdp": strings.Repeat("x", 70_000)}}, call.CodeBadRequest},
		{"signal", map[string]any{"to": "nobody", "data": map[string]any{"type": "offer"}}, call.CodeNotInRoom},
		{"chat", map[string]any{"room": "ok", "text": ""}, call.CodeBadRequest},
		{"chat", map[string]any{"room": "ok", "text": strings.Repeat("é", 2001)}, call.CodeBadRequest},
		{"call-stats", map[string]any{"peer": "", "rttMs": 1}, call.CodeBadRequest},
		{"call-stats", map[string]any{"peer": "x", "rttMs": -1}, call.CodeBadRequest},
	} {
		mustFail(t, do(t, a, tc.event, tc.payload), tc.code)
	}
	mustOK(t, do(t, a, "chat", map[string]any{"room": "nowhere", "text": strings.Repeat("é", 2000)}).fail(t, call.CodeNotInRoom))

	mustOK(t, do(t, a, "join", map[string]any{"room": "small", "name": "A"}))
	mustOK(t, do(t, b, "join", map[string]any{"room": "small", "name": "B"}))
	mustFail(t, do(t, c, "join", map[string]any{"room": "small", "name": "C"}), call.CodeRoomFull)
	// Joining again is not an error and does not count twice.
	again := mustOK(t, do(t, a, "join", map[string]any{"room": "small", "name": "A"}))
	if len(again.Peers) != 1 {
		t.Fatalf("rejoin peers %+v", again.Peers)
	}
	// Signals only reach peers that share a room: the refused one never
	// arrives, b's sent after it is a's first.
	mustFail(t, do(t, c, "signal", map[string]any{"to": a.ID, "data": map[string]any{"type": "offer"}}), call.CodeNotInRoom)
	mustFail(t, do(t, c, "chat", map[string]any{"room": "small", "text": "let me in"}), call.CodeNotInRoom)
	mustOK(t, do(t, b, "signal", map[string]any{"to": a.ID, "data": map[string]any{"type": "candidate"}}))
	if ev := noEventBefore(t, a, "chat", "signal"); arg(t, ev)["from"] != b.ID {
		t.Fatalf("first signal %s, want b's", ev.Args[0])
	}
	// The server survived all of it.
	mustOK(t, do(t, c, "rooms", map[string]any{}))
}

// fail turns an expected failure into an ok ack for chaining in tables.
func (a ack) fail(t *testing.T, code string) ack {
	t.Helper()
	mustFail(t, a, code)
	return ack{OK: true}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, call.Config{EventsPerSecond: 1, Burst: 3})
	a := e.dial()
	for i := 0; i < 3; i++ {
		mustOK(t, do(t, a, "rooms", map[string]any{}))
	}
	mustFail(t, do(t, a, "rooms", map[string]any{}), call.CodeRateLimited)
}

func TestTooManyRooms(t *testing.T) {
	e := newEnv(t, call.Config{MaxRoomsPerSocket: 2})
	a := e.dial()
	mustOK(t, do(t, a, "join", map[string]any{"room": "one", "name": "A"}))
	mustOK(t, do(t, a, "join", map[string]any{"room": "two", "name": "A"}))
	mustFail(t, do(t, a, "join", map[string]any{"room": "three", "name": "A"}), call.CodeTooManyRooms)
}
