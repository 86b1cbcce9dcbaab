package signaling

import (
	"encoding/json"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// benchEmitOne measures one 1:1 event from the hub to one loopback
// WebSocket client that reads and discards; emit sends one. At most 64
// events are in flight.
func benchEmitOne(b *testing.B, emit func(h *hub, s *Socket, sid string) error) {
	const window = 64
	h := newHub(b, Config{PingInterval: time.Hour, PingTimeout: time.Hour})
	sockets := make(chan *Socket, 1)
	h.srv.OnConnection(func(s *Socket) { sockets <- s })
	conn, sid := benchClient(b, h)
	s := <-sockets
	var delivered atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 256)
		for {
			_, r, err := conn.NextReader()
			if err != nil {
				return
			}
			if k, _ := io.ReadFull(r, buf[:1]); k == 1 && buf[0] == '4' {
				delivered.Add(1)
			}
			io.CopyBuffer(io.Discard, r, buf)
		}
	}()
	b.Cleanup(func() { conn.Close(); <-done })
	wait := func(want int64) {
		for delivered.Load() < want {
			runtime.Gosched()
		}
	}
	sent := int64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := emit(h, s, sid); err != nil {
			b.Fatal(err)
		}
		sent++
		if sent > window {
			wait(sent - window)
		}
	}
	wait(sent)
}

var benchArg = json.RawMessage(`{"type":"candidate","candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host"}`)

// BenchmarkEmitTo is the server's 1:1 path: To(sid).Emit from outside a
// handler, with a raw JSON argument as a relay forwards it.
func BenchmarkEmitTo(b *testing.B) {
	benchEmitOne(b, func(h *hub, _ *Socket, sid string) error {
		return h.srv.To(sid).Emit("signal", "abcdefghijklmnopqrst", benchArg)
	})
}

// BenchmarkSocketEmit is Socket.Emit with the same arguments.
//
// Measured on the project's 2-core machine, shared (load 3 to 15), old
// core (bb5856e) against this one run side by side, -count 6 -benchtime
// 2000x, medians (ns/op is mostly the in-process client's reading):
//
//	BenchmarkEmitTo           16 → 9 allocs/op,  812 → 445 B/op
//	BenchmarkSocketEmit       12 → 8 allocs/op,  704 → 328 B/op
//	BenchmarkRelay/64         72 → 54 allocs/op, 4454 → 3573 B/op (round trip, both clients)
//	BenchmarkRelay/4096       88 → 70 allocs/op, 63.8 → 43.9 KB/op
//	BenchmarkEncodeEvent      10 → 6 allocs/op,  5864 → 3648 B/op, 9.3 → 7.2 µs
func BenchmarkSocketEmit(b *testing.B) {
	benchEmitOne(b, func(_ *hub, s *Socket, _ string) error {
		return s.Emit("signal", "abcdefghijklmnopqrst", benchArg)
	})
}
