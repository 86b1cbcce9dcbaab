package call_test

import (
	"fmt"
	"testing"

	"github.com/noomrtc/noom/signaling/call"
)

// TestJoinChurnLimits: one socket, and all the sockets of one IP together,
// may change rooms only so fast, and one IP may create rooms only so fast;
// joining an existing room does not count as creating one.
func TestJoinChurnLimits(t *testing.T) {
	t.Run("socket", func(t *testing.T) {
		e := newEnv(t, call.Config{JoinBurst: 4, JoinsPerSecond: 0.001})
		a := e.dial()
		for range 2 {
			join(t, a, "toggle", "A")
			mustOK(t, do(t, a, "leave", map[string]any{"room": "toggle"}))
		}
		join(t, a, "toggle", "A")
		join(t, a, "second", "A")
		mustOK(t, do(t, a, "leave", map[string]any{"room": "toggle"})) // leaving is always allowed
		mustFail(t, do(t, a, "join", map[string]any{"room": "toggle", "name": "A"}), call.CodeRateLimited)
		join(t, e.dial(), "toggle", "B") // another socket is not affected
	})
	t.Run("ip", func(t *testing.T) {
		e := newEnv(t, call.Config{IPJoinBurst: 6, IPJoinsPerSecond: 0.001})
		for i := range 3 {
			c := e.dial()
			join(t, c, "r1", fmt.Sprint("A", i))
			join(t, c, "r2", fmt.Sprint("A", i))
		}
		mustFail(t, do(t, e.dial(), "join", map[string]any{"room": "r1", "name": "late"}), call.CodeRateLimited)
		if got := testutilCounter(t, e, "noom_call_joins_total", call.CodeRateLimited); got != 1 {
			t.Errorf("joins_total{result=rate_limited} = %v", got)
		}
	})
	t.Run("create", func(t *testing.T) {
		e := newEnv(t, call.Config{IPCreateBurst: 3, IPCreatesPerSecond: 0.001})
		a, b := e.dial(), e.dial()
		for i := range 3 {
			join(t, a, fmt.Sprint("room", i), "A")
		}
		mustFail(t, do(t, b, "join", map[string]any{"room": "room3", "name": "B"}), call.CodeRateLimited)
		join(t, b, "room0", "B")
	})
}

// TestStatsBounded is from finding 8: the call-stats table was one global
// table of 100,000 entries anyone could fill, and a disconnect scanned all
// of it. Reports are now per socket, for at most MaxStatsPeers peers, and go
// with the socket.
func TestStatsBounded(t *testing.T) {
	e := newEnv(t, call.Config{MaxStatsPeers: 3})
	a, b := e.dial(), e.dial()
	join(t, a, "r", "A")
	join(t, b, "r", "B")
	report := func(peer string, rtt float64) ack {
		return do(t, a, "call-stats", map[string]any{"peer": peer, "state": "connected", "candidateType": "host", "protocol": "udp", "rttMs": rtt})
	}
	for i := range 3 {
		mustOK(t, report(fmt.Sprint("peer", i), 1))
	}
	mustFail(t, report("peer3", 1), call.CodeBadRequest)
	mustOK(t, report("peer0", 7)) // an update is not a new entry
	st := e.svc.Stats()
	if len(st) != 3 || st[0].Peer != "peer0" || st[0].RTTMs != 7 || st[0].SID != a.ID {
		t.Fatalf("stats %+v", st)
	}
	a.Close()
	// b's peer-left comes after a's state is gone.
	if _, err := b.Next(ctx(t), "peer-left"); err != nil {
		t.Fatal(err)
	}
	if st := e.svc.Stats(); len(st) != 0 {
		t.Fatalf("stats after disconnect: %+v", st)
	}
}

// TestTURNPresence is finding 5 (call side): TURN credentials only for a
// socket in a room, and Present follows the socket.
func TestTURNPresence(t *testing.T) {
	e := newEnv(t, call.Config{})
	a, b := e.dial(), e.dial()
	mustFail(t, do(t, a, "ice-servers", map[string]any{}), call.CodeNotInRoom)
	if e.svc.Present(a.ID) {
		t.Fatal("present before joining")
	}
	join(t, a, "r", "A")
	join(t, b, "r", "B")
	if ice := mustOK(t, do(t, a, "ice-servers", map[string]any{})); len(ice.IceServers) != 2 {
		t.Fatalf("ice-servers %+v", ice)
	}
	if !e.svc.Present(a.ID) || !e.svc.Present(b.ID) || e.svc.Present("nobody") {
		t.Fatal("presence wrong while in a room")
	}
	mustOK(t, do(t, a, "leave", map[string]any{"room": "r"}))
	if _, err := b.Next(ctx(t), "peer-left"); err != nil {
		t.Fatal(err)
	}
	if e.svc.Present(a.ID) {
		t.Fatal("present after leaving")
	}
	mustFail(t, do(t, a, "ice-servers", map[string]any{}), call.CodeNotInRoom)
	join(t, a, "r", "A")
	a.Close()
	if _, err := b.Next(ctx(t), "peer-left"); err != nil {
		t.Fatal(err)
	}
	if e.svc.Present(a.ID) {
		t.Fatal("present after disconnecting")
	}
}

// TestNoICEProvider: without STUN/TURN, ice-servers is unavailable and a
// join carries an empty list.
func TestNoICEProvider(t *testing.T) {
	e := newEnvICE(t, call.Config{}, nil)
	a := e.dial()
	if got := join(t, a, "r", "A"); got.IceServers == nil || len(got.IceServers) != 0 {
		t.Fatalf("join iceServers %+v", got.IceServers)
	}
	mustFail(t, do(t, a, "ice-servers", map[string]any{}), call.CodeUnavailable)
}
