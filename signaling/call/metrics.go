package call

import (
	"github.com/noomrtc/noom/internal/promreg"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	joins        *prometheus.CounterVec // by result
	signals      *prometheus.CounterVec // by type
	chats        prometheus.Counter
	errors       *prometheus.CounterVec   // by code
	statsReports *prometheus.CounterVec   // by state, candidate type, protocol
	rtt          *prometheus.HistogramVec // by candidate type
}

func newMetrics(reg prometheus.Registerer, svc *Service) (*metrics, error) {
	const ns, sub = "noom", "call"
	m := &metrics{
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "joins_total",
			Help: "Room joins, by result (ok, room_full)."}, []string{"result"}),
		signals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "signals_total",
			Help: "WebRTC signals relayed, by type (offer, answer, candidate)."}, []string{"type"}),
		chats: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "chat_messages_total",
			Help: "Chat messages relayed."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "errors_total",
			Help: "Failed acks, by error code."}, []string{"code"}),
		statsReports: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "stats_reports_total",
			Help: "call-stats reports from browsers, by peer connection state, local candidate type and protocol."},
			[]string{"state", "candidate_type", "protocol"}),
		rtt: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "rtt_seconds",
			Help:    "Round-trip times browsers report for connected peers, by local candidate type.",
			Buckets: []float64{.005, .01, .025, .05, .1, .15, .2, .3, .5, 1, 2}}, []string{"candidate_type"}),
	}
	for _, r := range []string{"ok", "room_full"} {
		m.joins.WithLabelValues(r)
	}
	for _, t := range signalTypes {
		m.signals.WithLabelValues(t)
	}
	for _, c := range codes {
		m.errors.WithLabelValues(c)
	}
	for _, c := range append(candidateTypes, "other") {
		m.rtt.WithLabelValues(c)
	}
	collectors := []prometheus.Collector{m.joins, m.signals, m.chats, m.errors, m.statsReports, m.rtt,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "rooms",
			Help: "Call rooms with people in them now."}, func() float64 { return float64(len(svc.Rooms())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "participants",
			Help: "People in call rooms now (one per socket and room)."}, func() float64 {
			n := 0
			for _, r := range svc.Rooms() {
				n += r.Size
			}
			return float64(n)
		}),
	}
	if err := promreg.Register(reg, collectors...); err != nil {
		return nil, err
	}
	return m, nil
}
