package admin

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Login results, the closed set of noom_admin_logins_total's label.
const (
	loginOK        = "ok"
	loginFailed    = "failed"
	loginThrottled = "throttled"
)

// metrics are the console's own metrics.
type metrics struct {
	logins  *prometheus.CounterVec
	viewers prometheus.Gauge
	skipped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "noom", "admin"
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "logins_total",
			Help: "Console log-in attempts (form and HTTP Basic), by result (ok, failed, throttled)."}, []string{"result"}),
		viewers: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "stream_viewers",
			Help: "Live message-flow viewers connected now."}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "stream_skipped_events_total",
			Help: "Message-flow events a viewer did not get because it fell behind (dropped oldest first)."}),
	}
	for _, r := range []string{loginOK, loginFailed, loginThrottled} {
		m.logins.WithLabelValues(r)
	}
	if err := reg.Register(collectorSet{m.logins, m.viewers, m.skipped}); err != nil {
		return nil, err
	}
	return m, nil
}

// collectorSet is the console's metrics as one Collector, registered with
// one reg.Register: all or none, and a duplicate is an error.
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
