package stunturn

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values. Every label is a small closed set, pre-created at zero.

type transport uint8

const (
	transportUDP transport = iota
	transportTCP
	transportTLS
	numTransports
)

var transportNames = [numTransports]string{"udp", "tcp", "tls"}

func (t transport) String() string { return transportNames[t] }

type reqMethod uint8

const (
	methodBinding reqMethod = iota
	methodAllocate
	methodRefresh
	methodCreatePermission
	methodChannelBind
	methodOther
	numMethods
)

var methodNames = [numMethods]string{"binding", "allocate", "refresh", "create_permission", "channel_bind", "other"}

type reqResult uint8

const (
	resultSuccess reqResult = iota // a success response was sent
	resultError                    // an error response was sent
	resultDropped                  // no response was sent
	numResults
)

var resultNames = [numResults]string{"success", "error", "dropped"}

type authResult uint8

const (
	authOK authResult = iota
	authExpired
	authBadIntegrity
	authUnknown // a username that is not a REST username, or another realm
	numAuthResults
)

var authNames = [numAuthResults]string{"ok", "expired", "bad_integrity", "unknown"}

// authReasonNames are the AuthEvent reasons of the results.
var authReasonNames = [numAuthResults]string{"", AuthExpired, AuthBadIntegrity, AuthUnknown}

type allocFailure uint8

const (
	allocFailAuth                 allocFailure = iota // credentials refused (401)
	allocFailQuota                                    // 486
	allocFailCapacity                                 // 508: no relay port
	allocFailMismatch                                 // 437: the 5-tuple has an allocation
	allocFailBadRequest                               // 400
	allocFailUnsupportedTransport                     // 442: REQUESTED-TRANSPORT other than UDP
	allocFailAddressFamily                            // 440: IPv6 relay requested
	allocFailUnknownAttribute                         // 420
	allocFailPresence                                 // 403: the user is not present (Config.Presence)
	allocFailOther
	numAllocFailures
)

var allocFailureNames = [numAllocFailures]string{
	"auth", "quota", "capacity", "mismatch", "bad_request",
	"unsupported_transport", "address_family", "unknown_attribute", "presence", "other",
}

type connDrop uint8

const (
	connDropIdle            connDrop = iota // TCPIdleTimeout without an allocation
	connDropLimit                           // MaxConnections reached
	connDropWriteTimeout                    // the client stopped reading
	connDropBadFrame                        // neither STUN nor ChannelData, or too large
	connDropIPLimit                         // MaxTCPConnsPerIP reached
	connDropUnauthenticated                 // no allocation within TCPAuthTimeout
	numConnDrops
)

var connDropNames = [numConnDrops]string{"idle", "limit", "write_timeout", "bad_frame", "ip_limit", "unauthenticated"}

// metrics holds every instrument, resolved to label values up front so that
// the packet paths do no map lookups. It is one prometheus.Collector,
// registered with a single Register call.
type metrics struct {
	collectors []prometheus.Collector // what Describe and Collect walk

	requests      [numTransports][numMethods][numResults]prometheus.Counter
	auth          [numAuthResults]prometheus.Counter
	allocations   prometheus.Counter
	allocFailures [numAllocFailures]prometheus.Counter
	relayBytes    [2]prometheus.Counter // by direction: toPeer, toClient
	relayPackets  [2]prometheus.Counter
	relayDropped  prometheus.Counter
	peersDenied   map[denyReason]prometheus.Counter
	connDrops     [numConnDrops]prometheus.Counter
	lifetime      prometheus.Histogram
}

const (
	dirToPeer   = 0 // client to peer: written on a relay socket
	dirToClient = 1 // peer to client: read on a relay socket
)

var directionNames = [2]string{"client_to_peer", "peer_to_client"}

// gaugeSource is what the scrape-time gauges read.
type gaugeSource interface {
	counts() stateCounts
}

type stateCounts struct {
	allocations [numTransports]int
	permissions int
	channels    int
	connections [numTransports]int
}

// newMetrics builds the instruments and registers them on reg as one
// Collector. A registration error (a duplicate included) is returned,
// never swallowed; nothing stays registered then.
func newMetrics(reg prometheus.Registerer, src gaugeSource) (*metrics, error) {
	m := &metrics{peersDenied: make(map[denyReason]prometheus.Counter, len(denyReasons))}

	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "noom_stun_requests_total",
		Help: "STUN requests received, by transport, method and result (success or error response sent, or dropped without one).",
	}, []string{"transport", "method", "result"})
	for t := range numTransports {
		for me := range numMethods {
			for r := range numResults {
				m.requests[t][me][r] = requests.WithLabelValues(transportNames[t], methodNames[me], resultNames[r])
			}
		}
	}

	auth := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "noom_turn_auth_total",
		Help: "Long-term credential checks of TURN requests, by result.",
	}, []string{"result"})
	for r := range numAuthResults {
		m.auth[r] = auth.WithLabelValues(authNames[r])
	}

	m.allocations = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "noom_turn_allocations_total",
		Help: "TURN allocations created.",
	})

	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "noom_turn_allocation_failures_total",
		Help: "Authenticated Allocate requests refused, by reason.",
	}, []string{"reason"})
	for r := range numAllocFailures {
		m.allocFailures[r] = failures.WithLabelValues(allocFailureNames[r])
	}

	relayBytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "noom_turn_relay_bytes_total",
		Help: "Payload bytes relayed, by direction.",
	}, []string{"direction"})
	relayPackets := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "noom_turn_relay_packets_total",
		Help: "Datagrams relayed, by direction.",
	}, []string{"direction"})
	for d, name := range directionNames {
		m.relayBytes[d] = relayBytes.WithLabelValues(name)
		m.relayPackets[d] = relayPackets.WithLabelValues(name)
	}
	m.relayDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "noom_turn_relay_dropped_packets_total",
		Help: "Datagrams that reached a relay socket from a peer without permission.",
	})

	denied := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "noom_turn_peers_denied_total",
		Help: "Peer addresses refused in CreatePermission, ChannelBind, Send and relayed data, by reason.",
	}, []string{"reason"})
	for _, r := range denyReasons {
		m.peersDenied[r] = denied.WithLabelValues(string(r))
	}

	drops := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "noom_turn_connections_dropped_total",
		Help: "TCP and TLS connections closed by the server, by reason.",
	}, []string{"reason"})
	for r := range numConnDrops {
		m.connDrops[r] = drops.WithLabelValues(connDropNames[r])
	}

	m.lifetime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "noom_turn_allocation_lifetime_seconds",
		Help:    "How long allocations lived, observed when they end.",
		Buckets: []float64{1, 10, 30, 60, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400},
	})

	m.collectors = []prometheus.Collector{
		requests, auth, m.allocations, failures, relayBytes, relayPackets,
		m.relayDropped, denied, drops, m.lifetime, newStateCollector(src),
	}
	if err := reg.Register(m); err != nil {
		return nil, fmt.Errorf("stunturn: registering metrics: %w", err)
	}
	return m, nil
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors {
		c.Collect(ch)
	}
}

// stateCollector reports "how many now" gauges from a snapshot taken at
// scrape time.
type stateCollector struct {
	src         gaugeSource
	allocations *prometheus.Desc
	permissions *prometheus.Desc
	channels    *prometheus.Desc
	connections *prometheus.Desc
}

func newStateCollector(src gaugeSource) *stateCollector {
	return &stateCollector{
		src: src,
		allocations: prometheus.NewDesc("noom_turn_allocations",
			"TURN allocations now, by the transport between client and server.", []string{"transport"}, nil),
		permissions: prometheus.NewDesc("noom_turn_permissions",
			"TURN permissions now, over all allocations.", nil, nil),
		channels: prometheus.NewDesc("noom_turn_channels",
			"TURN channel bindings now, over all allocations.", nil, nil),
		connections: prometheus.NewDesc("noom_turn_connections",
			"TCP and TLS connections open now, by transport.", []string{"transport"}, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.allocations
	ch <- c.permissions
	ch <- c.channels
	ch <- c.connections
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.src.counts()
	for t := range numTransports {
		ch <- prometheus.MustNewConstMetric(c.allocations, prometheus.GaugeValue, float64(n.allocations[t]), transportNames[t])
	}
	ch <- prometheus.MustNewConstMetric(c.permissions, prometheus.GaugeValue, float64(n.permissions))
	ch <- prometheus.MustNewConstMetric(c.channels, prometheus.GaugeValue, float64(n.channels))
	for _, t := range []transport{transportTCP, transportTLS} {
		ch <- prometheus.MustNewConstMetric(c.connections, prometheus.GaugeValue, float64(n.connections[t]), transportNames[t])
	}
}
