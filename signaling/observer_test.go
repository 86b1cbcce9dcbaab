package signaling

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestObserver checks that every hook fires with what it should, and that
// hooks run outside the hub's locks: each one reads the hub back (the
// adapter's snapshots, the namespace, the socket), which would deadlock if
// any lock of the hub were held.
func TestObserver(t *testing.T) {
	h := newHub(t, Config{})
	nsp := h.srv.Of("/")
	var mu sync.Mutex
	var log []string
	disconnected := make(chan string, 2)
	record := func(format string, a ...any) {
		// Read the hub back from inside the hook.
		roomsOf(nsp)
		sidsOf(nsp)
		nsp.Len()
		nsp.FetchSockets(context.Background())
		for _, n := range h.srv.namespaces() {
			sidsOf(n)
		}
		mu.Lock()
		log = append(log, fmt.Sprintf(format, a...))
		mu.Unlock()
	}
	remove := h.srv.Observe(Observer{
		Connect: func(e SocketEvent) {
			if s := nsp.Socket(e.SID); s != nil {
				s.Rooms()
			}
			record("connect %s %s %s remote=%t", e.Namespace, e.SID, e.Transport, e.RemoteAddr != "")
		},
		Disconnect: func(e SocketEvent) {
			record("disconnect %s %s %s", e.Namespace, e.SID, e.Reason)
			disconnected <- e.SID
		},
		Join:  func(e RoomEvent) { record("join %s %s %s", e.Namespace, e.Room, e.SID) },
		Leave: func(e RoomEvent) { record("leave %s %s %s", e.Namespace, e.Room, e.SID) },
		Event: func(e MessageEvent) {
			record("%s %s %q sid=%s rooms=%v except=%v n=%d bytes=%t", e.Direction, e.Namespace, e.Event, e.SID,
				e.Rooms, e.Except, e.Recipients, e.Bytes > 0)
		},
	})
	// A second observer with only some hooks set.
	var events int
	remove2 := h.srv.Observe(Observer{Event: func(MessageEvent) { mu.Lock(); events++; mu.Unlock() }})

	done := make(chan struct{})
	sockets := collectSockets(nsp)
	var a, b string
	go func() {
		defer close(done)
		nsp.OnConnection(func(s *Socket) {
			s.On("hello", func(args []any, ack Ack) {
				s.Join("room")
				s.To("room").Emit("relay", args...)
				ack("ok")
			})
		})
		var ca, cb *rawWS
		ca, a = h.connect("/")
		sockets.get(t, a) // its connect hook has run
		cb, b = h.connect("/")
		sockets.get(t, b).Join("room")
		ca.send(`421["hello",1]`)
		ca.expect(`431["ok"]`)
		cb.expect(`42["relay",1]`)
		// Hooks run after the packet is queued: the client may see the
		// ack before the hook has run.
		waitFor(t, 5*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(log) > 0 && strings.HasPrefix(log[len(log)-1], `out / ""`)
		}, func() string { return "no hook for the ack" })
		sockets.get(t, a).Leave("room")
		ca.send("41")
		recv(t, disconnected, "A's disconnect hook")
		h.srv.Emit("bye")
		cb.expect(`42["bye"]`)
		cb.conn.Close()
		recv(t, disconnected, "B's disconnect hook")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: an observer hook runs under a lock of the hub")
	}
	remove()
	remove2()
	h.srv.Emit("after removal")

	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"connect / A websocket remote=true",
		"connect / B websocket remote=true",
		"join / room B",
		`in / "hello" sid=A rooms=[] except=[] n=0 bytes=true`,
		"join / room A",
		`out / "relay" sid= rooms=[room] except=[A] n=1 bytes=true`,
		`out / "" sid=A rooms=[] except=[] n=1 bytes=true`, // the ack
		"leave / room A",
		"disconnect / A client namespace disconnect",
		`out / "bye" sid= rooms=[] except=[] n=1 bytes=true`,
		"leave / room B",
		"disconnect / B transport close",
	}
	got := make([]string, len(log))
	for i, l := range log {
		got[i] = strings.NewReplacer(a, "A", b, "B").Replace(l)
	}
	if !slices.Equal(got, want) {
		t.Errorf("observed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if events != 4 {
		t.Errorf("second observer saw %d events, want 4", events)
	}
}

// TestObserverReentrant checks that hooks may act on the hub: emit, join,
// disconnect.
func TestObserverReentrant(t *testing.T) {
	h := newHub(t, Config{})
	nsp := h.srv.Of("/")
	h.srv.Observe(Observer{
		Connect: func(e SocketEvent) {
			nsp.Socket(e.SID).Join("lobby")
		},
		Join: func(e RoomEvent) {
			if e.Room == "lobby" {
				nsp.To(e.Room).Emit("joined", e.SID)
			}
		},
		Event: func(e MessageEvent) {
			if e.Direction == In && e.Event == "kick" {
				nsp.In(e.SID).DisconnectSockets(false)
			}
		},
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, id := h.connect("/")
		c.expect(`42["joined","` + id + `"]`)
		c.send(`42["kick"]`)
		c.expect("41")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock in a reentrant observer")
	}
}
