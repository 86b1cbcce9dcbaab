package callredis_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/noomrtc/noom/internal/redistest"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/signaling/call/callredis"
)

var benchCfg = call.Config{EventsPerSecond: 1e9, Burst: 1 << 30, JoinBurst: 1 << 20, IPJoinBurst: 1 << 20, IPCreateBurst: 1 << 20}

// BenchmarkSignal relays an offer-sized signal and waits for the ack and
// the delivery, between two sockets of one node and of two nodes (one
// registry lookup and a trip through Redis pub/sub), over loopback.
func BenchmarkSignal(b *testing.B) {
	r := redistest.Start(b)
	n1 := newNode(b, r.Addr(), benchCfg, callredis.Config{})
	n2 := newNode(b, r.Addr(), benchCfg, callredis.Config{})
	for _, bc := range []struct {
		name  string
		other *node
	}{{"same-node", n1}, {"two-nodes", n2}} {
		runs := 0
		b.Run(bc.name, func(b *testing.B) {
			runs++ // -count reruns this with the earlier clients still there
			room := fmt.Sprint(bc.name, runs)
			alice, bob := n1.dial(), bc.other.dial()
			join(b, alice, room, "A")
			join(b, bob, room, "B")
			sdp := map[string]any{"type": "offer", "sdp": string(make([]byte, 3000))}
			b.ReportAllocs()
			for b.Loop() {
				callAck(b, bob, "", "signal", map[string]any{"to": alice.ID, "data": sdp})
				next[signalMsg](b, alice, "signal")
			}
		})
	}
}

// BenchmarkJoinLeave is one member's join and leave of a room of four,
// through the registry alone: two scripts.
func BenchmarkJoinLeave(b *testing.B) {
	r := redistest.Start(b)
	n := newNode(b, r.Addr(), call.Config{}, callredis.Config{})
	ctx := context.Background()
	for i := range 3 {
		if _, err := n.registry.Join(ctx, call.JoinRequest{Room: "r", SID: fmt.Sprint("s", i), Name: fmt.Sprint("n", i), Cap: 8, Listed: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := n.registry.Join(ctx, call.JoinRequest{Room: "r", SID: "me", Name: "me", Cap: 8})
		if err != nil || res.Code != "" || len(res.Peers) != 3 {
			b.Fatalf("%+v %v", res, err)
		}
		if err := n.registry.Leave(ctx, "r", "me"); err != nil {
			b.Fatal(err)
		}
	}
}
