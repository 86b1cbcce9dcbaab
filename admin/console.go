package admin

import (
	"github.com/noomrtc/noom/internal/theme"

	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/noomrtc/noom/admin/source"
	"github.com/noomrtc/noom/admin/views"
)

//go:embed static
var staticFS embed.FS

// Console is the admin console: an http.Handler to mount at /admin/.
type Console struct {
	cfg     Config
	m       *metrics
	auth    *auth
	stream  *stream
	samples sampler
	mux     *http.ServeMux
	assets  map[string]staticAsset
	started time.Time
	remove  func() // stops observing the hub

	quit      chan struct{} // closed by Close: ends the sampler and live streams
	done      chan struct{} // closed when the sampler has ended
	closeOnce sync.Once
}

type staticAsset struct {
	body        []byte
	contentType string
	version     string
}

// New makes the console and starts observing the hub. Metrics are
// registered on reg. Close stops it.
func New(cfg Config, reg prometheus.Registerer) (*Console, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, m: m, auth: newAuth(&cfg, m), stream: newStream(cfg.RingSize, m),
		started: cfg.Now(), quit: make(chan struct{}), done: make(chan struct{})}
	c.auth.cfg = &c.cfg
	c.assets = map[string]staticAsset{}
	for name, ct := range map[string]string{"admin.css": "text/css; charset=utf-8",
		"admin.js": "text/javascript; charset=utf-8", "icon.svg": "image/svg+xml"} {
		b, err := staticFS.ReadFile("static/" + name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		c.assets[name] = staticAsset{body: b, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	sum := sha256.Sum256(theme.CSS) // the palette shared with the call app
	c.assets["theme.css"] = staticAsset{body: theme.CSS, contentType: "text/css; charset=utf-8", version: hex.EncodeToString(sum[:6])}
	c.routes()
	c.remove = cfg.Hub.Observe(c.observe)
	go c.sampleLoop()
	return c, nil
}

// Close stops observing the hub, ends every live stream and the sampler.
// Call it before shutting down the HTTP server: live streams never idle.
func (c *Console) Close() error {
	c.closeOnce.Do(func() {
		c.remove()
		close(c.quit)
	})
	<-c.done
	return nil
}

// observe is the hub hook: it never blocks.
func (c *Console) observe(e source.Event) {
	if !c.cfg.ShowPayloads {
		e.Payload = ""
	} else if e.Payload != "" {
		e.Payload = truncate(e.Payload, c.cfg.PayloadLimit)
	}
	c.stream.publish(&e)
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// who is how a request authenticated.
type who struct {
	sess  *session // nil for HTTP Basic
	ip    string
	basic bool
}

func (w who) method() string {
	if w.basic {
		return "basic"
	}
	return "session"
}

type handler func(w http.ResponseWriter, r *http.Request, u who)

func (c *Console) routes() {
	mux := http.NewServeMux()
	c.mux = mux
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /admin/static/{file}", c.static)
	mux.HandleFunc("GET /admin/login", c.loginForm)
	mux.HandleFunc("POST /admin/login", c.login)
	mux.HandleFunc("POST /admin/logout", c.authed(false, c.logout))

	page := func(pattern string, h handler) { mux.HandleFunc("GET "+pattern, c.authed(false, h)) }
	page("/admin/{$}", c.overviewPage)
	page("/admin/rooms", c.roomsPage)
	page("/admin/rooms/{nsp}/{room}", c.roomPage)
	page("/admin/sockets", c.socketsPage)
	page("/admin/sockets/{nsp}/{sid}", c.socketPage)
	page("/admin/flow", c.flowPage)
	page("/admin/turn", c.turnPage)
	page("/admin/calls", c.callsPage)
	page("/admin/cluster", c.clusterPage)
	page("/admin/", func(w http.ResponseWriter, r *http.Request, u who) {
		c.errorPage(w, r, u, http.StatusNotFound, "Not found", "There is no such page in the console.")
	})

	api := func(pattern string, h handler) { mux.HandleFunc("GET /admin/api/v1/"+pattern, c.authed(true, h)) }
	api("stats", c.apiStats)
	api("rooms", c.apiRooms)
	api("rooms/{nsp}/{room}", c.apiRoom)
	api("sockets", c.apiSockets)
	api("sockets/{nsp}/{sid}", c.apiSocket)
	api("turn/allocations", c.apiTURN)
	api("calls", c.apiCalls)
	api("cluster", c.apiCluster)
	api("events", c.apiEvents)
	mux.HandleFunc("POST /admin/api/v1/sockets/{nsp}/{sid}/{action}", c.authed(true, c.socketAction))
	mux.HandleFunc("POST /admin/api/v1/rooms/{nsp}/{room}/{action}", c.authed(true, c.roomAction))
	mux.HandleFunc("POST /admin/api/v1/turn/allocations/{id}/end", c.authed(true, c.endAllocation))
	mux.HandleFunc("GET /admin/api/", c.authed(true, func(w http.ResponseWriter, r *http.Request, u who) {
		writeError(w, http.StatusNotFound, "no such endpoint")
	}))
}

// authed wraps h with authentication and, for anything but GET and HEAD,
// the same-origin and CSRF checks. api selects JSON answers (401) over a
// redirect to the login form.
func (c *Console) authed(api bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := who{ip: c.cfg.ClientIP(r)}
		if s := c.auth.session(r); s != nil {
			u.sess = s
		} else if user, pass, ok := r.BasicAuth(); ok {
			ok, retry := c.auth.basicAuth(u.ip, user, pass)
			if retry > 0 {
				tooMany(w, retry)
				return
			}
			if !ok {
				c.unauthorized(w, r, api)
				return
			}
			u.basic = true
		} else {
			c.unauthorized(w, r, api)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			limitBody(w, r)
			if o := c.auth.origin(r); o == originForeign || (u.basic && o == originOpaque) {
				c.log(r, u, "admin request refused", "why", "foreign origin", "origin", r.Header.Get("Origin"))
				writeError(w, http.StatusForbidden, "cross-origin request refused")
				return
			}
			if u.sess != nil && !c.csrfOK(r, u.sess) {
				c.log(r, u, "admin request refused", "why", "missing or wrong CSRF token")
				writeError(w, http.StatusForbidden, "missing or wrong CSRF token")
				return
			}
		}
		h(w, r, u)
	}
}

func (c *Console) csrfOK(r *http.Request, s *session) bool {
	t := r.Header.Get("X-CSRF-Token")
	if t == "" {
		t = r.PostFormValue("csrf")
	}
	return t != "" && subtleEq(t, s.csrf)
}

func (c *Console) unauthorized(w http.ResponseWriter, r *http.Request, api bool) {
	if api {
		w.Header().Set("WWW-Authenticate", `Basic realm="Noom admin", charset="UTF-8"`)
		writeError(w, http.StatusUnauthorized, "authentication required: log in or use HTTP Basic credentials")
		return
	}
	next := r.URL.RequestURI()
	http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(next), http.StatusSeeOther)
}

func tooMany(w http.ResponseWriter, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
	writeError(w, http.StatusTooManyRequests, "too many failed log-ins: try again later")
}

func (c *Console) log(r *http.Request, u who, msg string, args ...any) {
	c.cfg.Logger.Info(msg, append([]any{"user", c.cfg.User, "auth", u.method(), "ip", u.ip, "method", r.Method, "path", r.URL.Path}, args...)...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// render renders a page fully before writing, so an error is a 500
// rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, comp templ.Component) {
	var buf bytes.Buffer
	if err := comp.Render(r.Context(), &buf); err != nil {
		if !errors.Is(err, context.Canceled) {
			c.cfg.Logger.Error("admin: render", "path", r.URL.Path, "err", err)
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// page makes the frame data of a page.
func (c *Console) page(u who, nav, title string) views.Page {
	p := views.Page{Title: title, Nav: nav, ReadOnly: c.readOnly(), Version: c.cfg.Version, Now: c.cfg.Now(),
		Theme: c.assetURL("theme.css"), CSS: c.assetURL("admin.css"), JS: c.assetURL("admin.js"), Icon: c.assetURL("icon.svg")}
	if u.sess != nil {
		p.CSRF = u.sess.csrf
	} else if u.basic {
		p.CSRF = "-" // shows the navigation; Basic requests need no token
	}
	return p
}

func (c *Console) readOnly() bool { return c.cfg.ReadOnly || c.cfg.Actions == nil }

// turnActions returns the TURN source's actions, or nil when there are
// none or the console is read-only.
func (c *Console) turnActions() source.TURNActions {
	if a, ok := c.cfg.TURN.(source.TURNActions); ok && !c.cfg.ReadOnly {
		return a
	}
	return nil
}

func (c *Console) assetURL(name string) string {
	return "/admin/static/" + name + "?v=" + c.assets[name].version
}

func (c *Console) static(w http.ResponseWriter, r *http.Request) {
	a, ok := c.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.version {
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, u who, status int, heading, detail string) {
	c.render(w, r, status, views.ErrorPage(c.page(u, "", heading), heading, detail))
}

func subtleEq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Check lets another login, the Socket.IO Admin UI namespace
// (sioadmin.Authenticator), share the console's credentials, per-IP
// throttle and login metrics.
func (c *Console) Check(_ context.Context, user, password, ip string) (bool, time.Duration) {
	return c.auth.login(ip, user, password)
}
