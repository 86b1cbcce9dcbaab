package sioadmin

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNodeLogin(t *testing.T) {
	h := newHub(t, Config{Auth: testAuth(t)})
	d := startDriver(t)

	// Wrong password, unknown user, no credentials, a made-up session: all
	// get exactly "invalid credentials", which reopens the UI's login form.
	for i, auth := range []map[string]any{
		{"username": testUser, "password": "wrong"},
		{"username": "root", "password": testPassword},
		{},
		{"sessionId": "0123456789abcdef0123456789abcdef"},
	} {
		id := "bad" + string(rune('0'+i))
		d.connect(h, id, "/admin", auth)
		if m := d.waitEv(id, "connect_error"); m.str("message") != "invalid credentials" {
			t.Errorf("auth %v: connect_error %q, want invalid credentials", auth, m.str("message"))
		}
	}

	// Right credentials: session, then config.
	d.connect(h, "A", "/admin", password())
	d.waitEv("A", "connect")
	sess := d.waitEvent("A", "session", nil)
	if len(sess) != 1 || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(sess[0].(string)) {
		t.Fatalf("session %v, want a 32-hex id", sess)
	}
	d.waitEvent("A", "config", nil)

	// A reload: the session id alone logs in, with no new session.
	d.connect(h, "B", "/admin", map[string]any{"sessionId": sess[0]})
	d.waitEv("B", "connect")
	d.waitEvent("B", "config", nil)
	if d.seen(func(m msg) bool { return m.str("id") == "B" && m.str("name") == "session" }) {
		t.Error("a session login got a new session")
	}
	for result, want := range map[string]float64{loginFailed: 4, loginPassword: 1, loginSession: 1, loginThrottled: 0} {
		if got := testutil.ToFloat64(h.admin.m.logins.WithLabelValues(result)); got != want {
			t.Errorf("logins_total{result=%q} = %v, want %v", result, got, want)
		}
	}
}

func TestNodeThrottle(t *testing.T) {
	// 3 failures per minute per IP; the IP as a trusted proxy would tell.
	h := newHub(t, Config{Auth: testAuth(t), ClientIP: func(h signaling.Handshake) string { return h.Headers.Get("X-Real-Ip") }})
	d := startDriver(t)
	ip := func(a string) []any { return []any{"extraHeaders", map[string]string{"X-Real-Ip": a}} }
	for i := range 3 {
		id := "bad" + string(rune('0'+i))
		d.connect(h, id, "/admin", map[string]any{"username": testUser, "password": "guess"}, ip("192.0.2.1")...)
		d.waitEv(id, "connect_error")
	}
	d.connect(h, "other", "/admin", password(), ip("192.0.2.2")...)
	d.waitEv("other", "connect")
	d.connect(h, "A", "/admin", password(), ip("192.0.2.1")...)
	m := d.waitEv("A", "connect_error")
	if m.str("message") != msgThrottled {
		t.Fatalf("right password from a throttled IP: %v, want %q", m, msgThrottled)
	}
	if data, _ := m["data"].(map[string]any); data["retryAfter"].(float64) < 1 {
		t.Errorf("retryAfter %v", m["data"])
	}
}

func TestNodeNoCredentialsRefusesEveryone(t *testing.T) {
	h := newHub(t, Config{})
	d := startDriver(t)
	d.connect(h, "A", "/admin", password())
	if m := d.waitEv("A", "connect_error"); m.str("message") != "invalid credentials" {
		t.Fatalf("no credentials configured: %v", m)
	}
}

func TestNodeInsecure(t *testing.T) {
	h := newHub(t, Config{Insecure: true, ReadOnly: true})
	d := startDriver(t)
	d.connect(h, "A", "/admin", nil)
	d.waitEv("A", "connect")
	cfg := d.waitEvent("A", "config", nil)
	if got := features(cfg); !slices.Equal(got, []string{"AGGREGATED_EVENTS"}) {
		t.Errorf("read-only production features %v", got)
	}
}

func features(configArgs []any) []string {
	var out []string
	for _, f := range configArgs[0].(map[string]any)["supportedFeatures"].([]any) {
		out = append(out, f.(string))
	}
	return out
}

// stats returns the server_stats object of an event's args.
func statsOf(args []any) map[string]any { return args[0].(map[string]any) }

func TestNodeProduction(t *testing.T) {
	h := newHub(t, Config{Auth: testAuth(t)})
	d := startDriver(t)
	d.connect(h, "c1", "/", nil, "transports", []string{"polling"})
	d.waitEv("c1", "connect")

	start := time.Now()
	d.connect(h, "A", "/admin", password(), "transports", []string{"websocket"})
	d.waitEv("A", "connect")
	d.waitEvent("A", "session", nil)
	want := []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"}
	if got := features(d.waitEvent("A", "config", nil)); !slices.Equal(got, want) {
		t.Errorf("features %v, want %v", got, want)
	}
	st := statsOf(d.waitEvent("A", "server_stats", nil))
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("first server_stats after %v", el)
	}
	// c1 on polling, and the admin's own connection.
	if st["clientsCount"] != 2.0 || st["pollingClientsCount"] != 1.0 {
		t.Errorf("clientsCount %v pollingClientsCount %v, want 2 and 1", st["clientsCount"], st["pollingClientsCount"])
	}
	for _, k := range []string{"serverId", "hostname", "pid", "uptime", "aggregatedEvents", "namespaces"} {
		if _, ok := st[k]; !ok {
			t.Errorf("server_stats without %s: %v", k, st)
		}
	}
	ns := map[string]float64{}
	for _, n := range st["namespaces"].([]any) {
		ns[n.(map[string]any)["name"].(string)] = n.(map[string]any)["socketsCount"].(float64)
	}
	if ns["/"] != 1 || ns["/admin"] != 1 {
		t.Errorf("namespaces %v", ns)
	}

	// The periodic server_stats carries the 1-second buckets: the two
	// connections opened and, once c2 has come and gone, its close reason.
	d.connect(h, "c2", "/", nil, "transports", []string{"websocket"})
	d.waitEv("c2", "connect")
	d.emit("c2", "hello", "world")
	d.send(map[string]any{"op": "close", "id": "c2"})
	d.waitEv("c2", "disconnect")
	got := map[string]float64{}
	d.waitEvent("A", "server_stats", func(args []any) bool {
		for _, e := range statsOf(args)["aggregatedEvents"].([]any) {
			e := e.(map[string]any)
			if ts := e["timestamp"].(float64); int64(ts)%1000 != 0 {
				t.Errorf("bucket timestamp %v is not a whole second", ts)
			}
			got[e["type"].(string)+"/"+strOf(e["subType"])] += e["count"].(float64)
		}
		return got["rawConnection/"] >= 3 && got["rawDisconnection/transport close"] >= 1
	})
	for _, k := range []string{"packetsIn/", "packetsOut/", "bytesIn/", "bytesOut/"} {
		if got[k] == 0 {
			t.Errorf("no %s in aggregatedEvents: %v", k, got)
		}
	}
	// Production mode tells nothing per socket.
	if d.seen(func(m msg) bool { return m.str("id") == "A" && strings.HasPrefix(m.str("name"), "socket_") }) {
		t.Error("per-socket events in production mode")
	}
}

func strOf(v any) string { s, _ := v.(string); return s }

// findSocket finds a socket in all_sockets' array.
func findSocket(list []any, id string) map[string]any {
	for _, s := range list {
		if m := s.(map[string]any); m["id"] == id {
			return m
		}
	}
	return nil
}

func isISO(v any) bool {
	s, _ := v.(string)
	_, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	return err == nil
}

func TestNodeDevelopment(t *testing.T) {
	h := newHub(t, Config{Auth: testAuth(t), Mode: Development})
	h.srv.OnConnection(func(s *signaling.Socket) {
		s.On("enter", func(args []any, ack signaling.Ack) {
			var room string
			signaling.Decode(args[0], &room)
			s.Join(room)
			ack("ok")
		})
		s.On("ping?", func(args []any, ack signaling.Ack) { s.Emit("pong!", 42) })
	})
	d := startDriver(t)
	d.connect(h, "c1", "/", map[string]any{"token": "hunter2"}, "extraHeaders",
		map[string]string{"Authorization": "Bearer hunter2", "Cookie": "sid=hunter2", "X-Custom": "visible"})
	c1 := d.waitEv("c1", "connect").str("sid")

	d.connect(h, "A", "/admin", password())
	adminSID := d.waitEv("A", "connect").str("sid")
	d.waitEvent("A", "config", nil)
	all := d.waitEvent("A", "all_sockets", nil)[0].([]any)
	s := findSocket(all, c1)
	if s == nil {
		t.Fatalf("all_sockets %v lacks %s", all, c1)
	}
	if s["nsp"] != "/" || len(strOf(s["clientId"])) != 12 || (s["transport"] != "websocket" && s["transport"] != "polling") {
		t.Errorf("socket %v", s)
	}
	if rooms := s["rooms"].([]any); len(rooms) != 1 || rooms[0] != c1 {
		t.Errorf("rooms %v", rooms)
	}
	hs := s["handshake"].(map[string]any)
	hdr := hs["headers"].(map[string]any)
	// The hub keeps no Cookie or Authorization by default; one that an
	// application keeps (Config.KeepHeaders) shows redacted.
	for _, k := range []string{"authorization", "cookie"} {
		if v, ok := hdr[k]; ok && v != redacted {
			t.Errorf("header %s shown: %v", k, hdr)
		}
	}
	if hdr["user-agent"] == nil {
		t.Errorf("headers %v lack the user agent", hdr)
	}
	if strings.Contains(mustJSON(t, all), "hunter2") {
		t.Error("a secret reached all_sockets")
	}
	if issued := hs["issued"].(float64); time.Since(time.UnixMilli(int64(issued))) > time.Minute {
		t.Errorf("issued %v is not epoch ms", issued)
	}
	if hs["address"] != "127.0.0.1" || !strings.HasPrefix(strOf(hs["url"]), "/socket.io/?") || hs["query"].(map[string]any)["EIO"] != "4" {
		t.Errorf("handshake %v", hs)
	}
	if a := findSocket(all, adminSID); a == nil || a["nsp"] != "/admin" {
		t.Errorf("the admin socket is not listed: %v", all)
	}

	// A new client: connect, join, event in, event out, disconnect.
	d.connect(h, "c2", "/", nil, "transports", []string{"websocket"})
	c2 := d.waitEv("c2", "connect").str("sid")
	conn := d.waitEvent("A", "socket_connected", func(a []any) bool { return a[0].(map[string]any)["id"] == c2 })
	if cs := conn[0].(map[string]any); cs["clientId"] == s["clientId"] || len(strOf(cs["clientId"])) != 12 || !isISO(conn[1]) {
		t.Errorf("socket_connected %v", conn)
	}
	d.send(map[string]any{"op": "ack", "id": "c2", "seq": 1, "args": []any{"enter", "lobby"}})
	d.waitEv("c2", "ack")
	if a := d.waitEvent("A", "event_received", func(a []any) bool { return a[1] == c2 }); a[0] != "/" ||
		!slices.Equal(a[2].([]any), []any{"enter", "lobby"}) || !isISO(a[3]) {
		t.Errorf("event_received %v", a)
	}
	if a := d.waitEvent("A", "room_joined", func(a []any) bool { return a[2] == c2 }); a[0] != "/" || a[1] != "lobby" || !isISO(a[3]) {
		t.Errorf("room_joined %v", a)
	}
	d.emit("c2", "ping?")
	d.waitEvent("c2", "pong!", nil)
	if a := d.waitEvent("A", "event_sent", func(a []any) bool { return a[1] == c2 }); !slices.Equal(a[2].([]any), []any{"pong!", 42.0}) {
		t.Errorf("event_sent %v", a)
	}
	// A client on polling that upgrades: socket_updated with its transport.
	d.connect(h, "c3", "/", nil, "transports", []string{"polling", "websocket"})
	c3 := d.waitEv("c3", "connect").str("sid")
	if a := d.waitEvent("A", "socket_updated", func(a []any) bool { return a[0].(map[string]any)["id"] == c3 }); a[0].(map[string]any)["transport"] != "websocket" || a[0].(map[string]any)["nsp"] != "/" {
		t.Errorf("socket_updated %v", a)
	}

	d.send(map[string]any{"op": "close", "id": "c2"})
	if a := d.waitEvent("A", "socket_disconnected", func(a []any) bool { return a[1] == c2 }); a[0] != "/" ||
		a[2] != "client namespace disconnect" || !isISO(a[3]) {
		t.Errorf("socket_disconnected %v", a)
	}

	// The admin sockets' own traffic is not in the stream.
	if d.seen(func(m msg) bool {
		switch m.str("name") {
		case "event_received", "event_sent", "socket_disconnected", "room_joined", "room_left":
			return m.args()[0] == "/admin"
		case "socket_connected":
			return m.args()[0].(map[string]any)["nsp"] == "/admin"
		}
		return false
	}) {
		t.Errorf("the admin namespace in its own stream: %v", d.backlog)
	}
}

// probe returns once the admin socket's earlier packets are handled: the
// hub handles a socket's events in order, and the test's probe handler
// acks.
func probe(t *testing.T, h *hub, d *driver, id string, seq int) {
	t.Helper()
	d.send(map[string]any{"op": "ack", "id": id, "seq": seq, "args": []any{"probe"}})
	if m := d.waitEv(id, "ack"); m.args()[0] != "probed" {
		t.Fatalf("probe: %v", m)
	}
}

func addProbe(h *hub) {
	h.srv.Of(h.admin.Namespace()).OnConnection(func(s *signaling.Socket) {
		s.On("probe", func(_ []any, ack signaling.Ack) { ack("probed") })
	})
}

func TestNodeCommands(t *testing.T) {
	h := newHub(t, Config{Auth: testAuth(t), Mode: Development})
	addProbe(h)
	d := startDriver(t)
	d.connect(h, "c1", "/", nil)
	c1 := d.waitEv("c1", "connect").str("sid")
	d.connect(h, "c2", "/", nil)
	c2 := d.waitEv("c2", "connect").str("sid")
	d.connect(h, "A", "/admin", password())
	d.waitEv("A", "connect")
	root := h.srv.Lookup("/")

	d.emit("A", "join", "/", "vip", c1)
	if a := d.waitEvent("A", "room_joined", func(a []any) bool { return a[1] == "vip" }); a[2] != c1 {
		t.Errorf("room_joined %v", a)
	}
	if !slices.Contains(root.Socket(c1).Rooms(), "vip") || slices.Contains(root.Socket(c2).Rooms(), "vip") {
		t.Errorf("join with a filter: c1 %v c2 %v", root.Socket(c1).Rooms(), root.Socket(c2).Rooms())
	}
	d.emit("A", "emit", "/", "vip", "news", map[string]any{"n": 1})
	if a := d.waitEvent("c1", "news", nil); a[0].(map[string]any)["n"] != 1.0 {
		t.Errorf("news %v", a)
	}
	d.emit("A", "join", "/", "all") // no filter: every socket of the namespace
	d.waitEvent("A", "room_joined", func(a []any) bool { return a[1] == "all" && a[2] == c2 })
	d.emit("A", "leave", "/", "vip", c1)
	d.waitEvent("A", "room_left", func(a []any) bool { return a[1] == "vip" && a[2] == c1 })
	if slices.Contains(root.Socket(c1).Rooms(), "vip") {
		t.Error("leave did not act")
	}
	d.emit("A", "_disconnect", "/", false, c1)
	if m := d.waitEv("c1", "disconnect"); m.str("reason") != "io server disconnect" {
		t.Errorf("c1 disconnect %v", m)
	}
	// With close, the whole connection goes: the client says "io server
	// disconnect" if the DISCONNECT packet made it first, "transport close"
	// otherwise (as with Socket.IO); the hub's session close tells.
	closed := make(chan string, 4)
	defer h.srv.Observe(signaling.Observer{SessionClose: func(e signaling.SessionEvent) { closed <- e.Reason }})()
	d.emit("A", "_disconnect", "/", true, c2)
	if m := d.waitEv("c2", "disconnect"); m.str("reason") != "io server disconnect" && m.str("reason") != "transport close" {
		t.Errorf("c2 disconnect (close) %v", m)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Error("_disconnect with close left the connection open")
	}
	// Bad commands are refused and leave the admin connected.
	d.emit("A", "join", "/nowhere", "x")
	d.emit("A", "join", 42)
	d.emit("A", "_disconnect", "/", "yes")
	probe(t, h, d, "A", 1)
	if h.srv.Lookup("/nowhere") != nil {
		t.Error("a command created a namespace")
	}
}

func TestNodeReadOnly(t *testing.T) {
	h := newHub(t, Config{Auth: testAuth(t), Mode: Development, ReadOnly: true})
	addProbe(h)
	d := startDriver(t)
	d.connect(h, "c1", "/", nil)
	c1 := d.waitEv("c1", "connect").str("sid")
	d.connect(h, "A", "/admin", password())
	d.waitEv("A", "connect")
	if got := features(d.waitEvent("A", "config", nil)); !slices.Equal(got, []string{"AGGREGATED_EVENTS", "ALL_EVENTS"}) {
		t.Errorf("read-only development features %v", got)
	}
	d.emit("A", "join", "/", "vip", c1)
	d.emit("A", "emit", "/", c1, "news", 1)
	d.emit("A", "_disconnect", "/", true, c1)
	probe(t, h, d, "A", 1)
	s := h.srv.Lookup("/").Socket(c1)
	if s == nil || !s.Connected() || slices.Contains(s.Rooms(), "vip") {
		t.Fatal("a read-only admin acted")
	}
	if d.seen(func(m msg) bool { return m.str("id") == "c1" && m.str("name") == "news" }) {
		t.Error("a read-only admin emitted")
	}
}
