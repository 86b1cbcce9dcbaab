package signaling

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's Prometheus metrics. Counters tick inline; "how
// many now" gauges are read at scrape time. No label carries an id or a
// name a client chooses.
type metrics struct {
	connections         *prometheus.CounterVec // by initial transport
	handshakes          *prometheus.CounterVec // by result
	upgrades            *prometheus.CounterVec // by result
	disconnects         *prometheus.CounterVec // by reason
	socketsConnected    prometheus.Counter
	socketsDisconnected prometheus.Counter
	eventsOut           prometheus.Counter
	volatileDropped     prometheus.Counter
	payloadRejected     *prometheus.CounterVec // by transport
	oversize            prometheus.Counter
	queueDelay          prometheus.Histogram
	producerWait        prometheus.Histogram

	open [2]atomic.Int64 // sessions by current transport

	// Counts kept once, as plain atomics: Server.Stats reads them, and the
	// registry reads them at scrape time (counterFunc).
	count struct {
		packetsIn, packetsOut atomic.Uint64 // Socket.IO packets (a broadcast counts per recipient)
		bytesIn, bytesOut     atomic.Uint64 // Engine.IO bytes
		sessionsOpened        atomic.Uint64
		sessionsClosed        atomic.Uint64
		slowConsumers         atomic.Uint64
	}
}

func newMetrics(reg prometheus.Registerer, srv *Server) (*metrics, error) {
	const ns, sub = "noom", "signaling"
	m := &metrics{
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "connections_total", Help: "Engine.IO sessions opened, by the transport they opened on."}, []string{"transport"}),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "handshakes_total", Help: "Engine.IO handshakes, by result (ok, rejected)."}, []string{"result"}),
		upgrades: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "upgrades_total", Help: "Polling to WebSocket upgrades, by result (ok, failed)."}, []string{"result"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "disconnects_total", Help: "Engine.IO sessions closed, by reason."}, []string{"reason"}),
		socketsConnected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "socket_connects_total", Help: "Socket.IO namespace connections."}),
		socketsDisconnected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "socket_disconnects_total", Help: "Socket.IO namespace disconnections."}),
		eventsOut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "events_sent_total", Help: "Events and acks emitted (a broadcast counts once)."}),
		volatileDropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "volatile_dropped_total", Help: "Volatile packets dropped for clients not ready to write."}),
		payloadRejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "payload_rejections_total", Help: "Messages or bodies over maxPayload, by transport."}, []string{"transport"}),
		oversize: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "oversize_dropped_total", Help: "Outgoing packets not sent because one alone is bigger than a client's queue bound."}),
		queueDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "queue_delay_seconds", Help: "How long the oldest packet of each WebSocket write waited in the hub before it was written.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
		producerWait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "producer_wait_seconds", Help: "How long a producer waited after a fan-out for recipients that were behind (backpressure).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
	}
	for _, t := range []string{"polling", "websocket"} {
		m.connections.WithLabelValues(t)
		m.payloadRejected.WithLabelValues(t)
	}
	for _, r := range []string{"ok", "rejected"} {
		m.handshakes.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "failed"} {
		m.upgrades.WithLabelValues(r)
	}
	for _, r := range reasons {
		m.disconnects.WithLabelValues(r)
	}
	open := func(t transportKind) func() float64 {
		return func() float64 { return float64(m.open[t].Load()) }
	}
	collectors := []prometheus.Collector{
		m.connections, m.handshakes, m.upgrades, m.disconnects, m.socketsConnected, m.socketsDisconnected,
		m.eventsOut, m.volatileDropped,
		counterFunc(ns, sub, "events_received_total", "Events received from clients.", &m.count.packetsIn),
		counterFunc(ns, sub, "deliveries_total", "Packets queued to clients (a broadcast counts once per recipient).", &m.count.packetsOut),
		counterFunc(ns, sub, "received_bytes_total", "Engine.IO bytes received from clients.", &m.count.bytesIn),
		counterFunc(ns, sub, "sent_bytes_total", "Engine.IO bytes written to clients.", &m.count.bytesOut),
		counterFunc(ns, sub, "slow_consumer_disconnects_total", "Clients disconnected because they did not keep up (queue bytes or age).", &m.count.slowConsumers),
		m.payloadRejected, m.oversize, m.queueDelay, m.producerWait,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queued_bytes",
			Help: "Bytes queued to clients now and not yet written, over all connections."},
			func() float64 { return float64(srv.queuedBytes.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "open_connections",
			Help: "Engine.IO sessions open now, by current transport.", ConstLabels: prometheus.Labels{"transport": "polling"}},
			open(transportPolling)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "open_connections",
			Help: "Engine.IO sessions open now, by current transport.", ConstLabels: prometheus.Labels{"transport": "websocket"}},
			open(transportWebSocket)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "sockets",
			Help: "Socket.IO sockets connected now, over all namespaces."}, func() float64 {
			n := 0
			for _, nsp := range srv.namespaces() {
				n += nsp.Len()
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "rooms",
			Help: "Public rooms now (sockets' own rooms excluded), over all namespaces."}, func() float64 {
			n := 0
			for _, nsp := range srv.namespaces() {
				n += nsp.RoomCount()
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "namespaces",
			Help: "Namespaces now."}, func() float64 { return float64(len(srv.namespaces())) }),
	}
	if err := reg.Register(collectorSet(collectors)); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *metrics) opened(t transportKind) {
	m.connections.WithLabelValues(t.String()).Inc()
	m.handshakes.WithLabelValues("ok").Inc()
	m.open[t].Add(1)
	m.count.sessionsOpened.Add(1)
}

func (m *metrics) transportSwitch(from, to transportKind) {
	m.open[from].Add(-1)
	m.open[to].Add(1)
}

func (m *metrics) closed(t transportKind, reason string) {
	m.open[t].Add(-1)
	m.disconnects.WithLabelValues(reason).Inc()
	m.count.sessionsClosed.Add(1)
}

func (m *metrics) received(n int) { m.count.bytesIn.Add(uint64(n)) }

func (m *metrics) wrote(n int) { m.count.bytesOut.Add(uint64(n)) }

func (m *metrics) eventOut(recipients int) {
	m.eventsOut.Inc()
	m.count.packetsOut.Add(uint64(recipients))
}

// counterFunc exposes a count kept as an atomic as a counter.
func counterFunc(ns, sub, name, help string, v *atomic.Uint64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help},
		func() float64 { return float64(v.Load()) })
}

// collectorSet is the component's metrics as one Collector, registered
// with one reg.Register: all or none, and a duplicate is an error.
type collectorSet []prometheus.Collector

func (cs collectorSet) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectorSet) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}
