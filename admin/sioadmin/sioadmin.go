package sioadmin

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/prometheus/client_golang/prometheus"
)

// Features the Admin UI reads from config.supportedFeatures.
var (
	actionFeatures = []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"}
)

// checkTimeout bounds one credentials check.
const checkTimeout = 10 * time.Second

// Admin serves the Socket.IO Admin UI on an admin namespace of a hub.
type Admin struct {
	cfg       Config
	srv       *signaling.Server
	nsp       *signaling.Namespace
	m         *metrics
	sess      *sessions
	features  []string
	clientKey [32]byte // keys clientId, so it does not reveal the session id
	buckets   *buckets
	started   time.Time
	done      chan struct{}
	wg        sync.WaitGroup

	// admins is the copy-on-write list of connected admin sockets, read by
	// the hooks with one atomic load.
	admins atomic.Pointer[[]*adminConn]

	mu sync.Mutex
	// mu guards the following fields, and writes to admins.
	closed    bool
	pending   map[string]pendingSession // admin socket id → session to announce
	removeDev func()                    // removes the per-socket hooks; nil when none
}

type pendingSession struct {
	id      string
	created time.Time
}

// New registers the admin namespace on srv and starts the stats sampler.
// Metrics are registered on reg.
func New(cfg Config, srv *signaling.Server, reg prometheus.Registerer) (*Admin, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if srv == nil {
		return nil, errors.New("sioadmin: nil server")
	}
	a := &Admin{cfg: cfg, srv: srv, sess: newSessions(cfg.SessionTTL, cfg.MaxSessions), buckets: newBuckets(),
		started: cfg.Now(), done: make(chan struct{}), pending: map[string]pendingSession{}}
	rand.Read(a.clientKey[:])
	m, err := newMetrics(reg, func() float64 { return float64(len(a.list())) })
	if err != nil {
		return nil, err
	}
	a.m = m
	if !cfg.ReadOnly {
		a.features = append(a.features, actionFeatures...)
	}
	a.features = append(a.features, "AGGREGATED_EVENTS")
	if cfg.Mode == Development {
		a.features = append(a.features, "ALL_EVENTS")
	}
	switch {
	case cfg.Insecure:
		cfg.Logger.Warn("sioadmin: the Socket.IO Admin UI namespace accepts anyone (insecure)", "namespace", cfg.Namespace)
	case cfg.Auth == nil:
		cfg.Logger.Warn("sioadmin: no admin credentials: the Socket.IO Admin UI namespace refuses everyone", "namespace", cfg.Namespace)
	}
	a.nsp = srv.Of(cfg.Namespace)
	a.nsp.Use(a.authenticate)
	a.nsp.OnConnection(a.onConnection)
	removeStats := srv.Observe(signaling.Observer{
		SessionOpen:  func(e signaling.SessionEvent) { a.buckets.add(e.Time, "rawConnection", "", 1) },
		SessionClose: func(e signaling.SessionEvent) { a.buckets.add(e.Time, "rawDisconnection", e.Reason, 1) },
	})
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer removeStats()
		a.sample()
	}()
	return a, nil
}

// Namespace is the admin namespace's name.
func (a *Admin) Namespace() string { return a.cfg.Namespace }

// Close disconnects the admin sockets, removes the hooks and waits for the
// goroutines. The namespace stays registered and refuses every admin.
func (a *Admin) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.done)
	if a.removeDev != nil {
		a.removeDev()
		a.removeDev = nil
	}
	a.mu.Unlock()
	a.nsp.Local().DisconnectSockets(false)
	a.wg.Wait()
	return nil
}

func (a *Admin) list() []*adminConn {
	if p := a.admins.Load(); p != nil {
		return *p
	}
	return nil
}

// authenticate is the admin namespace's middleware: a live session id, or
// a user name and password the Authenticator accepts.
func (a *Admin) authenticate(s *signaling.Socket) error {
	refuse := &signaling.ConnectError{Message: msgInvalidCredentials}
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		return refuse
	}
	if a.cfg.Insecure {
		a.m.logins.WithLabelValues(loginInsecure).Inc()
		return nil
	}
	hs := s.Handshake()
	c := parseCredentials(hs.Auth)
	now := a.cfg.Now()
	if a.sess.valid(c.SessionID, now) {
		a.m.logins.WithLabelValues(loginSession).Inc()
		return nil
	}
	if a.cfg.Auth == nil || (c.Username == "" && c.Password == "") {
		// A reload whose session expired sends only the id: not a failure
		// to throttle, but the login form again.
		a.m.logins.WithLabelValues(loginFailed).Inc()
		return refuse
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	ok, retry := a.cfg.Auth.Check(ctx, c.Username, c.Password, a.cfg.ClientIP(hs))
	switch {
	case retry > 0:
		a.m.logins.WithLabelValues(loginThrottled).Inc()
		return &signaling.ConnectError{Message: msgThrottled, Data: map[string]any{"retryAfter": int(retry.Round(time.Second).Seconds())}}
	case !ok:
		a.m.logins.WithLabelValues(loginFailed).Inc()
		return refuse
	}
	a.m.logins.WithLabelValues(loginPassword).Inc()
	id := a.sess.create(now)
	a.mu.Lock()
	for k, p := range a.pending { // sockets refused after the middleware
		if now.Sub(p.created) > time.Minute {
			delete(a.pending, k)
		}
	}
	a.pending[s.ID()] = pendingSession{id: id, created: now}
	a.mu.Unlock()
	return nil
}

// hostOnly drops the port of a remote address.
func hostOnly(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// onConnection greets an admin socket (session, config) and starts its
// stream.
func (a *Admin) onConnection(s *signaling.Socket) {
	a.mu.Lock()
	p, hasSession := a.pending[s.ID()]
	delete(a.pending, s.ID())
	a.mu.Unlock()
	if hasSession {
		s.Emit("session", p.id)
	}
	s.Emit("config", map[string]any{"supportedFeatures": a.features})
	if !a.cfg.ReadOnly {
		a.registerCommands(s)
	}
	ac := newAdminConn(a, s)
	if !a.addAdmin(ac) {
		s.Disconnect(false)
		return
	}
	s.OnDisconnect(func(string) { a.removeAdmin(ac) })
	if !s.Connected() {
		a.removeAdmin(ac)
	}
}

// addAdmin lists ac and starts its goroutine, installing the per-socket
// hooks for the first development-mode admin. It returns false once
// closed.
func (a *Admin) addAdmin(ac *adminConn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	next := append(append([]*adminConn(nil), a.list()...), ac)
	a.admins.Store(&next)
	if a.cfg.Mode == Development && a.removeDev == nil {
		a.removeDev = a.srv.Observe(a.devObserver())
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ac.run()
	}()
	return true
}

// removeAdmin unlists ac and stops its goroutine; the last one removes the
// per-socket hooks. It may run more than once for ac.
func (a *Admin) removeAdmin(ac *adminConn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cur := a.list()
	next := make([]*adminConn, 0, len(cur))
	for _, x := range cur {
		if x != ac {
			next = append(next, x)
		}
	}
	if len(next) == len(cur) {
		return
	}
	a.admins.Store(&next)
	ac.stop()
	if len(next) == 0 && a.removeDev != nil {
		a.removeDev()
		a.removeDev = nil
	}
}
