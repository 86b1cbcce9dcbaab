package callredis

import "github.com/prometheus/client_golang/prometheus"

// Operations, the values of the op label.
const (
	opJoin    = "join"
	opLeave   = "leave"
	opMembers = "members"
	opShares  = "shares"
	opList    = "list"
	opLease   = "lease"
	opReap    = "reap"
	opPoll    = "poll"
	opResync  = "resync"
)

var (
	// socketOps are made for a socket and answered locally when Redis is
	// out of reach.
	socketOps = []string{opJoin, opLeave, opMembers, opShares, opList}
	allOps    = append(socketOps[:len(socketOps):len(socketOps)], opLease, opReap, opPoll, opResync)
)

type metrics struct {
	errors   map[string]prometheus.Counter  // by op
	local    map[string]prometheus.Counter  // by socket op
	seconds  map[string]prometheus.Observer // by op
	reaped   prometheus.Counter
	resyncs  prometheus.Counter
	collects []prometheus.Collector
}

func newMetrics(reg prometheus.Registerer, r *Registry) (*metrics, error) {
	const ns, sub = "noom", "call_registry"
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "redis_errors_total",
		Help: "Redis calls of the call-room registry that failed or timed out, by operation."}, []string{"op"})
	local := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "local_answers_total",
		Help: "Registry operations answered from this node's own rooms because Redis was out of reach, by operation."}, []string{"op"})
	secs := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "redis_seconds",
		Help:    "Duration of the registry's Redis calls, by operation.",
		Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, 1}}, []string{"op"})
	m := &metrics{errors: map[string]prometheus.Counter{}, local: map[string]prometheus.Counter{}, seconds: map[string]prometheus.Observer{},
		reaped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "reaped_members_total",
			Help: "Members of dead nodes (lease expired) removed by this node."}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "resyncs_total",
			Help: "Times this node put its members back in Redis after an outage or an expired lease."}),
	}
	for _, op := range allOps {
		m.errors[op] = errs.WithLabelValues(op)
		m.seconds[op] = secs.WithLabelValues(op)
	}
	for _, op := range socketOps {
		m.local[op] = local.WithLabelValues(op)
	}
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "redis_up",
		Help: "1 while the call rooms are shared through Redis, 0 while this node answers from its own rooms."},
		func() float64 {
			if r.up.Load() {
				return 1
			}
			return 0
		})
	m.collects = []prometheus.Collector{errs, local, secs, m.reaped, m.resyncs, up}
	if err := reg.Register(collectorSet(m.collects)); err != nil {
		return nil, err
	}
	return m, nil
}

// collectorSet registers the metrics with one Register: all or none, and a
// duplicate is an error.
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
