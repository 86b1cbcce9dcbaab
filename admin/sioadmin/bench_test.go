package sioadmin

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/signalingtest"
)

// BenchmarkHook is what the hub pays per event with one development-mode
// admin attached: the Event hook queueing an event in (the rate limit
// lets everything through, the queue drops the oldest).
//
// Measured on the shared 2-core machine (-benchtime 2s, load about 4):
// 535 ns/op before the hook asked the rate limit first and stopped copying
// the event; 129 ns/op after. 0 B/op, 0 allocs/op.
func BenchmarkHook(b *testing.B) {
	ac := testConn(b, Config{EventRate: 1 << 30})
	ac.a.cfg.Now = time.Now
	ac.a.admins.Store(&[]*adminConn{ac})
	obs := ac.a.devObserver()
	e := signaling.MessageEvent{Direction: signaling.In, Namespace: "/", Event: "signal", SID: "abcdefghijklmnopqrst",
		Bytes: 120, Args: []any{json.RawMessage(`{"sdp":"v=0"}`)}}
	b.ReportAllocs()
	for b.Loop() {
		obs.Event(e)
	}
}

// BenchmarkBroadcast is the hub broadcasting to a room of N loopback
// WebSocket clients, with no admin, a production-mode admin, and a
// development-mode admin attached (a real client on the admin namespace,
// draining its stream). One op is one broadcast delivered to every client.
//
// SIOADMIN_BENCH_SOCKETS sets N (default 1000). Measured on the shared
// 2-core machine (load 2 to 3; ns/op is mostly the in-process clients
// reading), ms per broadcast:
//
//	N = 1000, -benchtime 100x -count 3:  none 15.0 / 15.6 / 14.9,
//	  production 15.3 / 15.6 / 14.9, development 15.3 / 15.2 / 14.7
//	  (B/op 922 KB → 1.04 MB in development: the recipient list and the
//	  admin's stream)
//	N = 9000, -benchtime 20x -count 2:   none 220 / 133, production
//	  132 / 140, development 150 / 138 (best of each: +3.6 % in
//	  development; B/op 8.3 → 10.0 MB)
func BenchmarkBroadcast(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("SIOADMIN_BENCH_SOCKETS")); err == nil && v > 0 {
		n = v
	}
	for _, mode := range []string{"none", "production", "development"} {
		b.Run(mode, func(b *testing.B) {
			cfg := Config{Insecure: true, Mode: Development}
			if mode == "production" {
				cfg.Mode = Production
			}
			h := newHub(b, cfg)
			h.srv.OnConnection(func(s *signaling.Socket) { s.Join("room") })
			var got atomic.Int64
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for range n {
				c, err := signalingtest.Dial(ctx, h.url, signalingtest.Options{OnEvent: func(signalingtest.Event) { got.Add(1) }})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { c.Close() })
			}
			if mode != "none" {
				admin, err := signalingtest.Dial(ctx, h.url, signalingtest.Options{Namespace: "/admin", OnEvent: func(signalingtest.Event) {}})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { admin.Close() })
			}
			for h.srv.Lookup("/").RoomSize("room") < n { // joins run after the CONNECT reply
				time.Sleep(time.Millisecond)
			}
			room := h.srv.Lookup("/").To("room")
			arg := json.RawMessage(`{"type":"candidate","candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host"}`)
			b.ReportAllocs()
			b.ResetTimer()
			sent := int64(0)
			for b.Loop() {
				if err := room.Emit("signal", arg); err != nil {
					b.Fatal(err)
				}
				sent++
				deadline := time.Now().Add(10 * time.Second)
				for got.Load() < sent*int64(n) {
					if time.Now().After(deadline) {
						b.Fatalf("broadcast %d: %d of %d deliveries; %d sockets left", sent, got.Load(), sent*int64(n), h.srv.Lookup("/").Len())
					}
					time.Sleep(20 * time.Microsecond)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(sent*int64(n)), "ns/delivery")
		})
	}
}
