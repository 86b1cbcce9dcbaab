package call

import (
	"github.com/prometheus/client_golang/prometheus"
)

// joinResults label noom_call_joins_total.
var joinResults = []string{"ok", CodeRoomFull, CodeBadPasscode, CodeNameTaken, CodeRateLimited}

// metrics holds resolved children: no label lookup on the hot path.
type metrics struct {
	joins        map[string]prometheus.Counter // by result; read-only after newMetrics
	signals      map[string]prometheus.Counter // by type
	chats        prometheus.Counter
	errors       map[string]prometheus.Counter // by code
	statsReports [][][]prometheus.Counter      // [state][candidate type][protocol], indexes of label()
	rtt          []prometheus.Observer         // [candidate type]
	listPushes   prometheus.Counter
	listBytes    prometheus.Counter
	subscribers  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, svc *Service) (*metrics, error) {
	const ns, sub = "noom", "call"
	joins := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "joins_total",
		Help: "Room joins, by result (ok, room_full, bad_passcode, name_taken, rate_limited)."}, []string{"result"})
	signals := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "signals_total",
		Help: "WebRTC signals relayed, by type (offer, answer, candidate)."}, []string{"type"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "errors_total",
		Help: "Failed acks, by error code."}, []string{"code"})
	reports := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "stats_reports_total",
		Help: "call-stats reports from browsers, by peer connection state, local candidate type and protocol."},
		[]string{"state", "candidate_type", "protocol"})
	rtt := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "rtt_seconds",
		Help:    "Round-trip times browsers report for connected peers, by local candidate type.",
		Buckets: []float64{.005, .01, .025, .05, .1, .15, .2, .3, .5, 1, 2}}, []string{"candidate_type"})
	m := &metrics{
		joins:   children(joins, joinResults),
		signals: children(signals, signalTypes),
		errors:  children(errs, codes),
		chats: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "chat_messages_total",
			Help: "Chat messages relayed."}),
		listPushes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "room_list_pushes_total",
			Help: "Room-list changes pushed to the subscribed sockets (each push goes to every subscriber)."}),
		listBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "room_list_push_bytes_total",
			Help: "Bytes of the room-list pushes, counted once per push (multiply by subscribers for what is sent)."}),
		subscribers: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "room_list_subscribers",
			Help: "Sockets subscribed to the room list now."}),
	}
	withOther := func(set []string) []string { return append(set[:len(set):len(set)], "other") }
	for _, st := range withOther(states) {
		var byType [][]prometheus.Counter
		for _, ct := range withOther(candidateTypes) {
			var byProto []prometheus.Counter
			for _, pr := range withOther(protocols) {
				byProto = append(byProto, reports.WithLabelValues(st, ct, pr))
			}
			byType = append(byType, byProto)
		}
		m.statsReports = append(m.statsReports, byType)
	}
	for _, ct := range withOther(candidateTypes) {
		m.rtt = append(m.rtt, rtt.WithLabelValues(ct))
	}
	collectors := []prometheus.Collector{joins, signals, m.chats, errs, reports, rtt, m.listPushes, m.listBytes, m.subscribers,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "rooms",
			Help: "Call rooms with people of this node in them now."}, func() float64 { return float64(svc.counts().rooms) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "participants",
			Help: "People of this node in call rooms now (one per socket and room)."}, func() float64 { return float64(svc.counts().participants) }),
	}
	if err := reg.Register(collectorSet(collectors)); err != nil {
		return nil, err
	}
	return m, nil
}

// children resolves and pre-creates one child per label value.
func children(v *prometheus.CounterVec, values []string) map[string]prometheus.Counter {
	out := make(map[string]prometheus.Counter, len(values))
	for _, val := range values {
		out[val] = v.WithLabelValues(val)
	}
	return out
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
