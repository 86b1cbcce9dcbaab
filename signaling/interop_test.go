package signaling

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The interop tests run the real socket.io-client 4.x under Node against
// the hub. The scenarios are in testdata/interop/*.mjs; each prints JSON
// lines that the test reads as it goes. They need node and the packages of
// testdata/interop/package.json:
//
//	npm ci --prefix signaling/testdata/interop
//
// Without them the tests skip, or fail when CI is set.

const interopDir = "testdata/interop"

func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not installed"
	default:
		if _, err := os.Stat(filepath.Join(interopDir, "node_modules", "socket.io-client", "package.json")); err != nil {
			missing = "socket.io-client is not installed in " + interopDir + "/node_modules"
		}
	}
	if missing != "" {
		msg := "interop: " + missing + ": run `npm ci --prefix signaling/testdata/interop` (from the repository root)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node
}

// nodeProc is a running scenario.
type nodeProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan map[string]any
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runNode starts `node script args...` in testdata/interop.
func runNode(t *testing.T, script string, args ...string) *nodeProc {
	t.Helper()
	node := requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1", "DEBUG="+os.Getenv("INTEROP_DEBUG"))
	p := &nodeProc{t: t, cmd: cmd, lines: make(chan map[string]any, 256), stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"ev": "unparsed", "line": sc.Text()}
			}
			p.lines <- m
		}
		close(p.lines)
		p.done <- cmd.Wait()
		cancel()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range p.lines {
		}
		<-p.done
	})
	return p
}

// next returns the next line of output.
func (p *nodeProc) next() map[string]any {
	p.t.Helper()
	select {
	case m, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("%s ended early\nstderr:\n%s", p.cmd.Args[1], p.stderr)
		}
		if m["ev"] == "error" || m["ev"] == "timeout" || m["ev"] == "unparsed" {
			p.t.Fatalf("%s: %v\nstderr:\n%s", p.cmd.Args[1], m, p.stderr)
		}
		return m
	case <-time.After(15 * time.Second):
		p.t.Fatalf("%s: no output\nstderr:\n%s", p.cmd.Args[1], p.stderr)
		return nil
	}
}

// expect returns the next line, which must be event ev.
func (p *nodeProc) expect(ev string) map[string]any {
	p.t.Helper()
	m := p.next()
	if m["ev"] != ev {
		p.t.Fatalf("got %v, want event %q", m, ev)
	}
	return m
}

// wait waits for the scenario to exit successfully.
func (p *nodeProc) wait() {
	p.t.Helper()
	for m := range p.lines {
		p.t.Errorf("unexpected output %v", m)
	}
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		if err != nil {
			p.t.Fatalf("%s: %v\nstderr:\n%s", p.cmd.Args[1], err, p.stderr)
		}
	case <-time.After(15 * time.Second):
		p.t.Fatalf("%s does not exit", p.cmd.Args[1])
	}
}

// js renders a decoded JSON value compactly, for comparisons.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// bin is how the scenarios print binary values.
func bin(b ...byte) map[string]any { return map[string]any{"$bin": fmt.Sprintf("%x", b)} }

func TestInteropBasic(t *testing.T) {
	requireNode(t)
	for _, mode := range []string{"websocket", "polling", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			h := newHub(t, Config{PingInterval: 200 * time.Millisecond, PingTimeout: 5 * time.Second})
			type got struct {
				what string
				args []any
				err  error
			}
			results := make(chan got, 8)
			reasons := make(chan string, 1)
			h.srv.OnConnection(func(s *Socket) {
				results <- got{what: "handshake", args: []any{s.Handshake().Auth, s.Handshake().Query.Get("room"), s.Transport()}}
				s.OnDisconnect(func(r string) { reasons <- r })
				s.On("transport?", func(_ []any, ack Ack) { ack(s.Transport()) })
				s.On("echo", func(args []any, ack Ack) { ack(args...) })
				s.On("bin", func(args []any, ack Ack) {
					results <- got{what: "bin", args: args}
					ack([]byte{9, 8, 7}, map[string]any{"deep": []any{[]byte{6}, "x"}})
				})
				s.On("ready", func([]any, Ack) {
					go func() { // not on the reading goroutine: it waits for acks
						s.Emit("srvbin", []byte{1, 2}, map[string]any{"a": []byte{3}, "n": 5})
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						defer cancel()
						a, err := s.EmitWithAck(ctx, "ask", 41)
						results <- got{"ask", a, err}
						done := make(chan struct{})
						s.EmitWithAckFunc(5*time.Second, func(a []any, err error) {
							results <- got{"askbin", a, err}
							close(done)
						}, "askbin", []byte{0xde, 0xad})
						<-done
						s.Emit("bye")
					}()
				})
			})
			p := runNode(t, "basic.mjs", h.url(), mode)
			c := p.expect("connect")
			// With the upgrade, the probe may be over before "connect".
			wantTransport := map[string]string{"websocket": "websocket", "polling": "polling", "upgrade": "polling"}[mode]
			if c["transport"] != wantTransport && mode != "upgrade" {
				t.Errorf("client connected over %v", c["transport"])
			}
			hs := recv(t, results, "handshake")
			if js(hs.args[:2]) != `[{"token":"t1"},"q1"]` || (hs.args[2] != wantTransport && mode != "upgrade") {
				t.Errorf("handshake %s", js(hs.args))
			}
			if mode == "upgrade" {
				if m := p.expect("upgraded"); m["transport"] != "websocket" {
					t.Errorf("upgraded to %v", m["transport"])
				}
				if m := p.expect("server-transport"); js(m["args"]) != `["websocket"]` {
					t.Errorf("the server sees transport %v", m["args"])
				}
			}
			if m := p.expect("echo"); js(m["args"]) != `[1,"two",{"three":[true]},null,"é😀\u2028"]` {
				t.Errorf("echo ack %s", js(m["args"]))
			}
			if m := p.expect("echo1"); m["arg"] != "only" {
				t.Errorf("emitWithAck %v", m["arg"])
			}
			if m := p.expect("bin"); js(m["args"]) != js([]any{bin(9, 8, 7), map[string]any{"deep": []any{bin(6), "x"}}}) {
				t.Errorf("binary ack %s", js(m["args"]))
			}
			b := recv(t, results, "bin")
			if len(b.args) != 2 || !bytes.Equal(b.args[0].([]byte), []byte{1, 2, 3}) {
				t.Fatalf("binary args %#v", b.args)
			}
			var tree struct {
				Nested struct {
					U8   []byte
					List []any
				}
				S string
			}
			tm, _ := b.args[1].(map[string]any)
			nested, _ := tm["nested"].(map[string]any)
			list, _ := nested["list"].([]any)
			if string(nested["u8"].([]byte)) != "\x04\x05" || len(list) != 2 || string(list[0].([]byte)) != "xy" {
				t.Errorf("nested binary %#v", b.args[1])
			}
			if err := Decode(b.args[1], &tree); err != nil || tree.S != "str" {
				t.Errorf("Decode(nested) = %+v, %v", tree, err)
			}
			if m := p.expect("srvbin"); js(m["args"]) != js([]any{bin(1, 2), map[string]any{"a": bin(3), "n": 5}}) {
				t.Errorf("server binary %s", js(m["args"]))
			}
			ask := recv(t, results, "ask")
			if ask.err != nil || js(ask.args) != `[42,"ok"]` {
				t.Errorf("EmitWithAck = %s, %v", js(ask.args), ask.err)
			}
			askbin := recv(t, results, "askbin")
			if askbin.err != nil || len(askbin.args) != 2 || !bytes.Equal(askbin.args[0].([]byte), []byte{0xde, 0xad, 0xff}) {
				t.Errorf("EmitWithAckFunc = %#v, %v", askbin.args, askbin.err)
			} else if inner, _ := askbin.args[1].(map[string]any); inner == nil || !bytes.Equal(inner["inner"].([]byte), []byte{1}) {
				t.Errorf("nested binary ack %#v", askbin.args[1])
			}
			done := p.expect("done")
			if done["transport"] != map[string]string{"websocket": "websocket", "polling": "polling", "upgrade": "websocket"}[mode] {
				t.Errorf("ended on %v", done["transport"])
			}
			p.wait()
			if r := recv(t, reasons, "disconnect"); r != ReasonClientDisconnect {
				t.Errorf("reason %q", r)
			}
			if mode == "upgrade" {
				h.waitMetric(`noom_signaling_upgrades_total{result="ok"}`, 1)
			}
			h.waitMetric(`noom_signaling_open_connections{transport="websocket"}`, 0)
			h.waitMetric(`noom_signaling_open_connections{transport="polling"}`, 0)
		})
	}
}

func TestInteropNamespaces(t *testing.T) {
	requireNode(t)
	h := newHub(t, Config{})
	h.srv.Of("/static").OnConnection(func(s *Socket) { s.Emit("hi", s.Namespace().Name()) })
	h.srv.OfFunc(func(name string, _ json.RawMessage) bool { return strings.HasPrefix(name, "/dyn-") }).
		OnConnection(func(s *Socket) { s.Emit("hi", s.Namespace().Name(), s.Handshake().Auth) })
	h.srv.Of("/guarded").Use(func(s *Socket) error {
		if !strings.Contains(string(s.Handshake().Auth), `"ok"`) {
			return &ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401, "why": "bad token"}}
		}
		return nil
	})
	p := runNode(t, "namespaces.mjs", h.url())
	if m := p.expect("static"); js(m["args"]) != `["/static"]` {
		t.Errorf("static: %v", m)
	}
	if m := p.expect("dynamic"); js(m["args"]) != `["/dyn-42",{"k":"v"}]` {
		t.Errorf("dynamic: %v", m)
	}
	if m := p.expect("refused"); m["message"] != "Invalid namespace" || m["active"] != false {
		t.Errorf("refused: %v", m)
	}
	if m := p.expect("guarded-refused"); m["message"] != "unauthorized" || js(m["data"]) != `{"code":401,"why":"bad token"}` {
		t.Errorf("middleware refusal: %v", m)
	}
	if m := p.expect("guarded"); m["connected"] != true {
		t.Errorf("guarded: %v", m)
	}
	if m := p.expect("done"); m["sameManager"] != true {
		t.Errorf("namespaces not multiplexed: %v", m)
	}
	p.wait()
	// Four namespaces over one connection, and one more for the second
	// socket of /guarded.
	if got := h.metric(`noom_signaling_connections_total{transport="websocket"}`); got != 2 {
		t.Errorf("%v connections", got)
	}
}

func TestInteropRooms(t *testing.T) {
	requireNode(t)
	const n = 6
	h := newHub(t, Config{PingInterval: 500 * time.Millisecond, PingTimeout: 5 * time.Second})
	type named struct {
		name int
		s    *Socket
	}
	conns := make(chan named, n)
	relayed := make(chan struct{}, 1)
	h.srv.OnConnection(func(s *Socket) {
		var auth struct{ Name int }
		Decode(s.Handshake().Auth, &auth)
		s.On("relay", func(args []any, _ Ack) {
			var room, msg string
			Decode(args[0], &room)
			Decode(args[1], &msg)
			s.To(room).Emit("m", msg) // not back to the sender
			relayed <- struct{}{}
		})
		conns <- named{auth.Name, s}
	})
	p := runNode(t, "rooms.mjs", h.url(), fmt.Sprint(n))
	var ss [n]*Socket
	for range n {
		c := recv(t, conns, "connection")
		ss[c.name] = c.s
	}
	for range n {
		p.expect("connect")
	}
	for i, rooms := range [][]string{{"red"}, {"red"}, {"red"}, {"blue"}, {}, {}} {
		if err := ss[i].Join(rooms...); err != nil {
			t.Fatal(err)
		}
	}
	h.srv.To("red").Emit("m", "to-red")
	h.srv.Except("red").Emit("m", "except-red")
	h.srv.To(ss[4].ID()).Emit("m", "private-4")
	ss[0].Emit("do-relay", "red")
	recv(t, relayed, "relay")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	acks, err := h.srv.Timeout(3*time.Second).EmitWithAck(ctx, "poll")
	if err != nil {
		t.Fatalf("EmitWithAck: %v (%d answers)", err, len(acks))
	}
	if len(acks) != n {
		t.Fatalf("%d answers", len(acks))
	}
	for _, a := range acks {
		var v struct{ Name int }
		Decode(a.Args[0], &v)
		if ss[v.Name].ID() != a.SID {
			t.Errorf("answer %s from %s", js(a.Args), a.SID)
		}
	}
	h.srv.In("blue").SocketsJoin("green")
	h.srv.To("green").Emit("m", "green")
	h.srv.In("red").SocketsLeave("red")
	h.srv.To("red").Emit("m", "red-after-leave")
	all, _ := h.srv.FetchSockets(context.Background())
	green, _ := h.srv.In("green").FetchSockets(context.Background())
	if len(all) != n || len(green) != 1 || green[0].ID != ss[3].ID() || !sameSet(green[0].Rooms, []string{ss[3].ID(), "blue", "green"}) {
		t.Errorf("FetchSockets: %d sockets, green %+v", len(all), green)
	}
	h.srv.In("green").DisconnectSockets(false)
	h.srv.Emit("done")

	want := map[int]string{
		0: `["to-red"]`,
		1: `["to-red","relay-from-0"]`,
		2: `["to-red","relay-from-0"]`,
		3: `["except-red","green"]`,
		4: `["except-red","private-4"]`,
		5: `["except-red"]`,
	}
	for range n {
		m := p.expect("log")
		name := int(m["name"].(float64))
		if js(m["got"]) != want[name] {
			t.Errorf("client %d got %s, want %s", name, js(m["got"]), want[name])
		}
		if wantReason := map[bool]any{true: "io server disconnect", false: nil}[name == 3]; m["reason"] != wantReason {
			t.Errorf("client %d: reason %v", name, m["reason"])
		}
	}
	p.wait()
}

func TestInteropReconnect(t *testing.T) {
	requireNode(t)
	for _, mode := range []string{"websocket", "polling"} {
		t.Run(mode, func(t *testing.T) {
			t.Cleanup(func() { checkNoLeaks(t) })
			cfg := Config{PingInterval: 300 * time.Millisecond, PingTimeout: 2 * time.Second}
			h := startHub(t, cfg)
			sockets := make(chan *Socket, 8)
			handler := func(s *Socket) { sockets <- s }
			h.srv.OnConnection(handler)
			closed := false
			t.Cleanup(func() {
				if !closed {
					h.close()
				}
			})
			p := runNode(t, "reconnect.mjs", h.url(), mode)

			// 1. The transport dies under the client: it reconnects, with a
			// new id.
			first := p.expect("connect")
			s1 := recv(t, sockets, "first connection")
			if first["id"] != s1.ID() {
				t.Fatalf("client id %v, server %s", first["id"], s1.ID())
			}
			killTransport(s1)
			if m := p.expect("disconnect"); m["reason"] != "transport close" && m["reason"] != "transport error" {
				t.Errorf("disconnect reason %v", m["reason"])
			}
			m := p.next()
			for m["ev"] == "attempt" || m["ev"] == "connect_error" {
				m = p.next()
			}
			if m["ev"] != "connect" || m["id"] == first["id"] {
				t.Fatalf("after a dropped transport: %v", m)
			}
			recv(t, sockets, "second connection")

			// 2. The server restarts on the same port: the client comes back.
			addr := h.hs.Listener.Addr().String()
			h.close()
			closed = true
			if m := p.expect("disconnect"); m["reason"] != "transport close" && m["reason"] != "transport error" {
				t.Errorf("disconnect reason on shutdown: %v (socket.io-client does not reconnect after %q)", m["reason"], "io server disconnect")
			}
			h2 := newHub(t, cfg, withAddr(addr))
			h2.srv.OnConnection(handler)
			for m = p.next(); m["ev"] == "attempt" || m["ev"] == "connect_error"; m = p.next() {
			}
			if m["ev"] != "connect" {
				t.Fatalf("after a restart: %v", m)
			}
			s3 := recv(t, sockets, "connection after restart")

			// 3. Disconnect(true): "io server disconnect", and socket.io-client
			// stays down.
			s3.Disconnect(true)
			if m := p.expect("disconnect"); m["reason"] != "io server disconnect" {
				t.Errorf("reason %v", m["reason"])
			}
			if m := p.expect("stayed-down"); m["attempts"] != 0.0 || m["active"] != false {
				t.Errorf("the client tried to reconnect: %v", m)
			}
			p.wait()
		})
	}
}

// killTransport drops a socket's connection under it, as a network failure
// would: the WebSocket is closed, or the polling session vanishes.
func killTransport(s *Socket) { s.client.conn.Abort(ReasonTransportError) }

func TestInteropMaxPayload(t *testing.T) {
	requireNode(t)
	const max = 10_000
	for _, mode := range []string{"websocket", "polling"} {
		t.Run(mode, func(t *testing.T) {
			h := newHub(t, Config{MaxPayload: max})
			reasons := make(chan string, 1)
			h.srv.OnConnection(func(s *Socket) {
				s.On("big", func(args []any, ack Ack) { ack(len(args[0].(json.RawMessage)) - 2) })
				s.OnDisconnect(func(r string) { reasons <- r })
			})
			p := runNode(t, "payload.mjs", h.url(), mode, fmt.Sprint(max))
			if m := p.expect("ack"); m["len"] != float64(max-len(`420["big",""]`)) {
				t.Errorf("ack %v", m)
			}
			m := p.expect("disconnect")
			if m["reason"] != "transport close" && m["reason"] != "transport error" {
				t.Errorf("client reason %v", m["reason"])
			}
			p.wait()
			if r := recv(t, reasons, "disconnect"); r != ReasonPayloadTooLarge {
				t.Errorf("server reason %q", r)
			}
			h.waitMetric(`noom_signaling_payload_rejections_total{transport="`+mode+`"}`, 1)
			t.Logf("client saw %q", m["reason"])
		})
	}
}

// TestCaptureClientFrames records the frames socket.io-client sends
// (testdata/interop/capture.mjs) against a hub, and stores them as the
// codecs' test data: testdata/captured/socket.io-client.jsonl, read by the
// codec tests, and seed corpora of the fuzz targets. Run it when the client
// changes:
//
//	NOOM_CAPTURE=1 go test -run TestCaptureClientFrames ./signaling/
func TestCaptureClientFrames(t *testing.T) {
	if os.Getenv("NOOM_CAPTURE") == "" {
		t.Skip("set NOOM_CAPTURE=1 to capture socket.io-client's frames into testdata")
	}
	requireNode(t)
	h := newHub(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 5 * time.Second})
	h.srv.OnConnection(func(s *Socket) {
		s.On("echo", func(args []any, ack Ack) { ack(args...) })
		s.On("ready", func([]any, Ack) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				s.EmitWithAck(ctx, "ask", 1)
				s.EmitWithAck(ctx, "askbin", []byte{1, 2})
				s.Emit("bye")
			}()
		})
	})
	h.srv.Of("/chat").OnConnection(func(s *Socket) {
		s.On("chat echo", func(args []any, ack Ack) { ack(args...) })
	})
	var version struct{ Version string }
	b, err := os.ReadFile(filepath.Join(interopDir, "node_modules", "socket.io-client", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &version)

	p := runNode(t, "capture.mjs", h.url())
	var lines []string
	lines = append(lines, js(map[string]any{"client": "socket.io-client", "version": version.Version}))
	var frames []map[string]any
	for {
		m := p.next()
		if m["ev"] == "done" {
			break
		}
		frames = append(frames, m)
		lines = append(lines, js(m))
	}
	p.wait()
	if err := os.MkdirAll("testdata/captured", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/captured/socket.io-client.jsonl", []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeSeedCorpora(t, frames)
}

// writeSeedCorpora writes the captured frames as seed corpus files of the
// codecs' fuzz targets, replacing earlier captures.
func writeSeedCorpora(t *testing.T, frames []map[string]any) {
	corpora := map[string][]string{} // dir → file contents
	add := func(dir string, values ...any) {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, v := range values {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case string:
				fmt.Fprintf(&b, "string(%q)\n", v)
			case uint8:
				fmt.Fprintf(&b, "byte(%q)\n", v)
			}
		}
		if !slices.Contains(corpora[dir], b.String()) {
			corpora[dir] = append(corpora[dir], b.String())
		}
	}
	sio := func(engineText string) {
		if !strings.HasPrefix(engineText, "4") {
			return
		}
		pkt := []byte(engineText[1:])
		add("socketio/testdata/fuzz/FuzzDecode", pkt)
		if i := strings.IndexAny(string(pkt), "[{\""); i >= 0 {
			data := pkt[i:]
			if data[0] == '[' {
				add("socketio/testdata/fuzz/FuzzSplitArray", data)
				if pkt[0] == '5' || pkt[0] == '6' {
					n, _ := strconv.Atoi(string(pkt[1:strings.IndexByte(string(pkt), '-')]))
					add("socketio/testdata/fuzz/FuzzReconstruct", data, uint8(n))
				}
			}
			for _, s := range regexp.MustCompile(`"(?:[^"\\]|\\.)*"`).FindAllString(string(data), -1) {
				var v string
				if json.Unmarshal([]byte(s), &v) == nil && v != "" {
					add("socketio/testdata/fuzz/FuzzAppendString", v)
				}
			}
		}
	}
	for _, f := range frames {
		switch f["kind"] {
		case "text":
			data := f["data"].(string)
			add("engineio/testdata/fuzz/FuzzDecodeText", []byte(data))
			sio(data)
		case "payload":
			data := f["data"].(string)
			add("engineio/testdata/fuzz/FuzzDecodePayload", []byte(data))
			for _, seg := range strings.Split(data, "\x1e") {
				add("engineio/testdata/fuzz/FuzzDecodeText", []byte(seg))
				sio(seg)
			}
		}
	}
	for dir, files := range corpora {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(dir, "captured-*"))
		for _, o := range old {
			os.Remove(o)
		}
		for i, content := range files {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("captured-%03d", i)), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: %d seeds", dir, len(files))
	}
}
