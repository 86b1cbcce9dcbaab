package engineio

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the transport's Prometheus metrics, named noom_signaling_*
// (the transport is part of the signaling component). Counters tick
// inline; "how many now" gauges are read at scrape time. No label carries
// an id.
type metrics struct {
	connections     *prometheus.CounterVec // by initial transport
	handshakes      *prometheus.CounterVec // by result
	upgrades        *prometheus.CounterVec // by result
	disconnects     *prometheus.CounterVec // by reason
	volatileDropped prometheus.Counter
	payloadRejected *prometheus.CounterVec // by transport
	oversize        prometheus.Counter
	queueDelay      prometheus.Histogram
	producerWait    prometheus.Histogram

	open [2]atomic.Int64 // sessions by current transport

	// Counts kept once, as plain atomics: Server.Stats reads them, and the
	// registry reads them at scrape time.
	count struct {
		bytesIn, bytesOut atomic.Uint64
		sessionsOpened    atomic.Uint64
		sessionsClosed    atomic.Uint64
		slowConsumers     atomic.Uint64
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
	for _, r := range Reasons {
		m.disconnects.WithLabelValues(r)
	}
	open := func(t transportKind) func() float64 {
		return func() float64 { return float64(m.open[t].Load()) }
	}
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help},
			func() float64 { return float64(v.Load()) })
	}
	openGauge := func(t transportKind) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "open_connections",
			Help: "Engine.IO sessions open now, by current transport.", ConstLabels: prometheus.Labels{"transport": t.String()}},
			open(t))
	}
	set := Collectors{
		m.connections, m.handshakes, m.upgrades, m.disconnects, m.volatileDropped,
		counter("received_bytes_total", "Engine.IO bytes received from clients.", &m.count.bytesIn),
		counter("sent_bytes_total", "Engine.IO bytes written to clients.", &m.count.bytesOut),
		counter("slow_consumer_disconnects_total", "Clients disconnected because they did not keep up (queue bytes or age).", &m.count.slowConsumers),
		m.payloadRejected, m.oversize, m.queueDelay, m.producerWait,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queued_bytes",
			Help: "Bytes queued to clients now and not yet written, over all connections."},
			func() float64 { return float64(srv.queuedBytes.Load()) }),
		openGauge(transportPolling), openGauge(transportWebSocket),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "parked_connections",
			Help: "Idle WebSocket connections waiting in the epoll set with no reader goroutine."},
			func() float64 { return float64(srv.park.count()) }),
	}
	if err := reg.Register(set); err != nil {
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

// Collectors is a set of metrics as one prometheus.Collector, registered
// with one Register: all or none, and a duplicate is an error. The
// signaling layer registers its own metrics the same way.
type Collectors []prometheus.Collector

// Describe implements prometheus.Collector.
func (cs Collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (cs Collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}
