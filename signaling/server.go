package signaling

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling/internal/testknobs"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// Server is a Socket.IO v5 server over Engine.IO v4. It is an http.Handler
// to mount at Config.Path.
type Server struct {
	cfg   Config
	knobs testknobs.Knobs // conformance-only settings, zero in production
	// keepHeaders is Config.KeepHeaders, canonical, as a set.
	keepHeaders map[string]bool
	log         interface{ Warn(string, ...any) }
	metrics     *metrics
	hb          *heartbeat
	flush       *flusher
	// queuedBytes is what every client's lanes hold, for the gauge.
	queuedBytes atomic.Int64
	upgrade     *websocket.Upgrader
	obs         atomic.Pointer[[]*observerEntry]
	obsMu       sync.Mutex // serializes changes to obs

	mu sync.RWMutex
	// mu guards the following fields.
	sessions map[string]*session
	perIP    map[string]int
	// pending is, per client IP, the bytes of binary attachments received
	// for packets not yet complete (Config.MaxPendingBytesPerIP).
	pending map[string]int
	// tombstones holds polling sessions closed with no GET in flight, or
	// with a close packet still to send: the next GET gets what it would
	// have had (a noop after the client's close; what was queued, then the
	// close packet, after the server's graceful close).
	tombstones map[string]tombstone
	nsps       map[string]*Namespace
	dynamic    []dynamicNamespace
	closing    bool

	conns   sync.WaitGroup // WebSocket read loops and polling requests in flight
	started time.Time      // when New made the server, for Stats
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
		knobs:       testknobs.For(cfg.Path),
		keepHeaders: make(map[string]bool),
		log:         cfg.Logger,
		sessions:    make(map[string]*session),
		perIP:       make(map[string]int),
		pending:     make(map[string]int),
		tombstones:  make(map[string]tombstone),
		nsps:        make(map[string]*Namespace),
		started:     time.Now(),
	}
	for _, h := range cfg.KeepHeaders {
		srv.keepHeaders[http.CanonicalHeaderKey(h)] = true
	}
	m, err := newMetrics(reg, srv)
	if err != nil {
		return nil, err
	}
	srv.metrics = m
	srv.upgrade = srv.upgrader()
	srv.flush = newFlusher()
	srv.hb = newHeartbeat(cfg.PingInterval, cfg.PingTimeout, cfg.ConnectTimeout,
		func(s *session, k deadlineKind, now time.Time) { s.onDeadline(k, now) })
	srv.Of("/")
	return srv, nil
}

// Config returns the effective configuration, defaults filled in.
func (srv *Server) Config() Config { return srv.cfg }

// ServeHTTP serves the Engine.IO endpoint: handshakes, polling requests and
// WebSocket connections.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p != srv.cfg.Path && p+"/" != srv.cfg.Path {
		http.NotFound(w, r)
		return
	}
	if !srv.checkOrigin(w, r) {
		httpError(w, errForbiddenOrigin)
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		httpError(w, errBadVersion)
		return
	}
	transport := q.Get("transport")
	if (transport != "polling" || srv.cfg.DisablePolling) && (transport != "websocket" || srv.cfg.DisableWebSocket) {
		httpError(w, errUnknownTransport)
		return
	}
	srv.mu.RLock()
	closing := srv.closing
	if !closing {
		srv.conns.Add(1)
	}
	srv.mu.RUnlock()
	if closing {
		httpError(w, errShuttingDown)
		return
	}
	defer srv.conns.Done()

	sid := q.Get("sid")
	ip := srv.cfg.ClientIP(r)
	if transport == "websocket" {
		if r.Method != http.MethodGet || !websocket.IsWebSocketUpgrade(r) {
			httpError(w, errBadRequest)
			return
		}
		srv.serveWebSocket(w, r, sid, ip)
		return
	}
	if sid == "" {
		if r.Method != http.MethodGet {
			httpError(w, errBadHandshakeMethod)
			return
		}
		srv.servePollHandshake(w, r, ip)
		return
	}
	s := srv.lookup(sid)
	if s == nil {
		if r.Method == http.MethodGet {
			if s := srv.takeTombstone(sid); s != nil {
				s.servePollFinal(w)
				return
			}
		}
		httpError(w, errSessionUnknown)
		return
	}
	if s.expired(time.Now()) {
		s.close(ReasonPingTimeout, closeNow)
		httpError(w, errSessionUnknown)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.servePollGet(w, r)
	case http.MethodPost:
		s.servePollPost(w, r)
	default:
		httpError(w, errBadRequest)
	}
}

func (srv *Server) lookup(sid string) *session {
	srv.mu.RLock()
	s := srv.sessions[sid]
	srv.mu.RUnlock()
	return s
}

// admit counts a new session against its IP's limit.
func (srv *Server) admit(ip string) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.cfg.MaxConnsPerIP > 0 && srv.perIP[ip] >= srv.cfg.MaxConnsPerIP {
		srv.metrics.handshakes.WithLabelValues("rejected").Inc()
		return false
	}
	srv.perIP[ip]++
	return true
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

func (srv *Server) release(ip string) {
	srv.mu.Lock()
	if srv.perIP[ip]--; srv.perIP[ip] <= 0 {
		delete(srv.perIP, ip)
	}
	srv.mu.Unlock()
}

func (srv *Server) newSession(r *http.Request, ip string, t transportKind) *session {
	s := newSession(srv, newID(), ip, t)
	s.client = newClient(s, r)
	srv.mu.Lock()
	srv.sessions[s.sid] = s
	srv.mu.Unlock()
	srv.metrics.opened(t)
	now := time.Now()
	s.startTimers(now)
	srv.notifySessionOpen(SessionEvent{SID: s.sid, RemoteAddr: r.RemoteAddr, Transport: t.String(), Time: now})
	return s
}

func (srv *Server) removeSession(s *session, reason string) {
	srv.mu.Lock()
	if srv.sessions[s.sid] == s {
		delete(srv.sessions, s.sid)
		if srv.perIP[s.ip]--; srv.perIP[s.ip] <= 0 {
			delete(srv.perIP, s.ip)
		}
	}
	srv.mu.Unlock()
	s.mu.Lock()
	t := s.transport
	s.mu.Unlock()
	srv.metrics.closed(t, reason)
	srv.notifySessionClose(SessionEvent{SID: s.sid, RemoteAddr: s.client.hd.remoteAddr, Transport: t.String(),
		Reason: reason, Time: time.Now()})
}

// newID returns 20 URL-safe random characters (120 bits).
func newID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// checkOrigin applies the origin allowlist and sets CORS headers. Requests
// without an Origin header (non-browser clients) pass.
func (srv *Server) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if !srv.originAllowed(origin, r) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
		}
		h.Set("Access-Control-Max-Age", "600")
	}
	return true
}

func (srv *Server) originAllowed(origin string, r *http.Request) bool {
	if origin == "null" {
		// An opaque origin (a sandboxed frame, a file): only by name, never
		// through "*", and never as "same origin".
		return slices.Contains(srv.cfg.AllowedOrigins, "null")
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	// The page's own origin is always allowed: same host, and over TLS the
	// same scheme (without TLS here, a proxy may have ended it).
	if strings.EqualFold(u.Host, r.Host) && (r.TLS == nil || u.Scheme == "https") {
		return true
	}
	for _, o := range srv.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// Shutdown stops accepting connections, disconnects every socket (with
// reason "server shutting down"; the clients see their transport close, so
// socket.io-client reconnects, to another node or to this one restarted),
// and waits until every connection has drained or ctx is done, when it
// drops what is left. It returns ctx.Err() in the latter case.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		return nil
	}
	srv.closing = true
	all := make([]*session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	srv.mu.Unlock()
	for _, s := range all {
		s.client.disconnectAll(ReasonServerShuttingDown)
		s.close(ReasonServerShuttingDown, closeGraceful)
	}
	done := make(chan struct{})
	go func() {
		for _, s := range all {
			s.wg.Wait()
		}
		srv.conns.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, s := range all {
			s.mu.Lock()
			ws, post := s.ws, s.post
			s.mu.Unlock()
			if ws != nil {
				ws.NetConn().Close()
			}
			if post != nil {
				post.SetReadDeadline(time.Now()) // a stalled POST body
			}
		}
		<-done
	}
	srv.hb.close()
	srv.flush.close()
	srv.closeAdapters()
	return err
}

const tombstoneTTL = time.Second

type tombstone struct {
	at time.Time
	s  *session
}

func (srv *Server) addTombstone(s *session) {
	now := time.Now()
	srv.mu.Lock()
	for k, t := range srv.tombstones { // few: each lives a second
		if now.Sub(t.at) > tombstoneTTL {
			delete(srv.tombstones, k)
		}
	}
	if len(srv.tombstones) < 10000 {
		srv.tombstones[s.sid] = tombstone{at: now, s: s}
	}
	srv.mu.Unlock()
}

// takeTombstone returns the closed session a GET for sid should still be
// answered from, or nil.
func (srv *Server) takeTombstone(sid string) *session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	t, ok := srv.tombstones[sid]
	delete(srv.tombstones, sid)
	if !ok || time.Since(t.at) > tombstoneTTL {
		return nil
	}
	return t.s
}
