package redisadapter

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Drop reasons: a closed set, pre-created at zero.
const (
	dropQueueFull  = "queue_full"  // a publish or receive queue was full
	dropRedisError = "redis_error" // PUBLISH failed (Redis down, timeout)
	dropMalformed  = "malformed"   // a received message could not be decoded
	dropClosed     = "closed"      // the cluster or the namespace was closed
)

// Request kinds of the round-trip histogram: a closed set.
const (
	reqFetch     = "fetch_sockets"
	reqAllRooms  = "all_rooms"
	reqEmit      = "server_side_emit"
	reqBroadcast = "broadcast_ack"
)

// metrics are the adapter's Prometheus metrics; "now" gauges are read at
// scrape time.
type metrics struct {
	published, publishedBytes prometheus.Counter
	received, receivedBytes   prometheus.Counter
	dropped                   *prometheus.CounterVec
	requests                  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, c *Cluster) (*metrics, error) {
	const ns, sub = "noom", "redis"
	m := &metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "published_messages_total", Help: "Messages published to Redis."}),
		publishedBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "published_bytes_total", Help: "Payload bytes published to Redis."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "received_messages_total", Help: "Messages received from Redis on the adapter's channels, this node's own included."}),
		receivedBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "received_bytes_total", Help: "Payload bytes received from Redis."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "dropped_messages_total", Help: "Messages not published or not applied, by reason (queue_full, redis_error, malformed, closed)."}, []string{"reason"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "request_duration_seconds", Help: "Round trip of requests to the other nodes until every node answered or the wait ended, by request.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"request"}),
	}
	for _, r := range []string{dropQueueFull, dropRedisError, dropMalformed, dropClosed} {
		m.dropped.WithLabelValues(r)
	}
	for _, r := range []string{reqFetch, reqAllRooms, reqEmit, reqBroadcast} {
		m.requests.WithLabelValues(r)
	}
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
		Name: "up", Help: "1 when the subscriber connection to Redis is up and subscribed, else 0."},
		func() float64 {
			if c.Up() {
				return 1
			}
			return 0
		})
	nodes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
		Name: "nodes", Help: "Noom nodes heard from within the heartbeat timeout, this one included."},
		func() float64 { return float64(len(c.Nodes())) })
	for _, col := range []prometheus.Collector{m.published, m.publishedBytes, m.received, m.receivedBytes,
		m.dropped, m.requests, up, nodes} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) drop(reason string) { m.dropped.WithLabelValues(reason).Inc() }
