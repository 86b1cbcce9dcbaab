package signaling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestShutdownDrains checks that Shutdown delivers what is queued, tells
// every client, refuses new sessions, and returns once every goroutine of
// the server is gone (newHub's leak check runs after it).
func TestShutdownDrains(t *testing.T) {
	h := newHub(t, Config{})
	reasons := make(chan string, 4)
	h.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	sockets := collectSockets(h.srv.Of("/"))
	ws, id := h.connect("/")
	sockets.get(t, id)
	idle := h.dial("") // no namespace
	idle.expectPrefix("0{")
	p, _ := h.openPoll(nil)
	p.post("40")
	var pending []string
	p.next(&pending)

	getDone := make(chan string, 1)
	go func() {
		_, body := p.do(http.MethodGet, "", nil)
		getDone <- body
	}()
	s := h.srv.eng.Lookup(p.sid)
	waitFor(t, 5*time.Second, func() bool { return s.State().Polling },
		func() string { return "no GET in flight" })

	const n = 200
	for i := 0; i < n; i++ {
		sockets.get(t, id).Emit("m", i, strings.Repeat("z", 1000))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}

	// Everything queued before Shutdown arrives, then the connection
	// closes, with no DISCONNECT packet (after which socket.io-client would
	// not reconnect).
	for i := 0; i < n; i++ {
		want := fmt.Sprintf(`42["m",%d,"%s"]`, i, strings.Repeat("z", 1000))
		if got, _ := ws.next(); got != want {
			t.Fatalf("message %d: %.30q", i, got)
		}
	}
	ws.expectClosed()
	idle.expectClosed()
	if got := recv(t, getDone, "GET"); got != "1" {
		t.Errorf("GET in flight got %q", got)
	}
	for i := 0; i < 2; i++ {
		if r := recv(t, reasons, "disconnect"); r != ReasonServerShuttingDown {
			t.Errorf("reason %q", r)
		}
	}
	// New sessions are refused.
	p2 := &rawPoll{t: t, h: h, client: h.hs.Client()}
	if status, body := p2.do(http.MethodGet, "", nil); status != http.StatusServiceUnavailable {
		t.Errorf("handshake after Shutdown: %d %s", status, body)
	}
	if got := wsDialStatus(t, h.wsURL(""), nil); got != http.StatusServiceUnavailable {
		t.Errorf("WebSocket after Shutdown: %d", got)
	}
	h.waitMetric(`noom_signaling_disconnects_total{reason="server shutting down"}`, 3)
	for _, tr := range []string{"polling", "websocket"} {
		if got := h.metric(`noom_signaling_open_connections{transport="` + tr + `"}`); got != 0 {
			t.Errorf("open %s connections after Shutdown: %v", tr, got)
		}
	}
}

// TestShutdownDeadline checks that a client that reads nothing cannot hold
// Shutdown past its context, and that what it leaves is closed.
func TestShutdownDeadline(t *testing.T) {
	h := newHub(t, Config{MaxQueueBytes: 8 << 20}, withServerSendBuffer(4096))
	sockets := collectSockets(h.srv.Of("/"))
	c, id := h.connect("/")
	s := sockets.get(t, id)
	big := strings.Repeat("q", 64<<10)
	for i := 0; i < 100; i++ { // 6.4 MB: more than the kernel takes
		if err := s.Emit("m", big); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := h.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	c.conn.Close()
}

// TestShutdownIdle checks that a server that never served shuts down.
func TestShutdownIdle(t *testing.T) {
	t.Cleanup(func() { checkNoLeaks(t) })
	h := startHub(t, Config{})
	if err := h.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.hs.Close()
}

// TestPollingGoodbye checks what a polling client gets when the server
// closes its session: the packets queued (DISCONNECT among them) in one
// GET, and the close packet in the next, as the reference server sends
// them, whether a GET was in flight or not. socket.io-client acts on a
// close packet before the packets in front of it in the same payload.
func TestPollingGoodbye(t *testing.T) {
	for _, inFlight := range []bool{false, true} {
		t.Run(fmt.Sprint("GET in flight ", inFlight), func(t *testing.T) {
			h := newHub(t, Config{})
			sockets := collectSockets(h.srv.Of("/"))
			p, _ := h.openPoll(nil)
			p.post("40")
			var pending []string
			connected := p.next(&pending)
			s := sockets.get(t, strings.TrimSuffix(strings.TrimPrefix(connected, `40{"sid":"`), `"}`))

			var first string
			if inFlight {
				got := make(chan string, 1)
				go func() { _, body := p.do(http.MethodGet, "", nil); got <- body }()
				sess := h.srv.eng.Lookup(p.sid)
				waitFor(t, 5*time.Second, func() bool { return sess.State().Polling },
					func() string { return "no GET in flight" })
				s.Emit("last")
				s.Disconnect(true)
				first = recv(t, got, "GET")
				if first == `42["last"]` { // woken by the first packet
					first += "\x1e" + strings.Join(p.get(), "\x1e")
				}
			} else {
				s.Emit("last")
				s.Disconnect(true)
				first = strings.Join(p.get(), "\x1e")
			}
			if first != "42[\"last\"]\x1e41" {
				t.Errorf("goodbye %q", first)
			}
			if got := p.get(); len(got) != 1 || got[0] != "1" {
				t.Errorf("then %q, want the close packet", got)
			}
			if status, _ := p.do(http.MethodGet, "", nil); status != http.StatusBadRequest {
				t.Errorf("then %d", status)
			}
		})
	}
}
