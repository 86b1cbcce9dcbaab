package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/prometheus/client_golang/prometheus"
)

// Server is a Socket.IO v5 server over Engine.IO v4. It is an http.Handler
// to mount at Config.Path.
//
// The layers: engineio.Server is the transport (sessions, WebSocket and
// polling, upgrade, heartbeat, the writer with its lanes) and knows
// nothing of namespaces, rooms or acks; each of its sessions gets a client
// here (client.go), which parses Socket.IO packets and holds one Socket
// per namespace joined.
type Server struct {
	cfg Config
	eng *engineio.Server
	// keepHeaders is Config.KeepHeaders, canonical, as a set.
	keepHeaders map[string]bool
	log         interface{ Warn(string, ...any) }
	metrics     *metrics
	obs         atomic.Pointer[[]*observerEntry]
	obsMu       sync.Mutex // serializes changes to obs

	mu sync.RWMutex
	// mu guards the following fields.
	// pending is, per client IP, the bytes of binary attachments received
	// for packets not yet complete (Config.MaxPendingBytesPerIP).
	pending map[string]int
	nsps    map[string]*Namespace
	dynamic []dynamicNamespace

	started time.Time // when New made the server, for Stats
}

type dynamicNamespace struct {
	match  func(name string, auth json.RawMessage) bool
	parent *Namespace
}

// New makes a Server. Metrics are registered on reg (required: a private
// registry in main, or prometheus.NewRegistry() in tests).
func New(cfg Config, reg prometheus.Registerer) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	srv := &Server{
		cfg:         cfg,
		keepHeaders: make(map[string]bool),
		log:         cfg.Logger,
		pending:     make(map[string]int),
		nsps:        make(map[string]*Namespace),
		started:     time.Now(),
	}
	for _, h := range cfg.KeepHeaders {
		srv.keepHeaders[http.CanonicalHeaderKey(h)] = true
	}
	eng, err := engineio.NewServer(cfg.engine(), engineHandler{srv}, reg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	srv.eng = eng
	srv.cfg.setEngine(eng.Config())
	m, err := newMetrics(reg, srv)
	if err != nil {
		return nil, err
	}
	srv.metrics = m
	srv.Of("/")
	return srv, nil
}

// Config returns the effective configuration, defaults filled in.
func (srv *Server) Config() Config { return srv.cfg }

// ServeHTTP serves the Engine.IO endpoint: handshakes, polling requests and
// WebSocket connections.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	srv.eng.ServeHTTP(w, r)
}

// reservePending counts n more pending attachment bytes against ip's
// budget, or reports that they do not fit.
func (srv *Server) reservePending(ip string, n int) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.pending[ip]+n > srv.cfg.MaxPendingBytesPerIP {
		return false
	}
	srv.pending[ip] += n
	return true
}

func (srv *Server) releasePending(ip string, n int) {
	srv.mu.Lock()
	if srv.pending[ip] -= n; srv.pending[ip] <= 0 {
		delete(srv.pending, ip)
	}
	srv.mu.Unlock()
}

// Shutdown stops accepting connections, disconnects every socket (with
// reason "server shutting down"; the clients see their transport close, so
// socket.io-client reconnects, to another node or to this one restarted),
// and waits until every connection has drained or ctx is done, when it
// drops what is left. It returns ctx.Err() in the latter case.
func (srv *Server) Shutdown(ctx context.Context) error {
	err := srv.eng.Shutdown(ctx)
	srv.closeAdapters()
	return err
}
