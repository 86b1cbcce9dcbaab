package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/noomrtc/noom/signaling/internal/testknobs"
	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a session closes, as Socket.IO names them, plus Noom's limits.
const (
	ReasonTransportClose     = "transport close"
	ReasonTransportError     = "transport error"
	ReasonPingTimeout        = "ping timeout"
	ReasonParseError         = "parse error"
	ReasonServerShuttingDown = "server shutting down"
	ReasonSlowConsumer       = "slow consumer"
	ReasonPayloadTooLarge    = "payload too large"
	ReasonConnectTimeout     = "connect timeout"
	ReasonDuplicatePoll      = "duplicate poll"
	ReasonForcedServerClose  = "forced server close"
)

// Reasons is the closed set of reasons the server itself closes a session
// for; Conn.Close may add one of the caller's. Metric labels use them.
var Reasons = []string{
	ReasonTransportClose, ReasonTransportError, ReasonPingTimeout, ReasonParseError,
	ReasonServerShuttingDown, ReasonSlowConsumer, ReasonPayloadTooLarge, ReasonConnectTimeout,
	ReasonDuplicatePoll, ReasonForcedServerClose,
}

// Drop reasons (ConnHandler.OnDrop).
const (
	DropVolatile     = "volatile"      // a volatile packet for a client not ready
	DropSlowConsumer = "slow consumer" // the client was cut off: its queue overflowed or aged
)

// Handler is the layer above the transport (Socket.IO): it is told of
// every new session and gives the session's handler.
type Handler interface {
	// Open is called for each new session, before the client gets the
	// open packet; r is the handshake request, valid during the call only.
	Open(c *Conn, r *http.Request) ConnHandler
}

// ConnHandler receives one session's messages and events. The methods
// are called outside the transport's locks; they may call c's methods.
type ConnHandler interface {
	// OnMessage handles one message, text or binary, on the session's
	// reading goroutine, one at a time and in order. data is the
	// handler's own. An error closes the session (ReasonParseError).
	OnMessage(data []byte, binary bool) error
	// OnUpgrade tells of the session moving to another transport.
	OnUpgrade(from, to string)
	// OnDrop tells of packets the client did not get (DropVolatile), or
	// of the client cut off as a slow consumer (DropSlowConsumer).
	OnDrop(reason string, bytes int)
	// OnShutdown is called by Server.Shutdown while the session is still
	// open, just before it is closed gracefully: what the handler sends
	// then is still written.
	OnShutdown()
	// OnClose is called once, when the session has closed; sends fail
	// from then on.
	OnClose(reason string)
}

// Server is an Engine.IO v4 server: an http.Handler to mount at
// Config.Path. It knows nothing of what the messages mean.
type Server struct {
	cfg     Config
	handler Handler
	knobs   testknobs.Knobs // conformance-only settings, zero in production
	metrics *metrics
	hb      *heartbeat
	flush   *flusher
	park    *parker // nil: idle readers keep their goroutine
	upgrade *websocket.Upgrader
	// queuedBytes is what every client's lanes hold, for the gauge.
	queuedBytes atomic.Int64

	mu sync.RWMutex
	// mu guards the following fields.
	sessions map[string]*Conn
	perIP    map[string]int
	// tombstones holds polling sessions closed with no GET in flight, or
	// with a close packet still to send: the next GET gets what it would
	// have had (a noop after the client's close; what was queued, then the
	// close packet, after the server's graceful close).
	tombstones map[string]tombstone
	closing    bool

	conns sync.WaitGroup // WebSocket read loops and polling requests in flight
}

// NewServer makes a Server that hands sessions to h. Its metrics
// (noom_signaling_*: it is the signaling component's transport) are
// registered on reg.
func NewServer(cfg Config, h Handler, reg prometheus.Registerer) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	srv := &Server{
		cfg:        cfg,
		handler:    h,
		knobs:      testknobs.For(cfg.Path),
		sessions:   make(map[string]*Conn),
		perIP:      make(map[string]int),
		tombstones: make(map[string]tombstone),
	}
	m, err := newMetrics(reg, srv)
	if err != nil {
		return nil, err
	}
	srv.metrics = m
	srv.upgrade = srv.upgrader()
	srv.flush = newFlusher()
	srv.park = newParker()
	srv.hb = newHeartbeat(cfg.PingInterval, cfg.PingTimeout, cfg.ReadyTimeout,
		func(s *Conn, k deadlineKind, now time.Time) { s.onDeadline(k, now) })
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
	s := srv.Lookup(sid)
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

// Lookup returns the open session sid, or nil.
func (srv *Server) Lookup(sid string) *Conn {
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

func (srv *Server) release(ip string) {
	srv.mu.Lock()
	if srv.perIP[ip]--; srv.perIP[ip] <= 0 {
		delete(srv.perIP, ip)
	}
	srv.mu.Unlock()
}

func (srv *Server) newSession(r *http.Request, ip string, t transportKind) *Conn {
	s := newSession(srv, newID(), ip, r.RemoteAddr, t)
	s.h = srv.handler.Open(s, r)
	srv.mu.Lock()
	srv.sessions[s.sid] = s
	srv.mu.Unlock()
	srv.metrics.opened(t)
	s.startTimers(time.Now())
	return s
}

func (srv *Server) removeSession(s *Conn, reason string) {
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
}

// newID returns 20 URL-safe random characters (120 bits).
func newID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
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

// Shutdown stops accepting connections, tells every session's handler
// (OnShutdown), closes every session gracefully with reason "server
// shutting down", and waits until every connection has drained or ctx is
// done, when it drops what is left and returns ctx.Err().
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		return nil
	}
	srv.closing = true
	all := make([]*Conn, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	srv.mu.Unlock()
	for _, s := range all {
		s.h.OnShutdown()
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
			nc, post := s.nc, s.post
			s.mu.Unlock()
			if nc != nil {
				nc.Close()
			}
			if post != nil {
				post.SetReadDeadline(time.Now()) // a stalled POST body
			}
		}
		<-done
	}
	srv.hb.close()
	srv.flush.close()
	srv.park.close()
	return err
}

const tombstoneTTL = time.Second

type tombstone struct {
	at time.Time
	s  *Conn
}

func (srv *Server) addTombstone(s *Conn) {
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
func (srv *Server) takeTombstone(sid string) *Conn {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	t, ok := srv.tombstones[sid]
	delete(srv.tombstones, sid)
	if !ok || time.Since(t.at) > tombstoneTTL {
		return nil
	}
	return t.s
}

// Stats are the transport's counts.
type Stats struct {
	Polling, WebSocket             int    // sessions open now, by current transport
	BytesIn, BytesOut              uint64 // Engine.IO bytes received and written
	SessionsOpened, SessionsClosed uint64
	SlowConsumers                  uint64 // sessions cut off for not keeping up
	QueuedBytes                    int64  // queued to clients and not yet written
	Parked                         int64  // idle WebSocket sessions with no reader goroutine
}

// Stats returns the transport's counts.
func (srv *Server) Stats() Stats {
	m := srv.metrics
	return Stats{
		Polling:        int(m.open[transportPolling].Load()),
		WebSocket:      int(m.open[transportWebSocket].Load()),
		BytesIn:        m.count.bytesIn.Load(),
		BytesOut:       m.count.bytesOut.Load(),
		SessionsOpened: m.count.sessionsOpened.Load(),
		SessionsClosed: m.count.sessionsClosed.Load(),
		SlowConsumers:  m.count.slowConsumers.Load(),
		QueuedBytes:    srv.queuedBytes.Load(),
		Parked:         srv.park.count(),
	}
}
