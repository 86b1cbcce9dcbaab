package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/a-h/templ"
)

// Handler serves the web app. Create it with New; it is an http.Handler and
// safe for concurrent use.
type Handler struct {
	cfg    Config
	assets *assetSet
	mux    *http.ServeMux
	log    *slog.Logger
}

// New validates cfg (zero fields take their documented defaults) and returns
// the Handler. The error wraps ErrInvalidConfig for a bad Config.
func New(cfg Config) (*Handler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	for _, name := range requiredAssets {
		if _, ok := assets.byName[name]; !ok {
			return nil, fmt.Errorf("web: embedded asset %s is missing", name)
		}
	}
	h := &Handler{cfg: cfg, assets: assets, mux: http.NewServeMux(), log: cfg.Logger}
	h.routes()
	return h, nil
}

// requiredAssets are the files the pages link to.
var requiredAssets = []string{
	"socket.io.js", "common.js", "home.js", "media.js", "peer.js", "call.js",
	"theme.css", "style.css", "icon.svg",
}

// Config returns the effective configuration, defaults applied.
func (h *Handler) Config() Config { return h.cfg }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) routes() {
	sp := h.cfg.SignalingPath
	h.mux.HandleFunc("GET /{$}", h.home)
	h.mux.HandleFunc("GET /room/{name}", h.room)
	h.mux.HandleFunc("GET /join", h.join)
	h.mux.HandleFunc("GET /static/{file...}", h.static)
	h.mux.HandleFunc("GET "+sp+"socket.io.js", h.clientLibrary)
	// The signaling server owns the rest of SignalingPath. When a request
	// for it reaches us, the hub is not mounted: answer 404 quickly so the
	// browser client reports "offline" instead of following a redirect.
	h.mux.HandleFunc(sp, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "signaling is not available", http.StatusNotFound)
	})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, homePage(h.page(r, "home", "")))
}

func (h *Handler) room(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := ValidateRoomName(name); err != nil {
		h.render(w, r, http.StatusBadRequest, errorPage(h.page(r, "error", ""),
			"That room name can't be used",
			"Room names are 1 to 64 printable characters, without leading or trailing spaces."))
		return
	}
	h.render(w, r, http.StatusOK, roomPage(h.page(r, "room", name)))
}

// join is the target of the home page's room form when JavaScript is off.
func (h *Handler) join(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("room")
	if ValidateRoomName(name) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, roomURL(name), http.StatusSeeOther)
}

func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets.byName[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	a.serve(w, r)
}

func (h *Handler) clientLibrary(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	h.assets.byName["socket.io.js"].serve(w, r)
}

// roomURL is the path of the call page for a valid room name.
func roomURL(name string) string { return "/room/" + url.PathEscape(name) }

// page collects what every page template needs.
func (h *Handler) page(r *http.Request, kind, room string) pageData {
	return pageData{
		Title:          h.cfg.Title,
		Kind:           kind,
		Room:           room,
		SignalingPath:  h.cfg.SignalingPath,
		MaxRoomSize:    strconv.Itoa(h.cfg.MaxRoomSize),
		StatsMillis:    strconv.FormatInt(h.cfg.StatsInterval.Milliseconds(), 10),
		MaxRoomLen:     MaxRoomNameLen,
		MaxNameLen:     MaxNicknameLen,
		MaxChatLen:     MaxChatLen,
		MaxPasscodeLen: MaxPasscodeLen,
		HideRoomList:   h.cfg.HideRoomList,
		asset:          h.assets.url,
	}
}

// render renders c fully before writing, so a template error becomes a 500
// instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		if !errors.Is(err, context.Canceled) {
			h.log.Error("web: render page", "path", r.URL.Path, "err", err)
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Content-Security-Policy", contentSecurityPolicy(r.Host))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(), geolocation=()")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// hostRE accepts host[:port] values that are safe to put in a CSP source.
var hostRE = regexp.MustCompile(`^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

// contentSecurityPolicy allows scripts, styles and images from our origin
// only, and no inline scripts or styles. connect-src names the WebSocket
// origins explicitly for browsers that do not match ws: against 'self'.
func contentSecurityPolicy(host string) string {
	connect := "'self'"
	if hostRE.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
		"media-src 'self' blob: mediastream:; connect-src " + connect + "; font-src 'self'; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}
