package signaling

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// eventOfSize returns `421["big","xxx…"]`, exactly n bytes long.
func eventOfSize(n int) string {
	const head, tail = `421["big","`, `"]`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

func TestMaxPayloadWebSocket(t *testing.T) {
	h := newHub(t, Config{MaxPayload: 1000})
	reasons := make(chan string, 1)
	h.srv.OnConnection(func(s *Socket) {
		s.On("big", func(args []any, ack Ack) {
			var v string
			Decode(args[0], &v)
			ack(len(v))
		})
		s.OnDisconnect(func(r string) { reasons <- r })
	})
	c, _ := h.connect("/")
	c.send(eventOfSize(1000)) // exactly MaxPayload: accepted
	c.expect(`431[987]`)
	c.send(eventOfSize(1001))
	c.expectClosed()
	if r := recv(t, reasons, "disconnect"); r != ReasonPayloadTooLarge {
		t.Errorf("reason %q, want %q", r, ReasonPayloadTooLarge)
	}
	h.waitMetric(`noom_signaling_payload_rejections_total{transport="websocket"}`, 1)
	h.waitMetric(`noom_signaling_disconnects_total{reason="payload too large"}`, 1)
	if got := h.metric(`noom_signaling_payload_rejections_total{transport="polling"}`); got != 0 {
		t.Errorf("polling rejections %v", got)
	}
}

func TestMaxPayloadPolling(t *testing.T) {
	h := newHub(t, Config{MaxPayload: 1000})
	h.srv.OnConnection(func(s *Socket) {
		s.On("big", func(args []any, ack Ack) {
			var v string
			Decode(args[0], &v)
			ack(len(v))
		})
	})
	p, open := h.openPoll(nil)
	if open["maxPayload"] != 1000.0 {
		t.Errorf("open packet maxPayload %v", open["maxPayload"])
	}
	p.post("40")
	var pending []string
	if got := p.next(&pending); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("connect: %q", got)
	}
	// A body of exactly MaxPayload bytes is accepted.
	p.post(eventOfSize(1000))
	if got := p.next(&pending); got != `431[987]` {
		t.Fatalf("ack %q", got)
	}
	// One byte more is refused with 413 and ends the session.
	status, body := p.do(http.MethodPost, eventOfSize(1001), nil)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "Payload too large") {
		t.Fatalf("POST over the limit: %d %q", status, body)
	}
	if status, body := p.do(http.MethodGet, "", nil); status != http.StatusBadRequest {
		t.Errorf("GET after rejection: %d %q", status, body)
	}

	// A chunked body, with no Content-Length, is bounded as it is read.
	p2, _ := h.openPoll(nil)
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 11; i++ {
			if _, err := pw.Write([]byte(strings.Repeat("4", 100))); err != nil {
				return
			}
		}
		pw.Close()
	}()
	if status, _ := p2.do(http.MethodPost, "", pr); status != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked POST over the limit: %d", status)
	}
	pr.Close()
	h.waitMetric(`noom_signaling_payload_rejections_total{transport="polling"}`, 2)
	h.waitMetric(`noom_signaling_disconnects_total{reason="payload too large"}`, 2)
}

// TestSlowConsumer checks that a client that never reads is disconnected
// once its queue passes MaxQueueBytes, while another client in the same
// room receives every broadcast at once and no broadcast ever waits.
func TestSlowConsumer(t *testing.T) {
	const msgSize = 4 << 10
	h := newHub(t, Config{MaxQueueBytes: 64 << 10, MaxPayload: 16 << 10}, withServerSendBuffer(4096))
	reasons := make(chan string, 4)
	h.srv.OnConnection(func(s *Socket) {
		s.Join("room")
		s.OnDisconnect(func(r string) { reasons <- r })
	})
	fast, _ := h.connect("/")

	// The slow client connects, then reads nothing more, with a small
	// receive buffer so that little hides in the kernel.
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	conn, _, err := d.Dial(h.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	slow := &rawWS{t: t, conn: conn}
	slow.expectPrefix("0{")
	slow.send("40")
	slow.expectPrefix(`40{"sid":`)

	// A polling client that never polls is just as slow.
	p, _ := h.openPoll(nil)
	p.post("40")
	var pending []string
	p.next(&pending)
	waitFor(t, 5*time.Second, func() bool { return len(roomsOf(h.srv.Of("/"))["room"]) == 3 },
		func() string { return "clients not in the room" })

	payload := strings.Repeat("y", msgSize)
	var slowest time.Duration
	disconnected := 0
	for i := 0; i < 300; i++ {
		start := time.Now()
		if err := h.srv.To("room").Emit("m", i, payload); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
		want := fmt.Sprintf(`42["m",%d,"%s"]`, i, payload)
		fast.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if got, _ := fast.next(); got != want {
			t.Fatalf("fast client, message %d: got %.40q", i, got)
		}
	drain:
		for {
			select {
			case r := <-reasons:
				if r != ReasonSlowConsumer {
					t.Fatalf("disconnect reason %q", r)
				}
				disconnected++
			default:
				break drain
			}
		}
	}
	for disconnected < 2 {
		if r := recv(t, reasons, "slow consumer disconnect"); r != ReasonSlowConsumer {
			t.Fatalf("disconnect reason %q", r)
		}
		disconnected++
	}
	// Blocking on the slow client would take WriteTimeout (10s); allow
	// for a loaded machine.
	if slowest > time.Second {
		t.Errorf("a broadcast took %v", slowest)
	}
	slow.expectClosed()
	if status, _ := p.do(http.MethodGet, "", nil); status != http.StatusBadRequest {
		t.Errorf("GET after slow consumer: %d", status)
	}
	h.waitMetric(`noom_signaling_slow_consumer_disconnects_total`, 2)
	h.waitMetric(`noom_signaling_disconnects_total{reason="slow consumer"}`, 2)
	if n := h.srv.Of("/").Len(); n != 1 {
		t.Errorf("%d sockets left, want the fast one", n)
	}
}

func TestMaxRoomsPerSocket(t *testing.T) {
	h := newHub(t, Config{MaxRoomsPerSocket: 3})
	sockets := collectSockets(h.srv.Of("/"))
	_, id := h.connect("/")
	s := sockets.get(t, id)
	if err := s.Join("a", "b"); err != nil { // with its own room: 3
		t.Fatal(err)
	}
	if err := s.Join("a"); err != nil {
		t.Errorf("joining a room again: %v", err)
	}
	if err := s.Join("c"); !errors.Is(err, ErrTooManyRooms) {
		t.Errorf("Join past the limit: %v", err)
	}
	s.Leave("b")
	if err := s.Join("c", "d"); !errors.Is(err, ErrTooManyRooms) {
		t.Errorf("Join of two past the limit: %v", err)
	}
	if !sameSet(s.Rooms(), []string{"a", id}) {
		t.Errorf("rooms after a refused Join: %v", s.Rooms())
	}
	// SocketsJoin skips a socket at its limit.
	h.srv.SocketsJoin("x", "y")
	if !sameSet(s.Rooms(), []string{"a", id}) {
		t.Errorf("SocketsJoin past the limit: %v", s.Rooms())
	}
	h.srv.SocketsJoin("x")
	if !sameSet(s.Rooms(), []string{"a", "x", id}) {
		t.Errorf("SocketsJoin: %v", s.Rooms())
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[string]int)
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestMaxConnsPerIP(t *testing.T) {
	h := newHub(t, Config{MaxConnsPerIP: 2})
	ws := h.dial("")
	ws.expectPrefix("0{")
	p, _ := h.openPoll(nil)

	if got := wsDialStatus(t, h.wsURL(""), nil); got != http.StatusTooManyRequests {
		t.Errorf("third session over WebSocket: %d", got)
	}
	p3 := &rawPoll{t: t, h: h, client: h.hs.Client()}
	status, body := p3.do(http.MethodGet, "", nil)
	if status != http.StatusTooManyRequests || body != `{"code":3,"message":"Too many connections from this address"}` {
		t.Errorf("third session over polling: %d %s", status, body)
	}
	if got := h.metric(`noom_signaling_handshakes_total{result="rejected"}`); got != 2 {
		t.Errorf("rejected handshakes %v", got)
	}

	// Upgrading a session does not count as a new one.
	up, _, err := websocket.DefaultDialer.Dial(h.wsURL("&sid="+p.sid), nil)
	if err != nil {
		t.Fatalf("upgrade at the limit: %v", err)
	}
	defer up.Close()
	up.WriteMessage(websocket.TextMessage, []byte("2probe"))
	up.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, b, err := up.ReadMessage(); err != nil || string(b) != "3probe" {
		t.Fatalf("probe: %q %v", b, err)
	}
	up.WriteMessage(websocket.TextMessage, []byte("5"))
	h.waitMetric(`noom_signaling_upgrades_total{result="ok"}`, 1)

	// A session that ends frees its slot.
	ws.conn.Close()
	h.waitMetric(`noom_signaling_open_connections{transport="websocket"}`, 1)
	p4, _ := h.openPoll(nil)
	_ = p4
	if got := wsDialStatus(t, h.wsURL(""), nil); got != http.StatusTooManyRequests {
		t.Errorf("over the limit again: %d", got)
	}
}

func TestMaxAttachments(t *testing.T) {
	h := newHub(t, Config{MaxAttachments: 2})
	got := make(chan []any, 1)
	reasons := make(chan string, 1)
	h.srv.OnConnection(func(s *Socket) {
		s.On("e", func(args []any, _ Ack) { got <- args })
		s.OnDisconnect(func(r string) { reasons <- r })
	})
	c, _ := h.connect("/")
	c.send(`452-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1})
	c.sendBinary([]byte{2, 3})
	args := recv(t, got, "event")
	if len(args) != 2 || string(args[0].([]byte)) != "\x01" || string(args[1].([]byte)) != "\x02\x03" {
		t.Fatalf("args %v", args)
	}
	c.send(`453-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`)
	c.expectClosed()
	if r := recv(t, reasons, "disconnect"); r != ReasonParseError {
		t.Errorf("reason %q", r)
	}
}

func TestMaxNamespaces(t *testing.T) {
	h := newHub(t, Config{MaxNamespaces: 2})
	h.srv.Of("/a")
	h.srv.Of("/b")
	c, _ := h.connect("/")
	c.send("40/a,")
	c.expectPrefix(`40/a,{"sid":"`)
	c.send("40/b,")
	c.expect(`44/b,{"message":"Too many namespaces"}`)
	// Leaving one makes room for another.
	c.send("41/a,")
	c.send("40/b,")
	c.expectPrefix(`40/b,{"sid":"`)
}

func TestConnectTimeout(t *testing.T) {
	h := newHub(t, Config{ConnectTimeout: 500 * time.Millisecond, PingInterval: 50 * time.Millisecond, PingTimeout: 5 * time.Second})
	start := time.Now()
	idle := h.dial("")
	idle.expectPrefix("0{")
	// A session that joins a namespace in time stays.
	joined, _ := h.connect("/")

	idle.expectClosed()
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("closed after %v, before the connect timeout", d)
	}
	h.waitMetric(`noom_signaling_disconnects_total{reason="connect timeout"}`, 1)
	// Well past the timeout, the joined session is still there.
	joined.pongUntil(start.Add(time.Second))
	joined.send("2")
	if got, _ := joined.nextPonging(); got != "3" {
		t.Errorf("ping answer %q", got)
	}
	if n := h.srv.Of("/").Len(); n != 1 {
		t.Errorf("%d sockets", n)
	}
}

func TestPingTimeout(t *testing.T) {
	// A pong timeout long enough for a loaded machine: what is checked is
	// that an answering client stays and a silent one goes, not how fast.
	h := newHub(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: time.Second})
	reasons := make(chan string, 2)
	h.srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r string) { reasons <- r })
	})

	// A client that answers its pings stays for many intervals.
	alive, _ := h.connect("/")
	alive.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for pings := 0; pings < 6; {
		_, b, err := alive.conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) == "2" {
			pings++
			alive.send("3")
		}
	}
	alive.conn.Close()
	if r := recv(t, reasons, "disconnect"); r != ReasonTransportClose {
		t.Errorf("reason %q", r)
	}

	// A client that does not is closed.
	silent, _ := h.connect("/")
	start := time.Now()
	silent.expectClosed()
	if d := time.Since(start); d < time.Second {
		t.Errorf("closed after %v, before its pong was due", d)
	}
	if r := recv(t, reasons, "disconnect"); r != ReasonPingTimeout {
		t.Errorf("reason %q", r)
	}

	// A polling session that stops polling is gone too: its next request
	// finds no session.
	p, _ := h.openPoll(nil)
	h.waitMetric(`noom_signaling_disconnects_total{reason="ping timeout"}`, 2)
	h.waitMetric(`noom_signaling_open_connections{transport="polling"}`, 0)
	if status, body := p.do(http.MethodGet, "", nil); status != http.StatusBadRequest || !strings.Contains(body, `"code":1`) {
		t.Errorf("GET of a timed out session: %d %s", status, body)
	}
}

func TestDuplicateGetClosesSession(t *testing.T) {
	h := newHub(t, Config{})
	reasons := make(chan string, 1)
	h.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	p, _ := h.openPoll(nil)
	p.post("40")
	var pending []string
	p.next(&pending)

	first := make(chan string, 1)
	go func() {
		status, body := p.do(http.MethodGet, "", nil)
		first <- fmt.Sprint(status, " ", body)
	}()
	s := h.srv.eng.Lookup(p.sid)
	waitFor(t, 5*time.Second, func() bool { return s.State().Polling }, func() string { return "the first GET is not in flight" })

	if status, _ := p.do(http.MethodGet, "", nil); status != http.StatusBadRequest {
		t.Errorf("second GET: %d", status)
	}
	if got := recv(t, first, "first GET"); got != "200 1" {
		t.Errorf("first GET got %q, want the close packet", got)
	}
	if r := recv(t, reasons, "disconnect"); r != ReasonDuplicatePoll {
		t.Errorf("reason %q", r)
	}
	if status, body := p.do(http.MethodGet, "", nil); status != http.StatusBadRequest || !strings.Contains(body, "Session ID unknown") {
		t.Errorf("GET after close: %d %s", status, body)
	}
	h.waitMetric(`noom_signaling_disconnects_total{reason="duplicate poll"}`, 1)
}

func TestBadRequests(t *testing.T) {
	h := newHub(t, Config{})
	client := h.hs.Client()
	for _, tc := range []struct {
		method, query string
		status        int
		body          string
	}{
		{"GET", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"POST", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"GET", "EIO=3&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "EIO=4&transport=carrier-pigeon", 400, `{"code":0,"message":"Transport unknown"}`},
		{"POST", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"GET", "EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`}, // not an upgrade
		{"PUT", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
	} {
		req, _ := http.NewRequest(tc.method, h.url()+"/socket.io/?"+tc.query, strings.NewReader("40"))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(b) != tc.body {
			t.Errorf("%s ?%s: %d %s, want %d %s", tc.method, tc.query, resp.StatusCode, b, tc.status, tc.body)
		}
	}
	if got := wsDialStatus(t, h.wsURL("&sid=nope"), nil); got != http.StatusBadRequest {
		t.Errorf("WebSocket with an unknown sid: %d", got)
	}
	resp, err := client.Get(h.url() + "/elsewhere/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("another path: %d", resp.StatusCode)
	}
}
