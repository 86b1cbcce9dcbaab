package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

// hub is a Server on a loopback httptest server, with its own registry.
type hub struct {
	t   testing.TB
	srv *Server
	hs  *httptest.Server
	reg *prometheus.Registry
}

type hubOption func(*hubOptions)

type hubOptions struct {
	sndbuf int // SO_SNDBUF of the server's accepted connections, if set
	addr   string
}

// withServerSendBuffer makes the kernel buffer little of what the server
// writes, so that a client that does not read backs up into our queue fast.
func withServerSendBuffer(n int) hubOption { return func(o *hubOptions) { o.sndbuf = n } }

// withAddr listens on addr (a loopback address, for a restart on the same port).
func withAddr(addr string) hubOption { return func(o *hubOptions) { o.addr = addr } }

// newHub starts a Server with cfg and checks at the end of the test that
// Shutdown succeeds and that no goroutine outlives it.
func newHub(t testing.TB, cfg Config, opts ...hubOption) *hub {
	t.Helper()
	before := goleak.IgnoreCurrent() // a benchmark's own runners, say
	t.Cleanup(func() { checkNoLeaks(t, before) })
	h := startHub(t, cfg, opts...)
	t.Cleanup(func() { h.close() })
	return h
}

// startHub starts a Server without registering its shutdown.
func startHub(t testing.TB, cfg Config, opts ...hubOption) *hub {
	t.Helper()
	var o hubOptions
	for _, f := range opts {
		f(&o)
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	reg := prometheus.NewRegistry()
	srv, err := New(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	if o.addr != "" {
		hs.Listener.Close()
		var ln net.Listener
		// The port may still be held by the old server's last connections
		// for a moment.
		for i := 0; ; i++ {
			if ln, err = net.Listen("tcp", o.addr); err == nil || i == 50 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		hs.Listener = ln
	}
	if o.sndbuf > 0 {
		hs.Listener = sndbufListener{hs.Listener, o.sndbuf}
	}
	hs.Start()
	return &hub{t: t, srv: srv, hs: hs, reg: reg}
}

// close shuts the server down (failing the test if it does not drain in
// time) and closes the HTTP server.
func (h *hub) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Errorf("Shutdown: %v", err)
	}
	h.hs.Close()
}

// url is the base URL of the server, such as http://127.0.0.1:1234.
func (h *hub) url() string { return h.hs.URL }

// metric returns the value of one counter or gauge series, given as in the
// exposition text: `noom_signaling_x_total{reason="y"}`.
func (h *hub) metric(series string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	name, labels, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
	histCount := false
	if base, ok := strings.CutSuffix(name, "_count"); ok && strings.HasSuffix(base, "_seconds") {
		name, histCount = base, true // a histogram's observation count
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if labels != "" {
				for _, kv := range strings.Split(labels, ",") {
					k, v, _ := strings.Cut(kv, "=")
					found := false
					for _, lp := range m.GetLabel() {
						if lp.GetName() == k && fmt.Sprintf("%q", lp.GetValue()) == v {
							found = true
						}
					}
					if !found {
						continue next
					}
				}
			}
			switch {
			case histCount && m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	h.t.Fatalf("no series %s", series)
	return 0
}

// waitMetric waits until a series has the value want.
func (h *hub) waitMetric(series string, want float64) {
	h.t.Helper()
	waitFor(h.t, 5*time.Second, func() bool { return h.metric(series) == want },
		func() string { return fmt.Sprintf("%s = %v, want %v", series, h.metric(series), want) })
}

// lint checks the registry's metrics against Prometheus' conventions.
func (h *hub) lint() {
	h.t.Helper()
	problems, err := testutil.GatherAndLint(h.reg)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, p := range problems {
		h.t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
	}
}

type sndbufListener struct {
	net.Listener
	n int
}

func (l sndbufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(l.n)
	}
	return c, err
}

// waitFor waits for cond, checking it often, and fails with msg() after d.
// It is for state that changes without a channel to wait on (metrics, maps
// behind a lock); everything else waits on channels.
func waitFor(t testing.TB, d time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for wait := time.Millisecond; !cond(); {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(wait)
		if wait < 20*time.Millisecond {
			wait *= 2
		}
	}
}

// recv waits for a value on ch.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// wsURL is the WebSocket URL of the hub's endpoint with query appended.
func (h *hub) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(h.hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket" + query
}

// dial opens a raw WebSocket session.
func (h *hub) dial(query string) *rawWS {
	h.t.Helper()
	t := h.t.(*testing.T)
	conn, _, err := websocket.DefaultDialer.Dial(h.wsURL(query), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawWS{t: t, conn: conn}
}

// connect opens a WebSocket session and connects to namespace nsp,
// returning the client and the socket id.
func (h *hub) connect(nsp string) (*rawWS, string) {
	h.t.Helper()
	c := h.dial("")
	c.expectPrefix("0{")
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix)
	got := c.expectPrefix(prefix + `{"sid":"`)
	return c, strings.TrimSuffix(strings.TrimPrefix(got, prefix+`{"sid":"`), `"}`)
}

// socketsBy collects the server's sockets as they connect, by id.
type socketsBy struct {
	mu sync.Mutex
	m  map[string]*Socket
	ch chan *Socket
}

func collectSockets(n *Namespace) *socketsBy {
	c := &socketsBy{m: make(map[string]*Socket), ch: make(chan *Socket, 1024)}
	n.OnConnection(func(s *Socket) {
		c.mu.Lock()
		c.m[s.ID()] = s
		c.mu.Unlock()
		select {
		case c.ch <- s:
		default: // get finds it in the map
		}
	})
	return c
}

// get returns the socket with that id, waiting for its connection
// handler: a client learns its id before the handlers run.
func (c *socketsBy) get(t testing.TB, id string) *Socket {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		c.mu.Lock()
		s := c.m[id]
		c.mu.Unlock()
		if s != nil {
			return s
		}
		select {
		case <-c.ch:
		case <-timeout:
			t.Fatalf("no socket %s", id)
		}
	}
}

// rawPoll is a bare HTTP long-polling client speaking Engine.IO by hand.
type rawPoll struct {
	t      *testing.T
	h      *hub
	client *http.Client
	sid    string
	header http.Header
}

// openPoll runs a polling handshake and returns the client and the open
// packet's data.
func (h *hub) openPoll(header http.Header) (*rawPoll, map[string]any) {
	h.t.Helper()
	p := &rawPoll{t: h.t.(*testing.T), h: h, client: h.hs.Client(), header: header}
	status, body := p.do(http.MethodGet, "", nil)
	if status != http.StatusOK || !strings.HasPrefix(body, "0{") {
		p.t.Fatalf("handshake: %d %q", status, body)
	}
	var open map[string]any
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
		p.t.Fatal(err)
	}
	p.sid = open["sid"].(string)
	return p, open
}

func (p *rawPoll) url() string {
	u := p.h.hs.URL + "/socket.io/?EIO=4&transport=polling"
	if p.sid != "" {
		u += "&sid=" + p.sid
	}
	return u
}

// do sends one request and returns the status and the body.
func (p *rawPoll) do(method, body string, r io.Reader) (int, string) {
	p.t.Helper()
	return p.doCtx(context.Background(), method, body, r)
}

func (p *rawPoll) doCtx(ctx context.Context, method, body string, r io.Reader) (int, string) {
	p.t.Helper()
	if r == nil && body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.url(), r)
	if err != nil {
		p.t.Fatal(err)
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := p.client.Do(req.WithContext(ctx))
	if err != nil {
		p.t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("%s body: %v", method, err)
	}
	return resp.StatusCode, string(b)
}

// get long-polls once and returns the packets received.
func (p *rawPoll) get() []string {
	p.t.Helper()
	status, body := p.do(http.MethodGet, "", nil)
	if status != http.StatusOK {
		p.t.Fatalf("GET: %d %s", status, body)
	}
	return strings.Split(body, "\x1e")
}

// post sends packets as one payload and checks the answer is "ok".
func (p *rawPoll) post(pkts ...string) {
	p.t.Helper()
	status, body := p.do(http.MethodPost, strings.Join(pkts, "\x1e"), nil)
	if status != http.StatusOK || body != "ok" {
		p.t.Fatalf("POST: %d %q", status, body)
	}
}

// next returns the next packet that is not a ping or a noop, polling as
// often as needed.
func (p *rawPoll) next(pending *[]string) string {
	p.t.Helper()
	for {
		for len(*pending) > 0 {
			pkt := (*pending)[0]
			*pending = (*pending)[1:]
			if pkt == "2" {
				p.post("3")
				continue
			}
			if pkt != "6" {
				return pkt
			}
		}
		*pending = p.get()
	}
}

// quietLogger drops the server's logs; tests check behaviour, not logs.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// nextPonging returns the next message that is not a ping, answering pings.
func (c *rawWS) nextPonging() (string, int) {
	c.t.Helper()
	for {
		c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		mt, b, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if mt == websocket.TextMessage && string(b) == "2" {
			c.send("3")
			continue
		}
		return string(b), mt
	}
}

// httpStatus returns the HTTP status of a failed WebSocket dial.
func wsDialStatus(t testing.TB, url string, header http.Header) int {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err == nil {
		conn.Close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return resp.StatusCode
}

// pongUntil answers pings until t, failing on anything else. The server
// must ping more often than the time left (a read that times out would
// leave the connection unusable).
func (c *rawWS) pongUntil(t time.Time) {
	c.t.Helper()
	for time.Now().Before(t) {
		c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		mt, b, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if mt != websocket.TextMessage || string(b) != "2" {
			c.t.Fatalf("unexpected %q", b)
		}
		c.send("3")
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func newRequest(method, url, body string) (*http.Request, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return http.NewRequest(method, url, r)
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
