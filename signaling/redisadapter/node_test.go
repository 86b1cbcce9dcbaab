package redisadapter_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/redisadapter"
)

// This file runs a mixed cluster: one Noom node and one Node socket.io
// 4.8 server on @socket.io/redis-adapter 8.x (createAdapter, the classic
// pub/sub adapter) on the same redis-server, with official
// socket.io-client connections on both (testdata/node/server.js starts
// the Node server and the clients, and takes commands over stdin). Every
// cluster-wide operation is driven from each side and checked on the
// other.

// nodeDir holds server.js and its pinned npm packages.
var nodeDir = filepath.Join("testdata", "node")

// nodePackages are what server.js imports.
var nodePackages = []string{"socket.io", "@socket.io/redis-adapter", "redis", "socket.io-client"}

// requireNode returns the node binary, or skips the test (fails it under
// CI) when node or the npm packages are missing.
func requireNode(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	for _, p := range nodePackages {
		if err != nil {
			break
		}
		_, err = os.Stat(filepath.Join(nodeDir, "node_modules", p, "package.json"))
	}
	if err != nil {
		msg := "!!! node or the npm packages of the mixed-cluster test are missing: run `npm ci --prefix signaling/redisadapter/testdata/node` (" +
			err.Error() + "); Noom's wire compatibility with Node's redis adapter is UNTESTED"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

// jsReply is one answer line of server.js.
type jsReply struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *string         `json:"error"`
	Ready  bool            `json:"ready"`
	Port   int             `json:"port"`
}

// nodeJS is a running server.js.
type nodeJS struct {
	t     testing.TB
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string        // the Node socket.io server
	read  chan struct{} // closed when stdout ends

	mu      sync.Mutex
	next    int
	waiting map[int]chan jsReply // command id → its answer
	log     strings.Builder      // what the process printed on stderr
}

// logged is what server.js printed on stderr so far, for failures.
func (n *nodeJS) logged() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

func (n *nodeJS) logLine(s string) {
	n.mu.Lock()
	n.log.WriteString(s)
	n.mu.Unlock()
}

// stderrLog keeps what server.js writes on stderr.
type stderrLog struct{ n *nodeJS }

func (w stderrLog) Write(p []byte) (int, error) {
	w.n.logLine(string(p))
	return len(p), nil
}

// startNodeJS starts server.js on the Redis at redisPort, with the Node
// adapter's requestsTimeout set to requestsTimeout. Cleanup closes its
// stdin (it closes its clients and exits) and waits for it.
func startNodeJS(t *testing.T, redisPort int, requestsTimeout time.Duration) *nodeJS {
	t.Helper()
	bin := requireNode(t)
	n := &nodeJS{t: t, waiting: map[int]chan jsReply{}, read: make(chan struct{})}
	n.cmd = exec.Command(bin, "server.js", strconv.Itoa(redisPort), strconv.FormatInt(requestsTimeout.Milliseconds(), 10))
	n.cmd.Dir = nodeDir
	n.cmd.Stderr = stderrLog{n}
	var err error
	if n.stdin, err = n.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := n.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan int, 1)
	go n.readLoop(stdout, ready)
	t.Cleanup(n.stop)
	select {
	case port := <-ready:
		n.url = "http://127.0.0.1:" + strconv.Itoa(port)
	case <-n.read:
		t.Fatalf("server.js exited before it was ready:\n%s", n.logged())
	case <-time.After(20 * time.Second):
		t.Fatalf("server.js not ready after 20s:\n%s", n.logged())
	}
	return n
}

func (n *nodeJS) readLoop(stdout io.Reader, ready chan<- int) {
	defer close(n.read)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r jsReply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			n.logLine("unparsable stdout line: " + sc.Text() + "\n")
			continue
		}
		if r.Ready {
			ready <- r.Port
			continue
		}
		n.mu.Lock()
		ch := n.waiting[r.ID]
		delete(n.waiting, r.ID)
		n.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

func (n *nodeJS) stop() {
	n.stdin.Close()
	exited := make(chan error, 1)
	go func() { exited <- n.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			n.t.Logf("server.js: %v\n%s", err, n.logged())
		}
	case <-time.After(10 * time.Second):
		n.t.Errorf("server.js did not exit 10s after its stdin closed; killed\n%s", n.logged())
		n.cmd.Process.Kill()
		<-exited
	}
	<-n.read
}

// try runs one command and returns its result, or its error.
func (n *nodeJS) try(op string, args map[string]any) (json.RawMessage, error) {
	cmd := map[string]any{}
	for k, v := range args {
		cmd[k] = v
	}
	ch := make(chan jsReply, 1)
	n.mu.Lock()
	n.next++
	id := n.next
	n.waiting[id] = ch
	n.mu.Unlock()
	cmd["id"], cmd["op"] = id, op
	line, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	if _, err := n.stdin.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("server.js stdin: %w", err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, errors.New(*r.Error)
		}
		return r.Result, nil
	case <-n.read:
		return nil, fmt.Errorf("server.js exited during %s:\n%s", op, n.logged())
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("server.js: no answer to %s in 30s", op)
	}
}

// do runs one command, failing the test on error, and decodes its result
// into out (a pointer, zeroed first; or nil).
func (n *nodeJS) do(t testing.TB, op string, args map[string]any, out any) {
	t.Helper()
	res, err := n.try(op, args)
	if err != nil {
		t.Fatalf("server.js %s %v: %v", op, args, err)
	}
	if out != nil {
		reflect.ValueOf(out).Elem().SetZero() // nothing left from a previous answer
		if err := json.Unmarshal(res, out); err != nil {
			t.Fatalf("server.js %s: result %s: %v", op, res, err)
		}
	}
}

// jsEvent is an event a client of server.js received.
type jsEvent struct {
	Event string          `json:"event"`
	Args  json.RawMessage `json:"args"`
}

// jsSocket is a socket as server.js's fetchSockets describes it.
type jsSocket struct {
	ID        string `json:"id"`
	Rooms     []string
	Data      map[string]any
	Handshake struct {
		Address string
		Query   map[string]any
		Auth    map[string]any
		Headers map[string]any
		Issued  int64
	}
}

// bin is a binary value as server.js's command lines carry it.
func bin(b []byte) map[string]any {
	return map[string]any{"$bin": base64.StdEncoding.EncodeToString(b)}
}

// mixed is the cluster of one test: Redis, a Noom node with its clients,
// and server.js with its own. Clients of both sides are official
// socket.io-client connections made by server.js, named n* (on Noom) and
// j* (on Node).
type mixed struct {
	nooms    []*node
	noomURLs []string
	noom     *node // the first Noom node
	noomURL  string
	js       *nodeJS
	sid      map[string]string // client name → socket id

	mu  sync.Mutex
	sse []string // server-side events the Noom node received: "event arg0"
	seq int      // fences
}

// Server-side events both sides listen to: "sse" is never answered,
// "sse-ack" is answered with {from, bin}, "sse-silent" is never answered
// even when an ack is asked.
const sseAnswerTimeout = 2 * time.Second

// newMixed starts Redis, server.js and nooms Noom nodes.
func newMixed(t *testing.T, nooms int) *mixed {
	t.Helper()
	requireNode(t)
	r := startRedis(t)
	m := &mixed{sid: map[string]string{}}
	for range nooms {
		n := newNode(t, r.addr(), redisadapter.Config{RequestTimeout: sseAnswerTimeout})
		m.nooms = append(m.nooms, n)
		m.noomURLs = append(m.noomURLs, m.serve(t, n.srv))
	}
	m.noom, m.noomURL = m.nooms[0], m.noomURLs[0]
	m.js = startNodeJS(t, r.port, sseAnswerTimeout)
	m.js.do(t, "listen", map[string]any{"event": "sse"}, nil)
	m.js.do(t, "listen", map[string]any{"event": "sse-ack", "answer": map[string]any{"from": "node", "bin": bin([]byte("node"))}}, nil)
	m.js.do(t, "listen", map[string]any{"event": "sse-silent", "silent": true}, nil)
	return m
}

// serve sets a Noom node's handlers up as server.js's and serves it on
// loopback.
func (m *mixed) serve(t *testing.T, srv *signaling.Server) string {
	for _, nsp := range []string{"/", "/chat"} {
		srv.Of(nsp).OnConnection(func(s *signaling.Socket) {
			var auth struct {
				Name  string   `json:"name"`
				Rooms []string `json:"rooms"`
			}
			json.Unmarshal(s.Handshake().Auth, &auth)
			if auth.Name != "nq" { // nq shows how a socket without data looks
				s.SetData(map[string]any{"side": "noom", "name": auth.Name})
			}
			s.Join(auth.Rooms...)
		})
	}
	record := func(event string) signaling.EventHandler {
		return func(args []any, ack signaling.Ack) {
			var first any
			if len(args) > 0 {
				signaling.Decode(args[0], &first)
			}
			m.mu.Lock()
			m.sse = append(m.sse, fmt.Sprint(event, " ", first))
			m.mu.Unlock()
			if event == "sse-ack" {
				ack(map[string]any{"from": "noom", "bin": []byte("noom")})
			}
		}
	}
	for _, ev := range []string{"sse", "sse-ack", "sse-silent"} {
		srv.OnServerSideEmit(ev, record(ev))
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	return hs.URL
}

// connect connects a client named name to namespace nsp of the first
// Noom node (n*), the second (m*) or Node (j*), in rooms.
func (m *mixed) connect(t *testing.T, name, nsp string, silent bool, rooms ...string) {
	t.Helper()
	var url string
	switch name[0] {
	case 'n':
		url = m.noomURLs[0]
	case 'm':
		url = m.noomURLs[1]
	default:
		url = m.js.url
	}
	url += nsp
	var res struct{ SID string }
	m.js.do(t, "connect", map[string]any{"name": name, "url": url, "rooms": rooms, "silent": silent}, &res)
	if res.SID == "" {
		t.Fatalf("%s: no socket id", name)
	}
	m.sid[name] = res.SID
}

// events waits until client name has count events named event, and
// returns every event it has received.
func (m *mixed) events(t *testing.T, name, event string, count int) []jsEvent {
	t.Helper()
	var evs []jsEvent
	m.js.do(t, "waitEvents", map[string]any{"name": name, "event": event, "count": count}, &evs)
	return evs
}

// only returns the events named event among evs.
func only(evs []jsEvent, event string) []jsEvent {
	var out []jsEvent
	for _, e := range evs {
		if e.Event == event {
			out = append(out, e)
		}
	}
	return out
}

// fence broadcasts a fresh event to every socket from side ("noom" or
// "node") and waits until each named client has it: since one node
// publishes in order and each node applies in order, whatever that side
// broadcast before has then reached them too. It returns their events.
func (m *mixed) fence(t *testing.T, side string, names ...string) map[string][]jsEvent {
	t.Helper()
	m.seq++
	ev := "fence" + strconv.Itoa(m.seq)
	if side == "noom" {
		if err := m.noom.srv.Emit(ev); err != nil {
			t.Fatal(err)
		}
	} else {
		m.js.do(t, "emit", map[string]any{"event": ev}, nil)
	}
	out := map[string][]jsEvent{}
	for _, n := range names {
		out[n] = m.events(t, n, ev, 1)
	}
	return out
}

// sameJSON fails unless got and want are the same JSON value.
func sameJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %s: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: got %s, want %s", what, got, want)
	}
}

// eventually retries cond until it holds or a generous bound passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMixedCluster checks that a Noom node and a Node socket.io server
// with @socket.io/redis-adapter form one cluster: every operation of the
// adapter, started on either side, acts on the other side's sockets.
func TestMixedCluster(t *testing.T) {
	m := newMixed(t, 1)
	// Rooms: a and b span both sides; only-noom and only-node do not; s
	// holds the quiet clients (nq, jq), which never ack; gone-* hold
	// clients the other side disconnects.
	m.connect(t, "n1", "/", false, "a", "b")
	m.connect(t, "n2", "/", false, "a")
	m.connect(t, "n3", "/", false, "c", "only-noom")
	m.connect(t, "nq", "/", true, "s")
	m.connect(t, "nd", "/", false, "gone-noom")
	m.connect(t, "j1", "/", false, "a", "b")
	m.connect(t, "j2", "/", false, "a")
	m.connect(t, "j3", "/", false, "c", "only-node")
	m.connect(t, "jq", "/", true, "s")
	m.connect(t, "jd", "/", false, "gone-node")
	m.connect(t, "nc", "/chat", false, "a")
	m.connect(t, "jc", "/chat", false, "a")
	ctx := context.Background()
	srv := m.noom.srv

	t.Run("serverCount", func(t *testing.T) {
		n, err := srv.ServerCount(ctx)
		if err != nil || n != 2 {
			t.Errorf("Noom ServerCount = %d, %v; want 2", n, err)
		}
		var jn int
		m.js.do(t, "serverCount", nil, &jn)
		if jn != 2 {
			t.Errorf("Node serverCount = %d, want 2", jn)
		}
	})

	t.Run("allRooms", func(t *testing.T) {
		rooms, err := srv.Of("/").AllRooms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"a", "b", "c", "s", "only-noom", "only-node", m.sid["j1"], m.sid["n1"]} {
			if !slices.Contains(rooms, r) {
				t.Errorf("Noom AllRooms lacks %q: %v", r, rooms)
			}
		}
		var jrooms []string
		m.js.do(t, "allRooms", nil, &jrooms)
		for _, r := range []string{"a", "b", "c", "s", "only-noom", "only-node", m.sid["j1"], m.sid["n1"]} {
			if !slices.Contains(jrooms, r) {
				t.Errorf("Node allRooms lacks %q: %v", r, jrooms)
			}
		}
	})

	t.Run("fetchSockets", func(t *testing.T) { m.checkFetch(t) })
	t.Run("broadcast", func(t *testing.T) { m.checkBroadcast(t) })
	t.Run("broadcastWithAck", func(t *testing.T) { m.checkAcks(t) })
	t.Run("serverSideEmit", func(t *testing.T) { m.checkServerSideEmit(t) })
	t.Run("socketsJoinLeave", func(t *testing.T) { m.checkJoinLeave(t) })
	t.Run("namespace", func(t *testing.T) { m.checkNamespace(t) })
	t.Run("disconnectSockets", func(t *testing.T) { m.checkDisconnect(t) })
}

// checkNamespace checks that another namespace than "/" is one cluster
// too, apart from "/".
func (m *mixed) checkNamespace(t *testing.T) {
	chat := m.noom.srv.Of("/chat")
	if n, err := chat.ServerCount(context.Background()); err != nil || n != 2 {
		t.Errorf("Noom /chat ServerCount = %d, %v; want 2", n, err)
	}
	var jn int
	m.js.do(t, "serverCount", map[string]any{"nsp": "/chat"}, &jn)
	if jn != 2 {
		t.Errorf("Node /chat serverCount = %d, want 2", jn)
	}
	socks, err := chat.FetchSockets(context.Background())
	if got := ids(socks); err != nil || !slices.Equal(got, sorted([]string{m.sid["nc"], m.sid["jc"]})) {
		t.Errorf("Noom /chat FetchSockets = %v, %v; want nc and jc", got, err)
	}
	var js []jsSocket
	m.js.do(t, "fetchSockets", map[string]any{"nsp": "/chat"}, &js)
	if len(js) != 2 {
		t.Errorf("Node /chat fetchSockets: %d sockets, want 2", len(js))
	}
	if err := chat.To("a").Emit("chat-noom", []byte{5}); err != nil {
		t.Fatal(err)
	}
	m.js.do(t, "emit", map[string]any{"nsp": "/chat", "rooms": []string{"a"}, "event": "chat-node", "args": []any{bin([]byte{6})}}, nil)
	for _, n := range []string{"nc", "jc"} {
		sameJSON(t, n+" chat-noom", only(m.events(t, n, "chat-noom", 1), "chat-noom")[0].Args, `[{"$bin":"BQ=="}]`)
		sameJSON(t, n+" chat-node", only(m.events(t, n, "chat-node", 1), "chat-node")[0].Args, `[{"$bin":"Bg=="}]`)
	}
	// Room a of "/" got neither: fences on "/" from both sides, published
	// after the /chat broadcasts on the same Redis connections.
	all := m.fence(t, "noom", "n1", "n2", "j1", "j2")
	for n, evs := range m.fence(t, "node", "n1", "n2", "j1", "j2") {
		all[n] = append(all[n], evs...)
	}
	m.checkCounts(t, all, map[string]map[string]int{"chat-noom": {}, "chat-node": {}})
}

func (m *mixed) checkFetch(t *testing.T) {
	ctx := context.Background()
	// Noom sees Node's sockets, with their rooms, data and handshake.
	socks, err := m.noom.srv.FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(socks) != 10 {
		t.Errorf("Noom FetchSockets: %d sockets, want 10", len(socks))
	}
	var j3 *signaling.RemoteSocket
	for _, s := range socks {
		if s.ID == m.sid["j3"] {
			j3 = s
		}
	}
	if j3 == nil {
		t.Fatalf("Noom FetchSockets lacks j3 (%s)", m.sid["j3"])
	}
	slices.Sort(j3.Rooms)
	if want := []string{"c", "only-node", m.sid["j3"]}; !slices.Equal(j3.Rooms, sorted(want)) {
		t.Errorf("j3 rooms seen from Noom = %v, want %v", j3.Rooms, sorted(want))
	}
	var data map[string]any
	if err := signaling.Decode(j3.Data, &data); err != nil || data["side"] != "node" || data["name"] != "j3" {
		t.Errorf("j3 data seen from Noom = %v (%v), want side node, name j3", j3.Data, err)
	}
	h := j3.Handshake
	var auth map[string]any
	json.Unmarshal(h.Auth, &auth)
	if auth["name"] != "j3" || h.Query.Get("EIO") != "4" || h.RemoteAddr != "127.0.0.1" ||
		h.Time.IsZero() || h.Host == "" {
		t.Errorf("j3 handshake seen from Noom: auth %s, query %v, address %q, time %v, host %q",
			h.Auth, h.Query, h.RemoteAddr, h.Time, h.Host)
	}
	// With rooms: only the sockets of c, one per side.
	socks, err = m.noom.srv.In("c").FetchSockets(ctx)
	if got := ids(socks); err != nil || !slices.Equal(got, sorted([]string{m.sid["n3"], m.sid["j3"]})) {
		t.Errorf("Noom In(c).FetchSockets = %v, %v; want n3 and j3", got, err)
	}
	socks, err = m.noom.srv.In("a").Except("b").FetchSockets(ctx)
	if got := ids(socks); err != nil || !slices.Equal(got, sorted([]string{m.sid["n2"], m.sid["j2"]})) {
		t.Errorf("Noom In(a).Except(b).FetchSockets = %v, %v; want n2 and j2", got, err)
	}

	// Node sees Noom's sockets the same way.
	var js []jsSocket
	m.js.do(t, "fetchSockets", nil, &js)
	if len(js) != 10 {
		t.Errorf("Node fetchSockets: %d sockets, want 10", len(js))
	}
	var n3 *jsSocket
	for i := range js {
		if js[i].ID == m.sid["n3"] {
			n3 = &js[i]
		}
	}
	if n3 == nil {
		t.Fatalf("Node fetchSockets lacks n3 (%s)", m.sid["n3"])
	}
	slices.Sort(n3.Rooms)
	if want := sorted([]string{"c", "only-noom", m.sid["n3"]}); !slices.Equal(n3.Rooms, want) {
		t.Errorf("n3 rooms seen from Node = %v, want %v", n3.Rooms, want)
	}
	if n3.Data["side"] != "noom" || n3.Data["name"] != "n3" {
		t.Errorf("n3 data seen from Node = %v", n3.Data)
	}
	for _, s := range js {
		if s.ID == m.sid["nq"] && (s.Data == nil || len(s.Data) != 0) {
			t.Errorf("nq, without data, seen from Node with data %#v; want {} as Node's own sockets start with", s.Data)
		}
	}
	nh := n3.Handshake
	if nh.Auth["name"] != "n3" || nh.Query["EIO"] != "4" || nh.Address != "127.0.0.1" ||
		nh.Issued == 0 || !strings.HasPrefix(fmt.Sprint(nh.Headers["host"]), "127.0.0.1:") {
		t.Errorf("n3 handshake seen from Node: %+v", nh)
	}
	m.js.do(t, "fetchSockets", map[string]any{"rooms": []string{"a"}, "except": []string{"b"}}, &js)
	var got []string
	for _, s := range js {
		got = append(got, s.ID)
	}
	if slices.Sort(got); !slices.Equal(got, sorted([]string{m.sid["n2"], m.sid["j2"]})) {
		t.Errorf("Node to(a).except(b).fetchSockets = %v, want n2 and j2", got)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func ids(socks []*signaling.RemoteSocket) []string {
	var out []string
	for _, s := range socks {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

// The arguments of the broadcasts: text, binary at the top and nested
// (Buffer on Node, []byte on Noom), a number.
const wantArgs = `["hello",{"$bin":"AQID"},{"k":{"$bin":"BA=="},"n":[1,"x"]},7]`

func (m *mixed) checkBroadcast(t *testing.T) {
	srv := m.noom.srv
	// Noom → Node: to a, except b; binary both at the top and nested.
	if err := srv.To("a").Except("b").Emit("from-noom", "hello", []byte{1, 2, 3},
		map[string]any{"k": []byte{4}, "n": []any{1, "x"}}, 7); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"j2", "n2"} {
		got := only(m.events(t, n, "from-noom", 1), "from-noom")
		sameJSON(t, n+" from-noom", got[0].Args, wantArgs)
	}
	// Except a socket id of the other side; to a socket id of the other side.
	if err := srv.To("a").Except(m.sid["j2"]).Emit("from-noom-except-sid", 1); err != nil {
		t.Fatal(err)
	}
	if err := srv.To(m.sid["j3"]).Emit("from-noom-to-sid", 2); err != nil {
		t.Fatal(err)
	}
	m.events(t, "j3", "from-noom-to-sid", 1)
	for _, n := range []string{"j1", "n1", "n2"} {
		m.events(t, n, "from-noom-except-sid", 1)
	}
	all := m.fence(t, "noom", "n1", "n2", "n3", "nq", "j1", "j2", "j3", "jq")
	m.checkCounts(t, all, map[string]map[string]int{
		"from-noom":            {"n2": 1, "j2": 1},
		"from-noom-except-sid": {"n1": 1, "n2": 1, "j1": 1},
		"from-noom-to-sid":     {"j3": 1},
	})

	// Node → Noom: the same, the other way.
	var args []any
	json.Unmarshal([]byte(wantArgs), &args)
	m.js.do(t, "emit", map[string]any{"rooms": []string{"a"}, "except": []string{"b"}, "event": "from-node", "args": args}, nil)
	for _, n := range []string{"n2", "j2"} {
		got := only(m.events(t, n, "from-node", 1), "from-node")
		sameJSON(t, n+" from-node", got[0].Args, wantArgs)
	}
	m.js.do(t, "emit", map[string]any{"rooms": []string{"a"}, "except": []string{m.sid["n2"]}, "event": "from-node-except-sid", "args": []any{1}}, nil)
	m.js.do(t, "emit", map[string]any{"rooms": []string{m.sid["n3"]}, "event": "from-node-to-sid", "args": []any{2}}, nil)
	m.events(t, "n3", "from-node-to-sid", 1)
	all = m.fence(t, "node", "n1", "n2", "n3", "nq", "j1", "j2", "j3", "jq")
	m.checkCounts(t, all, map[string]map[string]int{
		"from-node":            {"n2": 1, "j2": 1},
		"from-node-except-sid": {"n1": 1, "j1": 1, "j2": 1},
		"from-node-to-sid":     {"n3": 1},
	})
}

// checkCounts checks how many of each event each client got: want names
// the clients that got it, every other client must not have it.
func (m *mixed) checkCounts(t *testing.T, all map[string][]jsEvent, want map[string]map[string]int) {
	t.Helper()
	for ev, by := range want {
		for name, evs := range all {
			if got := len(only(evs, ev)); got != by[name] {
				t.Errorf("%s got %d %q events, want %d", name, got, ev, by[name])
			}
		}
	}
}

// ackBy reads an answer of server.js's clients, {by, event, bin}, and
// checks that bin crossed as binary.
func ackBy(t *testing.T, args []any) string {
	t.Helper()
	if len(args) != 1 {
		t.Errorf("ack args %v: want one value", args)
		return ""
	}
	var v struct {
		By  string `json:"by"`
		Bin []byte `json:"bin"`
	}
	if err := signaling.Decode(args[0], &v); err != nil {
		t.Errorf("ack %v: %v", args[0], err)
	}
	if tree, ok := args[0].(map[string]any); !ok {
		t.Errorf("ack %#v from %s: want a tree with a []byte leaf", args[0], v.By)
	} else if b, ok := tree["bin"].([]byte); !ok || string(b) != v.By {
		t.Errorf("ack from %s: bin = %#v, want the bytes %q", v.By, tree["bin"], v.By)
	}
	return v.By
}

func (m *mixed) checkAcks(t *testing.T) {
	ctx := context.Background()
	srv := m.noom.srv
	// Noom asks a; both sides' clients answer, with binary.
	res, err := srv.To("a").Timeout(5*time.Second).EmitWithAck(ctx, "ask", "q", []byte{9})
	if err != nil {
		t.Errorf("Noom EmitWithAck to a: %v", err)
	}
	var by []string
	for _, r := range res {
		by = append(by, ackBy(t, r.Args))
	}
	if slices.Sort(by); !slices.Equal(by, []string{"j1", "j2", "n1", "n2"}) {
		t.Errorf("Noom EmitWithAck to a answered by %v, want j1 j2 n1 n2", by)
	}
	for _, n := range []string{"j1", "n1"} {
		got := only(m.events(t, n, "ask", 1), "ask")
		sameJSON(t, n+" ask", got[0].Args, `["q",{"$bin":"CQ=="}]`)
	}
	// Silent clients on both sides: the answers in time, then the timeout.
	res, err = srv.To("a", "s").Timeout(2*time.Second).EmitWithAck(ctx, "ask-some")
	by = by[:0]
	for _, r := range res {
		by = append(by, ackBy(t, r.Args))
	}
	if slices.Sort(by); !errors.Is(err, signaling.ErrAckTimeout) || !slices.Equal(by, []string{"j1", "j2", "n1", "n2"}) {
		t.Errorf("Noom EmitWithAck to a and s = %v, %v; want 4 answers and ErrAckTimeout", by, err)
	}
	m.events(t, "jq", "ask-some", 1)

	// Node asks a; both sides' clients answer.
	type jsAcks struct {
		Error     string // "" when every answer came
		Responses []struct {
			By  string          `json:"by"`
			Bin json.RawMessage `json:"bin"`
		}
	}
	var ja jsAcks
	m.js.do(t, "emitWithAck", map[string]any{"rooms": []string{"a"}, "timeout": 5000, "event": "ask-node", "args": []any{"q", bin([]byte{9})}}, &ja)
	by = by[:0]
	for _, r := range ja.Responses {
		by = append(by, r.By)
		sameJSON(t, "ack bin from "+r.By, r.Bin, fmt.Sprintf(`{"$bin":%q}`, base64.StdEncoding.EncodeToString([]byte(r.By))))
	}
	if slices.Sort(by); ja.Error != "" || !slices.Equal(by, []string{"j1", "j2", "n1", "n2"}) {
		t.Errorf("Node emitWithAck to a: error %q, answered by %v; want j1 j2 n1 n2", ja.Error, by)
	}
	got := only(m.events(t, "n2", "ask-node", 1), "ask-node")
	sameJSON(t, "n2 ask-node", got[0].Args, `["q",{"$bin":"CQ=="}]`)
	m.js.do(t, "emitWithAck", map[string]any{"rooms": []string{"a", "s"}, "timeout": 2000, "event": "ask-node-some"}, &ja)
	by = by[:0]
	for _, r := range ja.Responses {
		by = append(by, r.By)
	}
	if slices.Sort(by); ja.Error == "" || !slices.Equal(by, []string{"j1", "j2", "n1", "n2"}) {
		t.Errorf("Node emitWithAck to a and s: error %q, answered by %v; want a timeout and j1 j2 n1 n2", ja.Error, by)
	}
	m.events(t, "nq", "ask-node-some", 1)

	// A room with no member on the other side: that side still reports
	// its count (0), so neither waits for the timeout.
	res, err = srv.To("only-noom").Timeout(5*time.Second).EmitWithAck(ctx, "ask-alone")
	if len(res) != 1 || err != nil {
		t.Errorf("Noom EmitWithAck to only-noom = %v, %v; want n3's answer and no error", res, err)
	}
	m.js.do(t, "emitWithAck", map[string]any{"rooms": []string{"only-node"}, "timeout": 5000, "event": "ask-node-alone"}, &ja)
	if ja.Error != "" || len(ja.Responses) != 1 || ja.Responses[0].By != "j3" {
		t.Errorf("Node emitWithAck to only-node: error %q, answers %v; want j3's", ja.Error, ja.Responses)
	}

	// Node's RemoteSocket of a Noom socket: an ack expecting one answer.
	var one struct {
		Error    string
		Response struct {
			By string `json:"by"`
		}
	}
	m.js.do(t, "remoteEmitWithAck", map[string]any{"sid": m.sid["n2"], "timeout": 5000, "event": "ask-one"}, &one)
	if one.Error != "" || one.Response.By != "n2" {
		t.Errorf("Node RemoteSocket emit with ack to n2: error %q, answer %+v; want n2's", one.Error, one.Response)
	}
}

func (m *mixed) checkServerSideEmit(t *testing.T) {
	srv := m.noom.srv
	type jsSSE struct {
		Args    []json.RawMessage
		WithAck bool
	}
	// Noom → Node, without an ack.
	if err := srv.ServerSideEmit("sse", "plain", 1); err != nil {
		t.Fatal(err)
	}
	var evs []jsSSE
	m.js.do(t, "waitServerEvents", map[string]any{"event": "sse"}, &evs)
	if len(evs) != 1 || evs[0].WithAck || len(evs[0].Args) != 2 || string(evs[0].Args[0]) != `"plain"` {
		t.Errorf("Node got sse %+v, want one, [plain 1], no ack", evs)
	}
	// With an ack: Node answers once.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := srv.ServerSideEmitWithAck(ctx, "sse-ack", "asked")
	if err != nil || len(res) != 1 {
		t.Fatalf("Noom ServerSideEmitWithAck = %v, %v; want one answer", res, err)
	}
	var ans map[string]any
	if err := signaling.Decode(res[0], &ans); err != nil || ans["from"] != "node" {
		t.Errorf("Noom ServerSideEmitWithAck answer = %#v (%v), want from node", res[0], err)
	}
	m.js.do(t, "waitServerEvents", map[string]any{"event": "sse-ack"}, &evs)
	if len(evs) != 1 || !evs[0].WithAck {
		t.Errorf("Node got sse-ack %+v, want one with an ack", evs)
	}
	// Node does not answer: Noom times out with no answer.
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	res, err = srv.ServerSideEmitWithAck(ctx2, "sse-silent", "asked")
	if !errors.Is(err, signaling.ErrAckTimeout) || len(res) != 0 {
		t.Errorf("Noom ServerSideEmitWithAck to a silent Node = %v, %v; want none and ErrAckTimeout", res, err)
	}
	m.js.do(t, "waitServerEvents", map[string]any{"event": "sse-silent"}, &evs)

	// Node → Noom, without an ack, then with one.
	m.js.do(t, "serverSideEmit", map[string]any{"event": "sse", "args": []any{"from node"}}, nil)
	eventually(t, "Noom gets sse", func() bool { return m.sseHas("sse from node") })
	var ja struct {
		Error     string // "" when every answer came
		Responses []map[string]any
	}
	m.js.do(t, "serverSideEmitWithAck", map[string]any{"event": "sse-ack", "args": []any{"asked"}}, &ja)
	if ja.Error != "" || len(ja.Responses) != 1 || ja.Responses[0]["from"] != "noom" {
		t.Errorf("Node serverSideEmitWithAck = %q, %v; want one answer from noom", ja.Error, ja.Responses)
	}
	if !m.sseHas("sse-ack asked") {
		t.Error("Noom did not record sse-ack")
	}
	// Noom does not answer: Node times out after its requestsTimeout.
	m.js.do(t, "serverSideEmitWithAck", map[string]any{"event": "sse-silent", "args": []any{"asked"}}, &ja)
	if ja.Error == "" || !strings.Contains(ja.Error, "timeout") || len(ja.Responses) != 0 {
		t.Errorf("Node serverSideEmitWithAck to a silent Noom = %q, %v; want a timeout and no answer", ja.Error, ja.Responses)
	}
	if !m.sseHas("sse-silent asked") {
		t.Error("Noom did not record sse-silent")
	}
}

func (m *mixed) sseHas(s string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Contains(m.sse, s)
}

// jsRooms is the rooms of a socket of server.js, as Node has them.
func (m *mixed) jsRooms(t *testing.T, name string) []string {
	var socks []jsSocket
	m.js.do(t, "localSockets", nil, &socks)
	for _, s := range socks {
		if s.ID == m.sid[name] {
			return s.Rooms
		}
	}
	t.Fatalf("Node has no socket %s", name)
	return nil
}

func (m *mixed) noomRooms(t *testing.T, name string) []string {
	s := m.noom.srv.Of("/").Socket(m.sid[name])
	if s == nil {
		t.Fatalf("Noom has no socket %s", name)
	}
	return s.Rooms()
}

func (m *mixed) checkJoinLeave(t *testing.T) {
	srv := m.noom.srv
	// Noom makes the sockets of c join a room, then leave it: j3 on Node too.
	if err := srv.In("c").SocketsJoin("joined-by-noom"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "j3 joins joined-by-noom", func() bool { return slices.Contains(m.jsRooms(t, "j3"), "joined-by-noom") })
	if !slices.Contains(m.noomRooms(t, "n3"), "joined-by-noom") {
		t.Error("n3 did not join joined-by-noom")
	}
	if slices.Contains(m.jsRooms(t, "j1"), "joined-by-noom") {
		t.Error("j1, not in c, joined joined-by-noom")
	}
	if err := srv.In("c").Except("only-node").SocketsLeave("c"); err != nil {
		t.Fatal(err)
	}
	if err := srv.In("joined-by-noom").SocketsLeave("joined-by-noom"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "j3 leaves joined-by-noom", func() bool { return !slices.Contains(m.jsRooms(t, "j3"), "joined-by-noom") })
	if !slices.Contains(m.jsRooms(t, "j3"), "c") {
		t.Error("j3 left c although except only-node")
	}
	if slices.Contains(m.noomRooms(t, "n3"), "c") {
		t.Error("n3 is still in c")
	}

	// Node does the same to Noom's sockets (n3 is no longer in c).
	m.js.do(t, "socketsJoin", map[string]any{"rooms": []string{"only-noom"}, "join": []string{"joined-by-node", "c"}}, nil)
	eventually(t, "n3 joins joined-by-node", func() bool { return slices.Contains(m.noomRooms(t, "n3"), "joined-by-node") })
	if !slices.Contains(m.noomRooms(t, "n3"), "c") {
		t.Error("n3 did not join c")
	}
	m.js.do(t, "socketsLeave", map[string]any{"rooms": []string{"joined-by-node"}, "leave": []string{"joined-by-node"}}, nil)
	eventually(t, "n3 leaves joined-by-node", func() bool { return !slices.Contains(m.noomRooms(t, "n3"), "joined-by-node") })
	if slices.Contains(m.noomRooms(t, "n1"), "joined-by-node") {
		t.Error("n1 joined joined-by-node")
	}
}

func (m *mixed) checkDisconnect(t *testing.T) {
	// Noom disconnects Node's jd; Node disconnects Noom's nd (closing its
	// connection).
	if err := m.noom.srv.In("gone-node").DisconnectSockets(false); err != nil {
		t.Fatal(err)
	}
	var reason string
	m.js.do(t, "waitGone", map[string]any{"name": "jd"}, &reason)
	if reason != "io server disconnect" {
		t.Errorf("jd disconnected with %q, want io server disconnect", reason)
	}
	m.js.do(t, "disconnectSockets", map[string]any{"rooms": []string{"gone-noom"}, "close": true}, nil)
	m.js.do(t, "waitGone", map[string]any{"name": "nd"}, &reason)
	if reason == "" {
		t.Error("nd not disconnected")
	}
	eventually(t, "Noom forgets nd", func() bool { return m.noom.srv.Of("/").Socket(m.sid["nd"]) == nil })
	// Nobody else went.
	socks, err := m.noom.srv.FetchSockets(context.Background())
	if err != nil || len(socks) != 8 {
		t.Errorf("after the disconnects: %d sockets (%v), want 8", len(socks), err)
	}
}

// TestMixedThreeNodes checks that with two Noom nodes and one Node server
// every node answers every request once: each side's cluster-wide reads
// and acks count both others.
func TestMixedThreeNodes(t *testing.T) {
	m := newMixed(t, 2)
	m.connect(t, "n1", "/", false, "a")
	m.connect(t, "m1", "/", false, "a")
	m.connect(t, "j1", "/", false, "a")
	ctx := context.Background()
	all := sorted([]string{m.sid["n1"], m.sid["m1"], m.sid["j1"]})
	for i, n := range m.nooms {
		if c, err := n.srv.ServerCount(ctx); c != 3 || err != nil {
			t.Errorf("Noom node %d: ServerCount = %d, %v; want 3", i, c, err)
		}
		socks, err := n.srv.FetchSockets(ctx)
		if got := ids(socks); err != nil || !slices.Equal(got, all) {
			t.Errorf("Noom node %d: FetchSockets = %v, %v; want %v", i, got, err, all)
		}
	}
	var js []jsSocket
	m.js.do(t, "fetchSockets", nil, &js)
	var got []string
	for _, s := range js {
		got = append(got, s.ID)
	}
	if slices.Sort(got); !slices.Equal(got, all) {
		t.Errorf("Node fetchSockets = %v, want %v", got, all)
	}
	var rooms []string
	m.js.do(t, "allRooms", nil, &rooms)
	for _, r := range append(all, "a") {
		if !slices.Contains(rooms, r) {
			t.Errorf("Node allRooms lacks %q: %v", r, rooms)
		}
	}

	// Acks from the three nodes' clients, asked from each side.
	res, err := m.nooms[1].srv.To("a").Timeout(5*time.Second).EmitWithAck(ctx, "ask")
	var by []string
	for _, r := range res {
		by = append(by, ackBy(t, r.Args))
	}
	if slices.Sort(by); err != nil || !slices.Equal(by, []string{"j1", "m1", "n1"}) {
		t.Errorf("Noom node 1 EmitWithAck = %v, %v; want j1 m1 n1", by, err)
	}
	var ja struct {
		Error     string
		Responses []struct {
			By string `json:"by"`
		}
	}
	m.js.do(t, "emitWithAck", map[string]any{"rooms": []string{"a"}, "timeout": 5000, "event": "ask-node"}, &ja)
	by = by[:0]
	for _, r := range ja.Responses {
		by = append(by, r.By)
	}
	if slices.Sort(by); ja.Error != "" || !slices.Equal(by, []string{"j1", "m1", "n1"}) {
		t.Errorf("Node emitWithAck: error %q, answered by %v; want j1 m1 n1", ja.Error, by)
	}

	// Server-side emits with acks: two answers each way.
	answers, err := m.noom.srv.ServerSideEmitWithAck(ctx, "sse-ack", "three")
	var from []string
	for _, a := range answers {
		var v struct{ From string }
		signaling.Decode(a, &v)
		from = append(from, v.From)
	}
	if slices.Sort(from); err != nil || !slices.Equal(from, []string{"node", "noom"}) {
		t.Errorf("Noom ServerSideEmitWithAck = %v, %v; want answers from node and noom", from, err)
	}
	var jsse struct {
		Error     string
		Responses []map[string]any
	}
	m.js.do(t, "serverSideEmitWithAck", map[string]any{"event": "sse-ack", "args": []any{"three"}}, &jsse)
	if jsse.Error != "" || len(jsse.Responses) != 2 {
		t.Errorf("Node serverSideEmitWithAck = %q, %v; want two answers", jsse.Error, jsse.Responses)
	}

	// A join from Node reaches both Noom nodes' sockets.
	m.js.do(t, "socketsJoin", map[string]any{"rooms": []string{"a"}, "join": []string{"joined"}}, nil)
	for i, n := range m.nooms {
		name := []string{"n1", "m1"}[i]
		eventually(t, name+" joins joined", func() bool {
			s := n.srv.Of("/").Socket(m.sid[name])
			return s != nil && slices.Contains(s.Rooms(), "joined")
		})
	}
}
