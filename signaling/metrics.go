package signaling

import (
	"sync/atomic"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Socket.IO layer's Prometheus metrics; the transport's
// (connections, bytes, queues, slow consumers) are engineio's, under the
// same noom_signaling_ prefix. Counters tick inline; "how many now"
// gauges are read at scrape time. No label carries an id or a name a
// client chooses.
type metrics struct {
	socketsConnected    prometheus.Counter
	socketsDisconnected prometheus.Counter
	eventsOut           prometheus.Counter

	// Counts kept once, as plain atomics: Server.Stats reads them, and the
	// registry reads them at scrape time.
	count struct {
		packetsIn, packetsOut atomic.Uint64 // Socket.IO packets (a broadcast counts per recipient)
	}
}

func newMetrics(reg prometheus.Registerer, srv *Server) (*metrics, error) {
	const ns, sub = "noom", "signaling"
	m := &metrics{
		socketsConnected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "socket_connects_total", Help: "Socket.IO namespace connections."}),
		socketsDisconnected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "socket_disconnects_total", Help: "Socket.IO namespace disconnections."}),
		eventsOut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "events_sent_total", Help: "Events and acks emitted (a broadcast counts once)."}),
	}
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help},
			func() float64 { return float64(v.Load()) })
	}
	gauge := func(name, help string, f func() int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help},
			func() float64 { return float64(f()) })
	}
	set := engineio.Collectors{
		m.socketsConnected, m.socketsDisconnected, m.eventsOut,
		counter("events_received_total", "Events received from clients.", &m.count.packetsIn),
		counter("deliveries_total", "Packets queued to clients (a broadcast counts once per recipient).", &m.count.packetsOut),
		gauge("sockets", "Socket.IO sockets connected now, over all namespaces.", func() int {
			n := 0
			for _, nsp := range srv.namespaces() {
				n += nsp.Len()
			}
			return n
		}),
		gauge("rooms", "Public rooms now (sockets' own rooms excluded), over all namespaces.", func() int {
			n := 0
			for _, nsp := range srv.namespaces() {
				n += nsp.RoomCount()
			}
			return n
		}),
		gauge("namespaces", "Namespaces now.", func() int { return len(srv.namespaces()) }),
	}
	if err := reg.Register(set); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *metrics) eventOut(recipients int) {
	m.eventsOut.Inc()
	m.count.packetsOut.Add(uint64(recipients))
}
