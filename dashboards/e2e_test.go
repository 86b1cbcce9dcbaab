package dashboards

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/pion/turn/v4"
)

// TestDashboardsAgainstNoom is the end-to-end proof: it builds and runs
// Noom, drives real traffic through it (WebSocket and polling Socket.IO
// clients, a call with joins, signals and call-stats reports, TURN
// allocations relaying data), lets a real Prometheus scrape it every
// second with the rule file loaded, and then evaluates every dashboard
// query, variable and annotation and every rule through Prometheus' HTTP
// API. Each must parse and run; each panel must return data, with the
// labels its legend names; every metric and label a query names must be
// one Noom exports.
func TestDashboardsAgainstNoom(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs noom and prometheus")
	}
	requireTool(t, "prometheus")
	n := startNoom(t)
	prom := startPrometheus(t, n.http)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	tr := newTraffic(t, ctx, n)
	tr.round(t, ctx)
	// Counters that appear with their first event (call-stats reports)
	// need a scrape before and after a change for rate() to see it.
	prom.waitFor(t, ctx, `sum(noom_call_stats_reports_total{job="noom"})`, tr.reports)
	tr.round(t, ctx)
	tr.finish(t, ctx)
	prom.waitFor(t, ctx, `sum(noom_call_stats_reports_total{job="noom"})`, tr.reports)
	// Every recording rule has run on the final data.
	for _, r := range prom.rules(t) {
		if r.Type == "recording" {
			prom.waitFor(t, ctx, "count("+r.Name+")", -1)
		}
	}

	reg := n.registry(t, prom)
	vars := checkVariableQueries(t, prom)

	for _, d := range loadDashboards(t) {
		t.Run(d.file, func(t *testing.T) {
			for _, p := range d.panels(t) {
				if p.Type == "row" {
					continue
				}
				nonZero := false
				for _, tg := range p.Targets {
					name := fmt.Sprintf("%q %s", p.Title, tg.RefID)
					reg.check(t, name, tg.Expr)
					all := substitute(tg.Expr, map[string]string{"job": ".+", "instance": ".+"})
					if res, err := prom.query(all); err != nil || len(res) == 0 {
						t.Errorf("%s with All selected: %d series, %v\n%s", name, len(res), err, all)
					}
					q := substitute(tg.Expr, vars)
					res, err := prom.query(q)
					if err != nil {
						t.Errorf("%s: %v\n%s", name, err, q)
						continue
					}
					if len(res) == 0 {
						t.Errorf("%s returns no data\n%s", name, q)
					}
					for _, s := range res {
						for _, l := range legendLabels(tg.LegendFormat) {
							if s.Metric[l] == "" {
								t.Errorf("%s: legend {{%s}}, but the series %v has no %s", name, l, s.Metric, l)
							}
						}
						if v, err := strconv.ParseFloat(s.value(), 64); err == nil && v != 0 && !math.IsNaN(v) {
							nonZero = true
						}
					}
				}
				if !nonZero && !zeroInThisTest[p.Title] {
					t.Errorf("panel %q: every series is zero or NaN although the test drove that traffic", p.Title)
				}
			}
			for _, a := range annotations(d) {
				reg.check(t, "annotation "+a.Name, a.Expr)
				if _, err := prom.query(substitute(a.Expr, vars)); err != nil {
					t.Errorf("annotation %q: %v", a.Name, err)
				}
			}
		})
	}

	t.Run("rules", func(t *testing.T) {
		for _, r := range prom.rules(t) {
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("%s: health %q: %s", r.Name, r.Health, r.LastError)
			}
			reg.check(t, r.Name, r.Query)
			if _, err := prom.query(r.Query); err != nil {
				t.Errorf("%s: %v", r.Name, err)
			}
			e, _ := parseExpr(r.Query)
			for _, s := range e.Selectors {
				if res, err := prom.query(s.String()); err != nil || len(res) == 0 {
					t.Errorf("%s: %s selects nothing (%v)", r.Name, s, err)
				}
			}
		}
	})
}

// zeroInThisTest names the panels whose every series is legitimately zero
// after the test's traffic: what they count needs a client too slow to
// read (covered by signaling's slow-consumer tests).
var zeroInThisTest = map[string]bool{
	"Queued bytes":             true,
	"Slow consumers and drops": true,
}

// substitute replaces the dashboard variables as Grafana would, with
// $__rate_interval at four scrape intervals or more (1m covers the whole
// test, so every counter it moved shows a rate).
func substitute(q string, vars map[string]string) string {
	q = strings.ReplaceAll(q, "$__rate_interval", "1m")
	for k, v := range vars {
		q = strings.ReplaceAll(q, "$"+k, v)
	}
	return q
}

// checkVariableQueries resolves the job and instance variables the way
// Grafana does (label_values → the label values API) and returns them as a
// regex of the values found.
func checkVariableQueries(t *testing.T, prom *prometheus) map[string]string {
	t.Helper()
	d := loadDashboards(t)[0]
	vars := map[string]string{}
	re := regexp.MustCompile(`^label_values\((.*), (\w+)\)$`)
	for _, name := range []string{"job", "instance"} {
		q, _ := variables(t, d)[name].Query.(string)
		m := re.FindStringSubmatch(substitute(q, vars))
		if m == nil {
			t.Fatalf("variable %s: %q is not label_values(selector, label)", name, q)
		}
		var values []string
		if err := prom.api("/api/v1/label/"+m[2]+"/values", url.Values{"match[]": {m[1]}}, &values); err != nil {
			t.Fatalf("variable %s: %v", name, err)
		}
		if len(values) == 0 {
			t.Fatalf("variable %s: %q finds no values", name, q)
		}
		// As Grafana's Prometheus data source does: regex-escape each
		// value, then escape the backslashes for the PromQL string.
		for i, v := range values {
			values[i] = strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
		}
		vars[name] = strings.Join(values, "|")
	}
	if vars["job"] != "noom" || !strings.Contains(vars["instance"], `127\\.0\\.0\\.1:`) {
		t.Errorf("variables %q, want job noom and noom's instance", vars)
	}
	return vars
}

// waitFor polls an instant query until its single value is at least want
// (want < 0: until it returns anything).
func (p *prometheus) waitFor(t *testing.T, ctx context.Context, q string, want float64) {
	t.Helper()
	last := "nothing"
	for {
		res, err := p.query(q)
		if err == nil && len(res) > 0 {
			if want < 0 {
				return
			}
			v, _ := strconv.ParseFloat(res[0].value(), 64)
			if v >= want {
				return
			}
			last = res[0].value()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s >= %v: got %s (%v)", q, want, last, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ---------------------------------------------------------------- noom

type noom struct {
	http string // host:port of the web app, hub and /metrics
	turn string // host:port of STUN/TURN, UDP and TCP
}

var bannerAddr = regexp.MustCompile(`^\s+(Web app|STUN/TURN):\s+(?:http://|udp\+tcp )([0-9.]+:[0-9]+)`)

// startNoom builds cmd/noom and runs it on loopback ports the kernel
// picks, reading them from its banner.
func startNoom(t *testing.T) noom {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "noom")
	build := exec.Command("go", "build", "-o", bin, "github.com/noomrtc/noom/cmd/noom")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--turn-addr", "127.0.0.1:0",
		"--turn-allow-peer", "127.0.0.1/32", "--turn-secret", "e2e-secret", "--log-level", "error")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Error("noom did not stop within 15s of SIGTERM")
		}
	})
	// Read the banner; a noom that prints none within 30s is killed, which
	// ends the scan.
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	var n noom
	sc := bufio.NewScanner(out)
	for (n.http == "" || n.turn == "") && sc.Scan() {
		if m := bannerAddr.FindStringSubmatch(sc.Text()); m != nil {
			if m[1] == "Web app" {
				n.http = m[2]
			} else {
				n.turn = m[2]
			}
		}
	}
	timer.Stop()
	if n.http == "" || n.turn == "" {
		t.Fatalf("noom's banner did not name its addresses (%+v)", n)
	}
	go io.Copy(io.Discard, out)
	return n
}

// exported is what /metrics exports: each metric name with the union of
// its label names, plus the labels Prometheus adds.
type exported map[string]map[string]bool

func (n noom) registry(t *testing.T, prom *prometheus) exported {
	t.Helper()
	res, err := http.Get("http://" + n.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	reg := exported{"up": {"job": true, "instance": true}}
	line := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"`)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if reg[m[1]] == nil {
			reg[m[1]] = map[string]bool{"job": true, "instance": true}
		}
		for _, l := range label.FindAllStringSubmatch(m[2], -1) {
			reg[m[1]][l[1]] = true
		}
	}
	// Recording rules' outputs, with the labels Prometheus stored.
	for _, r := range prom.rules(t) {
		if r.Type != "recording" {
			continue
		}
		var series []map[string]string
		if err := prom.api("/api/v1/series", url.Values{"match[]": {r.Name}}, &series); err != nil || len(series) == 0 {
			t.Fatalf("recording rule %s: no series (%v)", r.Name, err)
		}
		reg[r.Name] = map[string]bool{}
		for _, s := range series {
			for l := range s {
				if l != "__name__" {
					reg[r.Name][l] = true
				}
			}
		}
	}
	for _, want := range []string{"noom_build_info", "noom_signaling_open_connections", "noom_turn_allocations", "process_open_fds", "go_goroutines"} {
		if reg[want] == nil {
			t.Fatalf("/metrics lacks %s", want)
		}
	}
	return reg
}

// check fails the test when q names a metric Noom does not export (or
// the rule file does not record) or a label that metric lacks.
func (reg exported) check(t *testing.T, name, q string) {
	t.Helper()
	e, err := parseExpr(q)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	union := map[string]bool{}
	for _, s := range e.Selectors {
		labels := reg[s.Metric]
		if labels == nil {
			t.Errorf("%s: Noom exports no metric %q", name, s.Metric)
			continue
		}
		for _, m := range s.Matchers {
			if !labels[m.Label] {
				t.Errorf("%s: %s has no label %q", name, s.Metric, m.Label)
			}
		}
		for l := range labels {
			union[l] = true
		}
	}
	for _, l := range e.Grouping {
		if !union[l] {
			t.Errorf("%s: groups by %q, a label none of its metrics has", name, l)
		}
	}
}

// ---------------------------------------------------------------- traffic

// traffic is the clients the test drives: two WebSocket sockets in a call,
// a polling socket, TURN clients.
type traffic struct {
	n       noom
	a, b    *sioclient.Client
	ice     struct{ user, pass string }
	peer    *net.UDPConn // an echo peer for relayed data
	tcp     *turn.Client // a TURN client over TCP whose allocation stays open
	relay   net.PacketConn
	reports float64 // call-stats reports sent so far
	rounds  int
}

func newTraffic(t *testing.T, ctx context.Context, n noom) *traffic {
	t.Helper()
	tr := &traffic{n: n}
	base := "http://" + n.http
	var err error
	if tr.a, err = sioclient.Dial(ctx, base, sioclient.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.a.Close() })
	if tr.b, err = sioclient.Dial(ctx, base, sioclient.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.b.Close() })
	var ack struct {
		OK         bool
		IceServers []struct {
			URLs       []string `json:"urls"`
			Username   string
			Credential string
		}
	}
	for _, c := range []*sioclient.Client{tr.a, tr.b} {
		if err := c.Call(ctx, &ack, "join", map[string]string{"room": "e2e", "name": "user-" + c.ID[:4]}); err != nil || !ack.OK {
			t.Fatalf("join: %v %+v", err, ack)
		}
	}
	for _, s := range ack.IceServers {
		if s.Username != "" {
			tr.ice.user, tr.ice.pass = s.Username, s.Credential
		}
	}
	if tr.ice.user == "" {
		t.Fatalf("the join ack gave no TURN credentials: %+v", ack.IceServers)
	}

	tr.peer, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			k, from, err := tr.peer.ReadFromUDP(buf)
			if err != nil {
				return
			}
			tr.peer.WriteToUDP(buf[:k], from)
		}
	})
	t.Cleanup(func() { tr.peer.Close(); wg.Wait() })

	conn, err := net.Dial("tcp", n.turn)
	if err != nil {
		t.Fatal(err)
	}
	tr.tcp = turnClient(t, turn.NewSTUNConn(conn), n.turn, tr.ice.user, tr.ice.pass)
	if tr.relay, err = tr.tcp.Allocate(); err != nil {
		t.Fatalf("TURN allocate over TCP: %v", err)
	}
	t.Cleanup(func() { tr.relay.Close() })
	return tr
}

func turnClient(t *testing.T, conn net.PacketConn, server, user, pass string) *turn.Client {
	t.Helper()
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: server, TURNServerAddr: server, Conn: conn,
		Username: user, Password: pass, Realm: "noom", RTO: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	return c
}

// round drives one round of every kind of traffic the panels show.
func (tr *traffic) round(t *testing.T, ctx context.Context) {
	t.Helper()
	tr.rounds++
	// Signals both ways, one refused, a chat message.
	for _, sig := range []struct {
		from, to *sioclient.Client
		kind     string
	}{{tr.a, tr.b, "offer"}, {tr.b, tr.a, "answer"}, {tr.a, tr.b, "candidate"}, {tr.b, tr.a, "candidate"}} {
		var ack struct{ OK bool }
		if err := sig.from.Call(ctx, &ack, "signal", map[string]any{"to": sig.to.ID, "data": map[string]string{"type": sig.kind, "sdp": "v=0"}}); err != nil || !ack.OK {
			t.Fatalf("signal %s: %v %+v", sig.kind, err, ack)
		}
		if _, err := sig.to.Next(ctx, "signal"); err != nil {
			t.Fatal(err)
		}
	}
	var ack struct{ OK bool }
	if err := tr.a.Call(ctx, &ack, "signal", map[string]any{"to": tr.b.ID, "data": map[string]string{"type": "bogus"}}); err != nil || ack.OK {
		t.Fatalf("a bad signal was accepted: %v %+v", err, ack)
	}
	if err := tr.a.Call(ctx, &ack, "chat", map[string]string{"room": "e2e", "text": "hello"}); err != nil || !ack.OK {
		t.Fatalf("chat: %v %+v", err, ack)
	}
	// call-stats: a direct and a relayed connected pair, one failure.
	for _, r := range []struct {
		c               *sioclient.Client
		peer, state, ct string
		rtt             float64
	}{{tr.a, tr.b.ID, "connected", "host", 12}, {tr.b, tr.a.ID, "connected", "relay", 85}, {tr.a, "gone", "failed", "relay", 0}} {
		if err := r.c.Call(ctx, &ack, "call-stats", map[string]any{"peer": r.peer, "state": r.state, "candidateType": r.ct,
			"protocol": "udp", "rttMs": r.rtt, "bytesSent": 1000, "bytesReceived": 1000}); err != nil || !ack.OK {
			t.Fatalf("call-stats: %v %+v", err, ack)
		}
		tr.reports++
	}
	pollingSession(t, ctx, "http://"+tr.n.http)
	payloadTooLarge(t, ctx, tr.n.http)

	// TURN: a UDP client allocates, relays to the echo peer, is refused a
	// private peer, and ends its allocation; one with a wrong password
	// fails; the TCP client's allocation relays too.
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := turnClient(t, udp, tr.n.turn, tr.ice.user, tr.ice.pass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("TURN allocate: %v", err)
	}
	echo(t, relay, tr.peer.LocalAddr())
	echo(t, tr.relay, tr.peer.LocalAddr())
	if err := c.CreatePermission(&net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9}); err == nil {
		t.Error("TURN allowed a permission for 10.0.0.1")
	}
	relay.Close()

	bad, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := turnClient(t, bad, tr.n.turn, tr.ice.user, "wrong").Allocate(); err == nil {
		t.Error("TURN allocated with a wrong password")
	}
}

// finish leaves the call with one socket, so that disconnects and socket
// disconnects move too.
func (tr *traffic) finish(t *testing.T, ctx context.Context) {
	t.Helper()
	c, err := sioclient.Dial(ctx, "http://"+tr.n.http, sioclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// echo relays a datagram to peer and waits for it to come back.
func echo(t *testing.T, relay net.PacketConn, peer net.Addr) {
	t.Helper()
	buf := make([]byte, 1500)
	for attempt := 0; attempt < 20; attempt++ {
		if _, err := relay.WriteTo([]byte("ping through the relay"), peer); err != nil {
			t.Fatalf("relay write: %v", err)
		}
		relay.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		_, _, err := relay.ReadFrom(buf)
		if err == nil {
			return
		}
		if !isTimeout(err) {
			t.Fatalf("relay read: %v", err)
		}
	}
	t.Fatal("nothing came back through the relay")
}

// pollingSession is a Socket.IO client on HTTP long-polling: handshake,
// namespace connect, a join with an ack, close.
func pollingSession(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	do := func(method, sid, body string) string {
		u := base + "/socket.io/?EIO=4&transport=polling"
		if sid != "" {
			u += "&sid=" + sid
		}
		req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("polling %s: HTTP %d: %s", method, res.StatusCode, b)
		}
		return string(b)
	}
	open := do("GET", "", "")
	var hs struct{ SID string }
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &hs) != nil || hs.SID == "" {
		t.Fatalf("polling handshake: %q", open)
	}
	do("POST", hs.SID, "40")
	if got := do("GET", hs.SID, ""); !strings.HasPrefix(got, "40") {
		t.Fatalf("polling connect: %q", got)
	}
	do("POST", hs.SID, `420["join",{"room":"e2e-polling","name":"poller"}]`)
	for got := ""; !strings.Contains(got, `430[{`); {
		got = do("GET", hs.SID, "")
		if strings.Contains(got, `"ok":false`) {
			t.Fatalf("polling join: %q", got)
		}
	}
	do("POST", hs.SID, "1")
}

// payloadTooLarge sends a WebSocket message over the 1 MB maxPayload and
// expects the server to close the connection.
func payloadTooLarge(t *testing.T, ctx context.Context, addr string) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+addr+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, _, err := conn.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	big := "4" + strings.Repeat("x", 1_100_000)
	conn.WriteMessage(websocket.TextMessage, []byte(big))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			if isTimeout(err) {
				t.Fatal("the server kept a connection that sent 1.1 MB")
			}
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
