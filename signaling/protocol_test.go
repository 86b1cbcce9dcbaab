package signaling

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

func TestProtocolErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(c *rawWS)
	}{
		{"binary without a packet announcing it", func(c *rawWS) { c.sendBinary([]byte{1}) }},
		{"text while attachments are due", func(c *rawWS) {
			c.send(`451-["e",{"_placeholder":true,"num":0}]`)
			c.send(`42["e"]`)
		}},
		{"CONNECT_ERROR from a client", func(c *rawWS) { c.send(`44{"message":"x"}`) }},
		{"event without a name", func(c *rawWS) { c.send(`42[1]`) }},
		{"event that is not an array", func(c *rawWS) { c.send(`42{"a":1}`) }},
		{"bad JSON", func(c *rawWS) { c.send(`42["e",]`) }},
		{"placeholder out of range", func(c *rawWS) {
			c.send(`451-["e",{"_placeholder":true,"num":3}]`)
			c.sendBinary([]byte{1})
		}},
		{"open packet from a client", func(c *rawWS) { c.send(`0`) }},
		{"empty message", func(c *rawWS) { c.send(``) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, Config{})
			reasons := make(chan string, 1)
			h.srv.OnConnection(func(s *Socket) {
				s.On("e", func([]any, Ack) { t.Error("handler called") })
				s.OnDisconnect(func(r string) { reasons <- r })
			})
			c, _ := h.connect("/")
			tc.send(c)
			c.expectClosed()
			if r := recv(t, reasons, "disconnect"); r != ReasonParseError {
				t.Errorf("reason %q", r)
			}
		})
	}
}

func TestIgnoredPackets(t *testing.T) {
	h := newHub(t, Config{})
	got := make(chan string, 4)
	h.srv.OnConnection(func(s *Socket) {
		s.On("e", func(args []any, _ Ack) { got <- string(args[0].(json.RawMessage)) })
	})
	c, _ := h.connect("/")
	c.send(`431["an ack nobody waits for"]`)
	c.send(`41/never-joined,`)
	c.send(`6`) // noop
	c.send(`42["e",1]`)
	if v := recv(t, got, "event"); v != "1" {
		t.Errorf("got %s", v)
	}
}

func TestPollingBinaryBothWays(t *testing.T) {
	h := newHub(t, Config{})
	got := make(chan []any, 1)
	h.srv.OnConnection(func(s *Socket) {
		s.On("e", func(args []any, ack Ack) {
			got <- args
			ack([]byte{0xfe}, "ok")
		})
	})
	p, open := h.openPoll(nil)
	if ups := open["upgrades"].([]any); len(ups) != 1 || ups[0] != "websocket" {
		t.Errorf("upgrades %v", ups)
	}
	p.post("40")
	var pending []string
	p.next(&pending)
	// The attachment in the same payload as its packet, base64.
	p.post(`451-3["e",{"x":{"_placeholder":true,"num":0}}]`, "bAQL/")
	args := recv(t, got, "event")
	if b := args[0].(map[string]any)["x"].([]byte); string(b) != "\x01\x02\xff" {
		t.Errorf("attachment %q", b)
	}
	if a, b := p.next(&pending), p.next(&pending); a != `461-3[{"_placeholder":true,"num":0},"ok"]` || b != "b/g==" {
		t.Errorf("binary ack %q %q", a, b)
	}
}

func TestUpgrade(t *testing.T) {
	h := newHub(t, Config{})
	sockets := collectSockets(h.srv.Of("/"))
	p, _ := h.openPoll(nil)
	p.post("40")
	var pending []string
	connected := p.next(&pending)
	s := sockets.get(t, strings.TrimSuffix(strings.TrimPrefix(connected, `40{"sid":"`), `"}`))

	// A probe that goes wrong leaves the session on polling.
	bad, _, err := websocket.DefaultDialer.Dial(h.wsURL("&sid="+p.sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	bad.WriteMessage(websocket.TextMessage, []byte("2nope"))
	bad.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := bad.ReadMessage(); err == nil {
		t.Error("a bad probe was answered")
	}
	bad.Close()
	h.waitMetric(`noom_signaling_upgrades_total{result="failed"}`, 1)
	s.Emit("still polling")
	if got := p.next(&pending); got != `42["still polling"]` {
		t.Fatalf("after a failed upgrade: %q", got)
	}

	// A GET in flight during the upgrade ends with a noop; what is queued
	// meanwhile goes over the WebSocket.
	getDone := make(chan string, 1)
	go func() { _, body := p.do(http.MethodGet, "", nil); getDone <- body }()
	ws, _, err := websocket.DefaultDialer.Dial(h.wsURL("&sid="+p.sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := &rawWS{t: t, conn: ws}
	c.send("2probe")
	c.expect("3probe")
	if body := recv(t, getDone, "GET"); body != "6" {
		t.Errorf("GET in flight got %q", body)
	}
	s.Emit("during")
	c.send("5")
	c.expect(`42["during"]`)
	if s.Transport() != "websocket" {
		t.Errorf("transport %s", s.Transport())
	}
	// Polling is over for this session.
	if status, _ := p.do(http.MethodGet, "", nil); status != http.StatusBadRequest {
		t.Errorf("GET after the upgrade: %d", status)
	}
	if status, _ := p.do(http.MethodPost, "42[\"x\"]", nil); status != http.StatusBadRequest {
		t.Errorf("POST after the upgrade: %d", status)
	}
	// A second upgrade is accepted, then closed.
	again, _, err := websocket.DefaultDialer.Dial(h.wsURL("&sid="+p.sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = again.ReadMessage()
	if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Errorf("second upgrade: %v", err)
	}
	c.send(`42["x"]`)
	c.send("2")
	c.expect("3")
	h.waitMetric(`noom_signaling_upgrades_total{result="ok"}`, 1)
	h.waitMetric(`noom_signaling_open_connections{transport="websocket"}`, 1)
	h.waitMetric(`noom_signaling_open_connections{transport="polling"}`, 0)
}

func TestConcurrentPost(t *testing.T) {
	h := newHub(t, Config{})
	reasons := make(chan string, 1)
	h.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	p, _ := h.openPoll(nil)
	p.post("40")
	var pending []string
	p.next(&pending)
	pr, pw := io.Pipe()
	first := make(chan int, 1)
	go func() { status, _ := p.do(http.MethodPost, "", pr); first <- status }()
	pw.Write([]byte(`42["a"]`))
	sess := h.srv.eng.Lookup(p.sid)
	waitFor(t, 5*time.Second, func() bool { return sess.State().Posting },
		func() string { return "first POST not in flight" })
	if status, _ := p.do(http.MethodPost, `42["b"]`, nil); status != http.StatusBadRequest {
		t.Errorf("second POST: %d", status)
	}
	if r := recv(t, reasons, "disconnect"); r != ReasonTransportError {
		t.Errorf("reason %q", r)
	}
	pw.Close()
	if status := recv(t, first, "first POST"); status != http.StatusOK && status != http.StatusBadRequest {
		t.Errorf("first POST: %d", status)
	}
}

func TestDisabledTransports(t *testing.T) {
	t.Run("polling off", func(t *testing.T) {
		h := newHub(t, Config{DisablePolling: true})
		p := &rawPoll{t: t, h: h, client: h.hs.Client()}
		if status, body := p.do(http.MethodGet, "", nil); status != http.StatusBadRequest || !strings.Contains(body, "Transport unknown") {
			t.Errorf("polling handshake: %d %s", status, body)
		}
		h.connect("/")
	})
	t.Run("websocket off", func(t *testing.T) {
		h := newHub(t, Config{DisableWebSocket: true})
		if got := wsDialStatus(t, h.wsURL(""), nil); got != http.StatusBadRequest {
			t.Errorf("WebSocket: %d", got)
		}
		_, open := h.openPoll(nil)
		if ups := open["upgrades"].([]any); len(ups) != 0 {
			t.Errorf("upgrades %v", ups)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{Path: "socket.io"},
		{PingInterval: -1},
		{MaxPayload: 10},
		{MaxPayload: 2000, MaxQueueBytes: 1000},
		{MaxRoomsPerSocket: -1},
		{DisablePolling: true, DisableWebSocket: true},
		{AllowedOrigins: []string{"example.com"}},
	} {
		if _, err := New(cfg, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	srv, err := New(Config{Path: "/rt", Logger: quietLogger()}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	c := srv.Config()
	if c.Path != "/rt/" || c.PingInterval != 25*time.Second || c.PingTimeout != 20*time.Second ||
		c.MaxPayload != 1_000_000 || c.MaxQueueBytes != 2<<20 || c.MaxQueueDelay != 2*time.Second || c.MaxRoomsPerSocket != 64 ||
		c.MaxAttachments != 10 || c.MaxNamespaces != 16 || c.ConnectTimeout != 45*time.Second {
		t.Errorf("defaults: %+v", c)
	}
}
