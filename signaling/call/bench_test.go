package call_test

import (
	"fmt"
	"testing"

	"github.com/noomrtc/noom/signaling/call"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
)

// BenchmarkSignal relays an offer-sized signal between two sockets of a
// room and waits for both the ack and the delivery: the hot path of a call
// setup, over loopback.
func BenchmarkSignal(b *testing.B) {
	e := newBenchEnv(b)
	alice, bob := e.dial(), e.dial()
	join(b, alice, "r", "A")
	join(b, bob, "r", "B")
	if _, err := alice.Next(ctx(b), "peer-joined"); err != nil {
		b.Fatal(err)
	}
	sdp := map[string]any{"type": "offer", "sdp": string(make([]byte, 3000))}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var a ack
		if err := bob.Call(ctx(b), &a, "signal", map[string]any{"to": alice.ID, "data": sdp}); err != nil || !a.OK {
			b.Fatalf("%v %+v", err, a)
		}
		if _, err := alice.Next(ctx(b), "signal"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoomsRequest asks for the room list with 2,000 listed rooms: it
// is served from the cached build, whatever the number of rooms.
func BenchmarkRoomsRequest(b *testing.B) {
	e := newBenchEnv(b)
	home := e.dial()
	var socks []*sioclient.Client
	for i := range 500 {
		c := e.dial()
		socks = append(socks, c)
		for j := range 4 {
			join(b, c, fmt.Sprintf("room %d-%d", i, j), "x")
		}
	}
	var a ack
	for a.Total < 2000 { // wait for the build
		if err := home.Call(ctx(b), &a, "rooms:subscribe", map[string]any{}); err != nil {
			b.Fatal(err)
		}
		if a.Total < 2000 {
			if _, err := home.Next(ctx(b), "rooms"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := home.Call(ctx(b), &a, "rooms", map[string]any{}); err != nil || len(a.Rooms) != 50 {
			b.Fatalf("%v %d", err, len(a.Rooms))
		}
	}
}

func newBenchEnv(b *testing.B) *env {
	return newEnv(b, call.Config{EventsPerSecond: 1e9, Burst: 1 << 30, JoinBurst: 1 << 20, IPJoinBurst: 1 << 20, IPCreateBurst: 1 << 20})
}
