package sioadmin

import "github.com/prometheus/client_golang/prometheus"

// Login results.
const (
	loginPassword  = "password"  // right user name and password
	loginSession   = "session"   // a live session id
	loginInsecure  = "insecure"  // no check (Insecure)
	loginFailed    = "failed"    // wrong or missing credentials
	loginThrottled = "throttled" // the IP is throttled
)

// Reasons a per-socket event was not sent to an admin socket.
const (
	skipRate  = "rate"  // over EventRate
	skipQueue = "queue" // dropped, oldest first, from a full queue
)

// Commands, as labels.
var commandLabels = []string{cmdJoin, cmdLeave, "disconnect", cmdEmit}

type metrics struct {
	logins  *prometheus.CounterVec // by result
	skipped *prometheus.CounterVec // by reason
	// skippedRate and skippedQueue are skipped's two series, resolved
	// once: they tick on the hub's goroutines.
	skippedRate, skippedQueue prometheus.Counter
	sent                      prometheus.Counter
	commands                  *prometheus.CounterVec // by command, result
}

func newMetrics(reg prometheus.Registerer, admins func() float64) (*metrics, error) {
	const ns, sub = "noom", "sioadmin"
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "logins_total", Help: "Admin UI connections to the admin namespace, by result (password, session, insecure, failed, throttled)."}, []string{"result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "events_skipped_total", Help: "Per-socket events not sent to an admin socket, by reason (rate: over the rate limit; queue: dropped from a full queue)."}, []string{"reason"}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "events_sent_total", Help: "Per-socket events sent to admin sockets (development mode)."}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "commands_total", Help: "Admin UI commands, by command (join, leave, disconnect, emit) and result (ok, invalid)."}, []string{"command", "result"}),
	}
	for _, r := range []string{loginPassword, loginSession, loginInsecure, loginFailed, loginThrottled} {
		m.logins.WithLabelValues(r)
	}
	m.skippedRate, m.skippedQueue = m.skipped.WithLabelValues(skipRate), m.skipped.WithLabelValues(skipQueue)
	for _, c := range commandLabels {
		m.commands.WithLabelValues(c, "ok")
		m.commands.WithLabelValues(c, "invalid")
	}
	gauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
		Name: "admins", Help: "Admin sockets connected now."}, admins)
	for _, c := range []prometheus.Collector{m.logins, m.skipped, m.sent, m.commands, gauge} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
