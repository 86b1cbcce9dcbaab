package engineio

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// The transport tested alone, under a small application of its own: each
// session echoes what it gets and tells the test what happens to it.

type event struct {
	sid, kind, detail string
}

type echoApp struct {
	ready  bool // call Ready on open
	events chan event
	bye    string // sent from OnShutdown
}

func (a *echoApp) Open(c *Conn, r *http.Request) ConnHandler {
	if a.ready {
		c.Ready()
	}
	a.events <- event{c.ID(), "open", c.Transport()}
	return &echoConn{a, c}
}

type echoConn struct {
	a *echoApp
	c *Conn
}

func (e *echoConn) OnMessage(data []byte, binary bool) error {
	if binary {
		e.c.Send(BinaryFrame(data))
		return nil
	}
	if string(data) == "fail" {
		return io.ErrUnexpectedEOF
	}
	e.c.Send(TextFrame(append([]byte{'4'}, data...)))
	return nil
}

func (e *echoConn) OnUpgrade(from, to string) {
	e.a.events <- event{e.c.ID(), "upgrade", from + ">" + to}
}
func (e *echoConn) OnDrop(reason string, bytes int) { e.a.events <- event{e.c.ID(), "drop", reason} }
func (e *echoConn) OnShutdown() {
	if e.a.bye != "" {
		e.c.Send(TextFrame([]byte("4" + e.a.bye)))
	}
}
func (e *echoConn) OnClose(reason string) { e.a.events <- event{e.c.ID(), "close", reason} }

func startEcho(t *testing.T, cfg Config, app *echoApp) (*Server, *httptest.Server) {
	t.Helper()
	return startEchoBuf(t, cfg, app, 0)
}

// startEchoBuf is startEcho with the server's socket send buffers set to
// sndbuf bytes (0: the kernel's), so that a client that does not read
// fills them soon.
func startEchoBuf(t *testing.T, cfg Config, app *echoApp, sndbuf int) (*Server, *httptest.Server) {
	t.Helper()
	app.events = make(chan event, 64)
	srv, err := NewServer(cfg, app, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	if sndbuf > 0 {
		hs.Listener = sndbufListener{hs.Listener, sndbuf}
	}
	hs.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	return srv, hs
}

func nextEvent(t *testing.T, app *echoApp, kind string) event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-app.events:
			if e.kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}

func dialEcho(t *testing.T, hs *httptest.Server, sid string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(hs.URL, "http") + "/engine.io/?EIO=4&transport=websocket"
	if sid != "" {
		u += "&sid=" + sid
	}
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readWS(t *testing.T, c *websocket.Conn) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return mt, string(b)
}

func TestWebSocketEcho(t *testing.T) {
	app := &echoApp{ready: true}
	_, hs := startEcho(t, Config{}, app)
	c := dialEcho(t, hs, "")
	if _, open := readWS(t, c); !strings.HasPrefix(open, `0{"sid":"`) || !strings.Contains(open, `"upgrades":[]`) {
		t.Fatalf("open packet %q", open)
	}
	nextEvent(t, app, "open")
	c.WriteMessage(websocket.TextMessage, []byte("4hello"))
	if mt, m := readWS(t, c); mt != websocket.TextMessage || m != "4hello" {
		t.Errorf("echo %d %q", mt, m)
	}
	c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	if mt, m := readWS(t, c); mt != websocket.BinaryMessage || m != "\x01\x02\x03" {
		t.Errorf("binary echo %d %q", mt, m)
	}
	echoSizes(t, c)
	c.WriteMessage(websocket.TextMessage, []byte("2"))
	if _, m := readWS(t, c); m != "3" {
		t.Errorf("ping answered %q", m)
	}
	c.WriteMessage(websocket.TextMessage, []byte("4fail"))
	if e := nextEvent(t, app, "close"); e.detail != ReasonParseError {
		t.Errorf("closed for %q", e.detail)
	}
}

// TestPollingUpgrade opens a session on polling, exchanges a message both
// ways, and moves it to WebSocket: the application hears of the upgrade
// and the session goes on over the new transport.
func TestPollingUpgrade(t *testing.T) {
	app := &echoApp{ready: true}
	srv, hs := startEcho(t, Config{}, app)
	base := hs.URL + "/engine.io/?EIO=4&transport=polling"
	get := func(u string) string {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	open := get(base)
	sid, _, _ := strings.Cut(strings.TrimPrefix(open, `0{"sid":"`), `"`)
	if !strings.Contains(open, `"upgrades":["websocket"]`) {
		t.Fatalf("open %q", open)
	}
	resp, err := http.Post(base+"&sid="+sid, "text/plain", strings.NewReader("4one\x1e4two"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := get(base + "&sid=" + sid); got != "4one\x1e4two" {
		t.Errorf("GET %q", got)
	}
	c := dialEcho(t, hs, sid)
	c.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if _, m := readWS(t, c); m != "3probe" {
		t.Fatalf("probe answered %q", m)
	}
	c.WriteMessage(websocket.TextMessage, []byte("5"))
	if e := nextEvent(t, app, "upgrade"); e.sid != sid || e.detail != "polling>websocket" {
		t.Errorf("upgrade event %+v", e)
	}
	c.WriteMessage(websocket.TextMessage, []byte("4three"))
	if _, m := readWS(t, c); m != "4three" {
		t.Errorf("echo after upgrade %q", m)
	}
	if st := srv.Lookup(sid).State(); st.Transport != "websocket" {
		t.Errorf("state %+v", st)
	}
}

// TestReadyTimeout closes a session the application never called Ready
// for, gracefully: a WebSocket client sees a normal close (the reference
// server sends no close packet on WebSocket either).
func TestReadyTimeout(t *testing.T) {
	app := &echoApp{}
	_, hs := startEcho(t, Config{ReadyTimeout: 100 * time.Millisecond}, app)
	c := dialEcho(t, hs, "")
	readWS(t, c) // open
	if e := nextEvent(t, app, "close"); e.detail != ReasonConnectTimeout {
		t.Errorf("closed for %q", e.detail)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, m, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("got %q, %v; want a normal close", m, err)
	}
}

// TestShutdownSaysGoodbye checks that what OnShutdown sends still reaches
// the client before the session closes.
func TestShutdownSaysGoodbye(t *testing.T) {
	app := &echoApp{ready: true, bye: "bye"}
	srv, hs := startEcho(t, Config{}, app)
	c := dialEcho(t, hs, "")
	readWS(t, c)
	nextEvent(t, app, "open")
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	if _, m := readWS(t, c); m != "4bye" {
		t.Errorf("got %q, want the goodbye", m)
	}
	if e := nextEvent(t, app, "close"); e.detail != ReasonServerShuttingDown {
		t.Errorf("closed for %q", e.detail)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestFanoutSlowConsumer sends a broadcast-lane flood to a room of clients
// of which one never reads: it alone is cut off (OnDrop, then OnClose with
// ReasonSlowConsumer), and the producer's Wait is bounded.
func TestFanoutSlowConsumer(t *testing.T) {
	app := &echoApp{ready: true}
	srv, hs := startEchoBuf(t, Config{MaxPayload: 64 << 10, MaxQueueBytes: 256 << 10, MaxQueueDelay: time.Second}, app, 16<<10)
	const n = SmallFanout + 2
	var conns []*Conn
	readers := make(chan int, n)
	for i := range n {
		c := dialEcho(t, hs, "")
		readWS(t, c)
		conns = append(conns, srv.Lookup(nextEvent(t, app, "open").sid))
		if i == 0 {
			continue // the slow one: never reads
		}
		go func() {
			got := 0
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					readers <- got
					return
				}
				got++
			}
		}()
	}
	// More than the bound and the kernel's buffers (16 KB sent, the
	// client's receive window) can hide.
	frame := TextFrame([]byte("4" + strings.Repeat("x", 4<<10)))
	var waited time.Duration
	for range 600 {
		var fo Fanout
		for _, c := range conns {
			fo.Send(c, false, len(conns), frame)
		}
		waited += fo.Wait()
	}
	if e := nextEvent(t, app, "drop"); e.sid != conns[0].ID() || e.detail != DropSlowConsumer {
		t.Errorf("drop %+v", e)
	}
	if e := nextEvent(t, app, "close"); e.sid != conns[0].ID() || e.detail != ReasonSlowConsumer {
		t.Errorf("close %+v", e)
	}
	for _, c := range conns[1:] {
		if c.Closed() {
			t.Errorf("reader %s was cut off too", c.ID())
		}
	}
	t.Logf("producer waited %v in all", waited)
	if st := srv.Stats(); st.SlowConsumers != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestWebSocketTLS runs a session over TLS, where the connection has no
// descriptor of its own: the reader falls back to plain reads and the
// writer to its goroutine. Messages of every size still come back whole.
func TestWebSocketTLS(t *testing.T) {
	app := &echoApp{ready: true, events: make(chan event, 64)}
	srv, err := NewServer(Config{}, app, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewTLSServer(srv)
	t.Cleanup(func() { srv.Shutdown(context.Background()); hs.Close() })
	d := websocket.Dialer{TLSClientConfig: hs.Client().Transport.(*http.Transport).TLSClientConfig}
	c, _, err := d.Dial("wss"+strings.TrimPrefix(hs.URL, "https")+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readWS(t, c) // open
	echoSizes(t, c)
}

// echoSizes sends messages around and past the read buffer's size, and a
// burst of small ones, and checks each comes back whole and in order.
func echoSizes(t *testing.T, c *websocket.Conn) {
	t.Helper()
	for _, n := range []int{0, 10, readBufSize, 3 * readBufSize, 200_000} {
		msg := "4" + strings.Repeat("t", n)
		c.WriteMessage(websocket.TextMessage, []byte(msg))
		if _, m := readWS(t, c); m != msg {
			t.Fatalf("%d bytes: echo of %d bytes", n, len(m))
		}
	}
	for i := range 100 {
		c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "4m%d", i))
	}
	for i := range 100 {
		if _, m := readWS(t, c); m != fmt.Sprintf("4m%d", i) {
			t.Fatalf("burst message %d: %q", i, m)
		}
	}
}

// TestIdleParked checks that idle WebSocket sessions are parked with no
// reader goroutine (on Linux), and that a parked session still reads
// what comes, notices its client leaving, and closes from the server.
func TestIdleParked(t *testing.T) {
	p := newParker()
	if p == nil {
		t.Skip("no epoll here: idle readers keep their goroutine")
	}
	p.close()
	app := &echoApp{ready: true}
	srv, hs := startEcho(t, Config{}, app)
	var clients []*websocket.Conn
	var conns []*Conn
	for range 3 {
		c := dialEcho(t, hs, "")
		readWS(t, c)
		clients = append(clients, c)
		conns = append(conns, srv.Lookup(nextEvent(t, app, "open").sid))
	}
	parked := func() bool {
		for _, c := range conns {
			if !c.State().Parked {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(5 * time.Second)
	for !parked() {
		if time.Now().After(deadline) {
			t.Fatalf("not parked: %+v", conns[0].State())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := srv.Stats().Parked; n != 3 {
		t.Errorf("Stats().Parked = %d", n)
	}
	// Woken by a message: read, answered, parked again later.
	clients[0].WriteMessage(websocket.TextMessage, []byte("4again"))
	if _, m := readWS(t, clients[0]); m != "4again" {
		t.Errorf("echo from a parked session %q", m)
	}
	// A client that leaves while parked is noticed.
	clients[1].Close()
	if e := nextEvent(t, app, "close"); e.sid != conns[1].ID() || e.detail != ReasonTransportClose {
		t.Errorf("close %+v", e)
	}
	// The server closes a parked session: Shutdown does not wait for a
	// reader that will never run.
	for !conns[2].State().Parked {
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with parked sessions: %v", err)
	}
}

// sndbufListener sets each accepted connection's send buffer.
type sndbufListener struct {
	net.Listener
	size int
}

func (l sndbufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(l.size)
	}
	return c, err
}
