package signaling

import (
	"errors"
	"strings"
	"testing"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetricsExposition drives a small known scenario and compares the
// exposition text, then lints it.
func TestMetricsExposition(t *testing.T) {
	h := newHub(t, Config{})
	sockets := collectSockets(h.srv.Of("/"))
	h.srv.OnConnection(func(s *Socket) {
		s.On("hello", func(args []any, ack Ack) { ack("hi") })
	})
	ca, a := h.connect("/")
	cb, _ := h.connect("/")
	p, _ := h.openPoll(nil)
	p.post("40")
	var pending []string
	p.next(&pending)
	sockets.get(t, a).Join("room")

	ca.send(`421["hello"]`)
	ca.expect(`431["hi"]`)
	h.srv.Emit("all", 1) // one event, three deliveries
	ca.expect(`42["all",1]`)
	cb.expect(`42["all",1]`)
	if got := p.next(&pending); got != `42["all",1]` {
		t.Fatalf("polling got %q", got)
	}
	cb.conn.Close()
	h.waitMetric(`noom_signaling_open_connections{transport="websocket"}`, 1)
	if err := testutil.GatherAndCompare(h.reg, strings.NewReader(`
# HELP noom_signaling_connections_total Engine.IO sessions opened, by the transport they opened on.
# TYPE noom_signaling_connections_total counter
noom_signaling_connections_total{transport="polling"} 1
noom_signaling_connections_total{transport="websocket"} 2
# HELP noom_signaling_handshakes_total Engine.IO handshakes, by result (ok, rejected).
# TYPE noom_signaling_handshakes_total counter
noom_signaling_handshakes_total{result="ok"} 3
noom_signaling_handshakes_total{result="rejected"} 0
# HELP noom_signaling_upgrades_total Polling to WebSocket upgrades, by result (ok, failed).
# TYPE noom_signaling_upgrades_total counter
noom_signaling_upgrades_total{result="failed"} 0
noom_signaling_upgrades_total{result="ok"} 0
# HELP noom_signaling_socket_connects_total Socket.IO namespace connections.
# TYPE noom_signaling_socket_connects_total counter
noom_signaling_socket_connects_total 3
# HELP noom_signaling_socket_disconnects_total Socket.IO namespace disconnections.
# TYPE noom_signaling_socket_disconnects_total counter
noom_signaling_socket_disconnects_total 1
# HELP noom_signaling_events_received_total Events received from clients.
# TYPE noom_signaling_events_received_total counter
noom_signaling_events_received_total 1
# HELP noom_signaling_events_sent_total Events and acks emitted (a broadcast counts once).
# TYPE noom_signaling_events_sent_total counter
noom_signaling_events_sent_total 2
# HELP noom_signaling_deliveries_total Packets queued to clients (a broadcast counts once per recipient).
# TYPE noom_signaling_deliveries_total counter
noom_signaling_deliveries_total 4
# HELP noom_signaling_open_connections Engine.IO sessions open now, by current transport.
# TYPE noom_signaling_open_connections gauge
noom_signaling_open_connections{transport="polling"} 1
noom_signaling_open_connections{transport="websocket"} 1
# HELP noom_signaling_sockets Socket.IO sockets connected now, over all namespaces.
# TYPE noom_signaling_sockets gauge
noom_signaling_sockets 2
# HELP noom_signaling_rooms Public rooms now (sockets' own rooms excluded), over all namespaces.
# TYPE noom_signaling_rooms gauge
noom_signaling_rooms 1
# HELP noom_signaling_namespaces Namespaces now.
# TYPE noom_signaling_namespaces gauge
noom_signaling_namespaces 1
`),
		"noom_signaling_connections_total", "noom_signaling_handshakes_total", "noom_signaling_upgrades_total",
		"noom_signaling_socket_connects_total", "noom_signaling_socket_disconnects_total",
		"noom_signaling_events_received_total", "noom_signaling_events_sent_total", "noom_signaling_deliveries_total",
		"noom_signaling_open_connections", "noom_signaling_sockets", "noom_signaling_rooms", "noom_signaling_namespaces",
	); err != nil {
		t.Error(err)
	}
	if got := h.metric(`noom_signaling_disconnects_total{reason="transport close"}`); got != 1 {
		t.Errorf("transport close disconnects %v", got)
	}
	for _, m := range []string{"noom_signaling_received_bytes_total", "noom_signaling_sent_bytes_total"} {
		if h.metric(m) <= 0 {
			t.Errorf("%s is zero", m)
		}
	}
	// Every reason is a series from the start, at zero.
	for _, r := range engineio.Reasons {
		h.metric(`noom_signaling_disconnects_total{reason="` + r + `"}`)
	}
	h.lint()
}

// TestMetricsLint lints the metrics of a fresh server.
func TestMetricsLint(t *testing.T) {
	t.Cleanup(func() { checkNoLeaks(t) })
	reg := prometheus.NewRegistry()
	srv, err := New(Config{Logger: quietLogger()}, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	n, err := testutil.GatherAndCount(reg)
	if err != nil {
		t.Fatal(err)
	}
	if n < 30 {
		t.Errorf("only %d series at start: labels are not pre-created", n)
	}
}

// TestMetricsDuplicateRegistration checks that a second server on the same
// registry fails instead of sharing or dropping metrics.
func TestMetricsDuplicateRegistration(t *testing.T) {
	t.Cleanup(func() { checkNoLeaks(t) }) // a failed New starts nothing
	reg := prometheus.NewRegistry()
	srv, err := New(Config{Logger: quietLogger()}, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	srv2, err := New(Config{Logger: quietLogger()}, reg)
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Errorf("second New on one registry: %v", err)
	}
	if srv2 != nil {
		srv2.Shutdown(t.Context())
	}
}
