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
	s := h.srv.lookup(p.sid)
	waitFor(t, 5*time.Second, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.polling },
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

	// Everything queued before Shutdown arrives, then the goodbye.
	for i := 0; i < n; i++ {
		want := fmt.Sprintf(`42["m",%d,"%s"]`, i, strings.Repeat("z", 1000))
		if got, _ := ws.next(); got != want {
			t.Fatalf("message %d: %.30q", i, got)
		}
	}
	ws.expect("41")
	ws.expectClosed()
	idle.expectClosed()
	if got := recv(t, getDone, "GET"); got != "41\x1e1" && got != "41" {
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
