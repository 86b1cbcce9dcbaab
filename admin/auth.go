package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// cookieName is the session cookie; its Path is /admin/.
const cookieName = "noom_admin"

// session is one browser login.
type session struct {
	id, csrf         string
	created, touched time.Time
}

// auth checks credentials and keeps sessions.
type auth struct {
	cfg      *Config
	throttle *throttle
	m        *metrics

	mu sync.Mutex
	// mu guards the following fields.
	sessions map[string]*session
	basic    map[[32]byte]time.Time // sha256(user:password) → valid until
}

func newAuth(cfg *Config, m *metrics) *auth {
	return &auth{cfg: cfg, m: m, throttle: newThrottle(cfg.LoginFailures, cfg.GlobalLoginFailures, cfg.LoginWindow),
		sessions: map[string]*session{}, basic: map[[32]byte]time.Time{}}
}

// check compares credentials in constant time as far as the answer goes:
// bcrypt runs whether or not the user name is right, so an unknown user
// and a wrong password look the same.
func (a *auth) check(user, password string) bool {
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(a.cfg.User)) == 1
	passOK := bcrypt.CompareHashAndPassword(a.cfg.PasswordHash, []byte(password)) == nil
	return userOK && passOK
}

// login runs one throttled attempt from ip. It returns whether it
// succeeded, or how long to wait when throttled.
func (a *auth) login(ip, user, password string) (ok bool, retry time.Duration) {
	now := a.cfg.Now()
	if wait := a.throttle.blocked(ip, now); wait > 0 {
		a.m.logins.WithLabelValues(loginThrottled).Inc()
		return false, wait
	}
	if a.check(user, password) {
		a.throttle.succeeded(ip)
		a.m.logins.WithLabelValues(loginOK).Inc()
		return true, 0
	}
	a.throttle.failed(ip, now)
	a.m.logins.WithLabelValues(loginFailed).Inc()
	return false, 0
}

// basicAuth checks HTTP Basic credentials, remembering a success for
// BasicCacheTTL so scripts do not pay bcrypt per request.
func (a *auth) basicAuth(ip, user, password string) (ok bool, retry time.Duration) {
	key := sha256.Sum256([]byte(user + "\x00" + password))
	now := a.cfg.Now()
	a.mu.Lock()
	until, hit := a.basic[key]
	a.mu.Unlock()
	if hit && now.Before(until) {
		return true, 0
	}
	ok, retry = a.login(ip, user, password)
	if ok && a.cfg.BasicCacheTTL > 0 {
		a.mu.Lock()
		if len(a.basic) >= 64 {
			clear(a.basic)
		}
		a.basic[key] = now.Add(a.cfg.BasicCacheTTL)
		a.mu.Unlock()
	}
	return ok, retry
}

// newSession starts a session, ending the oldest when there are too many.
func (a *auth) newSession() *session {
	now := a.cfg.Now()
	s := &session{id: randomToken(), csrf: randomToken(), created: now, touched: now}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweepLocked(now)
	if len(a.sessions) >= a.cfg.MaxSessions {
		var oldest *session
		for _, o := range a.sessions {
			if oldest == nil || o.created.Before(oldest.created) {
				oldest = o
			}
		}
		delete(a.sessions, oldest.id)
	}
	a.sessions[s.id] = s
	return s
}

// session returns the live session of r's cookie, touching it.
func (a *auth) session(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	now := a.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[c.Value]
	if s == nil {
		return nil
	}
	if a.expired(s, now) {
		delete(a.sessions, s.id)
		return nil
	}
	s.touched = now
	cp := *s
	return &cp
}

func (a *auth) endSession(id string) {
	a.mu.Lock()
	delete(a.sessions, id)
	a.mu.Unlock()
}

func (a *auth) expired(s *session, now time.Time) bool {
	return now.Sub(s.touched) > a.cfg.SessionIdle || now.Sub(s.created) > a.cfg.SessionMax
}

func (a *auth) sweepLocked(now time.Time) {
	for id, s := range a.sessions {
		if a.expired(s, now) {
			delete(a.sessions, id)
		}
	}
}

func (a *auth) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: cookieName, Value: value, Path: "/admin/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.cfg.IsHTTPS(r)}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// origin classifies where a state-changing request came from.
type origin int

const (
	originNone    origin = iota // no Origin or Referer: not sent by a page (a script)
	originOpaque                // "Origin: null": a page, but which one is hidden
	originSame                  // this console
	originForeign               // another site
)

// origin reads r's Origin (or, without one, its Referer). Browsers send
// "Origin: null" on a POST from a page with Referrer-Policy no-referrer,
// which the console's pages are, so null is not foreign by itself: a
// cookie request then still needs its session's CSRF token, and a Basic
// request is refused (a sandboxed frame sends null too).
func (a *auth) origin(r *http.Request) origin {
	o := r.Header.Get("Origin")
	if o == "" {
		if ref := r.Header.Get("Referer"); ref != "" {
			if u, err := url.Parse(ref); err == nil {
				o = u.Scheme + "://" + u.Host
			}
		}
	}
	switch {
	case o == "":
		return originNone
	case o == "null":
		return originOpaque
	}
	scheme := "http://"
	if a.cfg.IsHTTPS(r) {
		scheme = "https://"
	}
	if strings.EqualFold(o, scheme+r.Host) {
		return originSame
	}
	return originForeign
}

// throttle counts failed logins per client IP and over all IPs in a
// sliding window made of two fixed halves, so memory stays bounded.
type throttle struct {
	perIP, global int
	window        time.Duration

	mu sync.Mutex
	// mu guards the following fields.
	start      time.Time // of the current window
	cur, prev  map[string]int
	curN, prvN int
}

func newThrottle(perIP, global int, window time.Duration) *throttle {
	return &throttle{perIP: perIP, global: global, window: window, cur: map[string]int{}, prev: map[string]int{}}
}

// rollLocked moves to the window containing now.
func (t *throttle) rollLocked(now time.Time) {
	switch {
	case t.start.IsZero():
		t.start = now
	case now.Sub(t.start) >= 2*t.window:
		t.prev, t.cur, t.prvN, t.curN = map[string]int{}, map[string]int{}, 0, 0
		t.start = now
	case now.Sub(t.start) >= t.window:
		t.prev, t.cur, t.prvN, t.curN = t.cur, map[string]int{}, t.curN, 0
		t.start = t.start.Add(t.window)
	}
}

// blocked returns how long ip must wait, or 0.
func (t *throttle) blocked(ip string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rollLocked(now)
	if t.cur[ip]+t.prev[ip] >= t.perIP || t.curN+t.prvN >= t.global {
		wait := t.start.Add(t.window).Sub(now)
		if t.cur[ip] >= t.perIP || t.curN >= t.global {
			wait += t.window // the current half must also age out
		}
		return max(wait, time.Second)
	}
	return 0
}

func (t *throttle) failed(ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rollLocked(now)
	if len(t.cur) < 100_000 {
		t.cur[ip]++
	}
	t.curN++
}

// succeeded forgets ip's failures.
func (t *throttle) succeeded(ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.cur, ip)
	delete(t.prev, ip)
}
