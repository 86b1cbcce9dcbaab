package web_test

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/noomrtc/noom/web"
)

func newHandler(t *testing.T, cfg web.Config) *web.Handler {
	t.Helper()
	h, err := web.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func get(t *testing.T, h http.Handler, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func parse(t *testing.T, res *http.Response) *goquery.Document {
	t.Helper()
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

func byTestID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

// requireTestIDs fails unless each data-testid occurs exactly once.
func requireTestIDs(t *testing.T, doc *goquery.Document, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if n := byTestID(doc, id).Length(); n != 1 {
			t.Errorf("data-testid=%q: %d elements, want 1", id, n)
		}
	}
}

// requireLabelled fails for a visible form control without a <label for>
// or an aria-label.
func requireLabelled(t *testing.T, doc *goquery.Document) {
	t.Helper()
	doc.Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("type", "") == "hidden" {
			return
		}
		id, _ := s.Attr("id")
		if _, ok := s.Attr("aria-label"); ok {
			return
		}
		if id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("control %s (id %q) has no label", goquery.NodeName(s), id)
		}
	})
}

// requireSecurePage checks the headers every page carries.
func requireSecurePage(t *testing.T, res *http.Response) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows unsafe sources: %q", csp)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
}

// requireNoInlineScript checks that every <script> is external (CSP) and
// that no element has an inline event handler or style attribute.
func requireNoInlineScript(t *testing.T, doc *goquery.Document) {
	t.Helper()
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		src, ok := s.Attr("src")
		if !ok || !strings.HasPrefix(src, "/static/") || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline or foreign script: src=%q text=%q", src, s.Text())
		}
	})
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
				t.Errorf("<%s> has inline %s attribute", goquery.NodeName(s), a.Key)
			}
		}
	})
}

func TestHomePage(t *testing.T) {
	h := newHandler(t, web.Config{})
	res := get(t, h, "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", res.StatusCode)
	}
	requireSecurePage(t, res)
	doc := parse(t, res)

	if got := doc.Find("title").Text(); got != "Noom" {
		t.Errorf("title = %q", got)
	}
	body := doc.Find("body")
	for attr, want := range map[string]string{
		"data-page":              "home",
		"data-signaling-path":    "/socket.io/",
		"data-max-room-size":     "8",
		"data-stats-interval-ms": "5000",
	} {
		if got := body.AttrOr(attr, "<none>"); got != want {
			t.Errorf("body %s = %q, want %q", attr, got, want)
		}
	}
	requireTestIDs(t, doc, "connection-status", "join-form", "name-input", "room-input",
		"join-button", "room-list", "rooms-empty", "rooms-more", "join-error", "random-room-button", "new-meeting-button")
	requireLabelled(t, doc)
	requireNoInlineScript(t, doc)

	status := byTestID(doc, "connection-status")
	if status.AttrOr("aria-live", "") != "polite" || status.AttrOr("role", "") != "status" {
		t.Errorf("connection status is not a polite live region")
	}
	if !strings.Contains(status.Text(), "connecting") {
		t.Errorf("initial status = %q, want connecting…", status.Text())
	}
	if byTestID(doc, "room-list").AttrOr("aria-live", "") != "polite" {
		t.Errorf("room list is not a live region")
	}
	if got := byTestID(doc, "name-input").AttrOr("maxlength", ""); got != "32" {
		t.Errorf("name maxlength = %q", got)
	}
	if got := byTestID(doc, "room-input").AttrOr("maxlength", ""); got != "64" {
		t.Errorf("room maxlength = %q", got)
	}
	form := byTestID(doc, "join-form")
	if form.AttrOr("action", "") != "/join" || form.AttrOr("method", "") != "get" {
		t.Errorf("join form does not work without JavaScript")
	}
	var scripts []string
	doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) { scripts = append(scripts, s.AttrOr("src", "")) })
	if len(scripts) != 3 || !strings.HasPrefix(scripts[0], "/static/socket.io.js?v=") || !strings.HasPrefix(scripts[2], "/static/home.js?v=") {
		t.Errorf("scripts = %q", scripts)
	}
	if doc.Find("html").AttrOr("lang", "") != "en" {
		t.Errorf("html has no lang")
	}
	if doc.Find(`meta[name="viewport"]`).Length() != 1 {
		t.Errorf("no viewport meta")
	}
}

func TestRoomPage(t *testing.T) {
	h := newHandler(t, web.Config{Title: "Acme Calls", MaxRoomSize: 6, StatsInterval: 2 * time.Second})
	name := "Team sync ✓/42"
	res := get(t, h, "/room/"+url.PathEscape(name))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET room = %d", res.StatusCode)
	}
	requireSecurePage(t, res)
	doc := parse(t, res)

	if got := doc.Find("title").Text(); got != name+" · Acme Calls" {
		t.Errorf("title = %q", got)
	}
	body := doc.Find("body")
	if got := body.AttrOr("data-room", ""); got != name {
		t.Errorf("data-room = %q", got)
	}
	if got := body.AttrOr("data-max-room-size", ""); got != "6" {
		t.Errorf("data-max-room-size = %q", got)
	}
	if got := body.AttrOr("data-stats-interval-ms", ""); got != "2000" {
		t.Errorf("data-stats-interval-ms = %q", got)
	}
	requireTestIDs(t, doc, "room", "room-name", "video-grid", "local-video", "lobby", "lobby-form",
		"name-input", "join-button", "join-error", "leave-button", "mute-button", "camera-button",
		"camera-select", "mic-select", "chat-log", "chat-form", "chat-input", "chat-send", "status",
		"connection-status", "copy-link-button", "media-status")
	requireLabelled(t, doc)
	requireNoInlineScript(t, doc)

	if got := byTestID(doc, "room-name").Text(); got != name {
		t.Errorf("room name shown = %q", got)
	}
	local := byTestID(doc, "local-video")
	for _, attr := range []string{"muted", "autoplay", "playsinline"} {
		if _, ok := local.Attr(attr); !ok {
			t.Errorf("local video lacks %s", attr)
		}
	}
	tile := local.Closest(`[data-testid="tile"]`)
	if tile.AttrOr("data-peer-id", "") != "local" || tile.AttrOr("data-local", "") != "true" {
		t.Errorf("local tile attributes wrong")
	}
	// The remote tile lives in a <template> that call.js clones.
	tmpl := doc.Find("template#tile-template")
	if tmpl.Length() != 1 {
		t.Fatalf("no tile template")
	}
	inner, err := goquery.NewDocumentFromReader(strings.NewReader(mustHTML(t, tmpl)))
	if err != nil {
		t.Fatal(err)
	}
	remote := byTestID(inner, "remote-video")
	if remote.Length() != 1 {
		t.Fatalf("template has no remote-video")
	}
	for _, attr := range []string{"autoplay", "playsinline"} {
		if _, ok := remote.Attr(attr); !ok {
			t.Errorf("remote video lacks %s", attr)
		}
	}
	if _, ok := remote.Attr("muted"); ok {
		t.Errorf("remote video must not be muted")
	}
	requireTestIDs(t, inner, "tile", "tile-name", "peer-state")

	chat := byTestID(doc, "chat-log")
	if chat.AttrOr("role", "") != "log" || chat.AttrOr("aria-live", "") != "polite" {
		t.Errorf("chat log is not a polite log region")
	}
	if got := byTestID(doc, "chat-input").AttrOr("maxlength", ""); got != "2000" {
		t.Errorf("chat maxlength = %q", got)
	}
	if byTestID(doc, "status").AttrOr("aria-live", "") != "polite" {
		t.Errorf("status line is not a live region")
	}
	if _, ok := byTestID(doc, "leave-button").Attr("hidden"); !ok {
		t.Errorf("leave button visible before joining")
	}
	if byTestID(doc, "mute-button").AttrOr("aria-pressed", "") != "false" {
		t.Errorf("mute button is not a toggle")
	}
}

func mustHTML(t *testing.T, s *goquery.Selection) string {
	t.Helper()
	h, err := s.Html()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRoomNameEscaping(t *testing.T) {
	h := newHandler(t, web.Config{})
	name := `<script>alert("x")</script>`
	res := get(t, h, "/room/"+url.PathEscape(name))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	raw, _ := io.ReadAll(res.Body)
	if strings.Contains(string(raw), "<script>alert") {
		t.Fatalf("room name is not escaped")
	}
}

func TestInvalidRoomName(t *testing.T) {
	h := newHandler(t, web.Config{})
	for _, path := range []string{
		"/room/" + strings.Repeat("a", 65),
		"/room/%01abc",
		"/room/%20lead",
		"/room/trail%20",
		"/room/%FF%FE",
		"/room/tab%09tab",
	} {
		res := get(t, h, path)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", path, res.StatusCode)
			continue
		}
		requireSecurePage(t, res)
		doc := parse(t, res)
		requireTestIDs(t, doc, "error", "home-link")
		if byTestID(doc, "home-link").AttrOr("href", "") != "/" {
			t.Errorf("%s: error page does not link home", path)
		}
	}
	// 64 characters (not bytes) is fine.
	if res := get(t, h, "/room/"+url.PathEscape(strings.Repeat("é", 64))); res.StatusCode != http.StatusOK {
		t.Errorf("64-rune name = %d", res.StatusCode)
	}
}

func TestValidateRoomName(t *testing.T) {
	for name, ok := range map[string]bool{
		"a": true, "Team sync": true, "日本語": true, "a/b": true, strings.Repeat("x", 64): true,
		"": false, " a": false, "a ": false, "a\nb": false, "a\u00a0b": false, strings.Repeat("x", 65): false,
		"\xff": false,
		// Bidi and other format characters could make a name read as
		// something else; the zero-width joiners of emoji are fine.
		"gnp\u202Eexe": false, "a\u2066b": false, "a\u2069b": false, "a\u200Eb": false, "a\u200Fb": false,
		"a\uFEFFb": false, "a\u00ADb": false, "a\x1bb": false, "👩‍👩‍👧": true, "می‌خواهم": true,
	} {
		err := web.ValidateRoomName(name)
		if (err == nil) != ok {
			t.Errorf("ValidateRoomName(%q) = %v", name, err)
		}
		if err != nil && !errors.Is(err, web.ErrInvalidRoomName) {
			t.Errorf("error %v does not wrap ErrInvalidRoomName", err)
		}
	}
}

func TestRedirects(t *testing.T) {
	h := newHandler(t, web.Config{})
	for path, want := range map[string]string{
		"/nope":              "/",
		"/room/":             "/",
		"/room":              "/",
		"/admin/../x":        "/x", // ServeMux cleans the path first
		"/join?room=My+Room": "/room/My%20Room",
		"/join?room=":        "/",
		"/join?room=%01":     "/",
	} {
		res := get(t, h, path)
		if res.StatusCode < 300 || res.StatusCode > 399 {
			t.Errorf("GET %s = %d, want a redirect", path, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Location"); got != want {
			t.Errorf("GET %s -> %q, want %q", path, got, want)
		}
	}
}

func TestSignalingPathNotMounted(t *testing.T) {
	h := newHandler(t, web.Config{})
	res := get(t, h, "/socket.io/?EIO=4&transport=polling")
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("signaling path = %d, want 404 (the hub is mounted elsewhere)", res.StatusCode)
	}
}

func TestStaticAssets(t *testing.T) {
	h := newHandler(t, web.Config{})
	doc := parse(t, get(t, h, "/"))
	jsURL := doc.Find(`script[src*="home.js"]`).AttrOr("src", "")
	cssURL := doc.Find(`link[rel="stylesheet"]`).AttrOr("href", "")
	iconURL := doc.Find(`link[rel="icon"]`).AttrOr("href", "")

	for _, tc := range []struct{ url, ctype string }{
		{jsURL, "text/javascript; charset=utf-8"},
		{cssURL, "text/css; charset=utf-8"},
		{iconURL, "image/svg+xml"},
	} {
		res := get(t, h, tc.url)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", tc.url, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tc.ctype {
			t.Errorf("%s Content-Type = %q, want %q", tc.url, got, tc.ctype)
		}
		if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Errorf("%s (hashed URL) Cache-Control = %q", tc.url, got)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s lacks nosniff", tc.url)
		}
		etag := res.Header.Get("ETag")
		if etag == "" {
			t.Errorf("%s has no ETag", tc.url)
			continue
		}
		// The un-versioned URL must revalidate, and the ETag must work.
		plain, _, _ := strings.Cut(tc.url, "?")
		res2 := get(t, h, plain)
		if got := res2.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s Cache-Control = %q, want no-cache", plain, got)
		}
		res3 := get(t, h, plain, "If-None-Match", etag)
		if res3.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match = %d, want 304", plain, res3.StatusCode)
		}
		// A stale ?v= is served but not cached forever.
		res4 := get(t, h, plain+"?v=stale")
		if strings.Contains(res4.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s?v=stale is cached as immutable", plain)
		}
	}

	// Compressed for clients that accept gzip, identical after decoding.
	plain := get(t, h, jsURL)
	want, _ := io.ReadAll(plain.Body)
	gz := get(t, h, jsURL, "Accept-Encoding", "gzip, br")
	if gz.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(gz.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("no gzip: %v", gz.Header)
	}
	if gz.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Errorf("gzip and identity share an ETag")
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != string(want) {
		t.Errorf("gzip body differs")
	}
	if res := get(t, h, jsURL, "Accept-Encoding", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip sent although q=0")
	}

	if res := get(t, h, "/static/missing.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing asset = %d, want 404", res.StatusCode)
	}
	if res := get(t, h, "/static/../web.go"); res.StatusCode == http.StatusOK {
		t.Errorf("path traversal served a file")
	}
}

func TestClientLibraryRoute(t *testing.T) {
	for _, tc := range []struct {
		cfg  web.Config
		path string
	}{
		{web.Config{}, "/socket.io/socket.io.js"},
		{web.Config{SignalingPath: "/rt/"}, "/rt/socket.io.js"},
	} {
		h := newHandler(t, tc.cfg)
		res := get(t, h, tc.path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", tc.path, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		if res.Header.Get("ETag") == "" || res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("caching headers: %v", res.Header)
		}
		body, _ := io.ReadAll(res.Body)
		if !strings.Contains(string(body), "root.io = io") {
			t.Errorf("%s is not our client", tc.path)
		}
		if tc.cfg.SignalingPath != "" {
			doc := parse(t, get(t, h, "/"))
			if got := doc.Find("body").AttrOr("data-signaling-path", ""); got != tc.cfg.SignalingPath {
				t.Errorf("data-signaling-path = %q", got)
			}
		}
	}
}

func TestHeadRequest(t *testing.T) {
	h := newHandler(t, web.Config{})
	req := httptest.NewRequest(http.MethodHead, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("HEAD / = %d", rec.Code)
	}
}

func TestConfig(t *testing.T) {
	h := newHandler(t, web.Config{})
	cfg := h.Config()
	if cfg.Title != "Noom" || cfg.MaxRoomSize != 8 || cfg.SignalingPath != "/socket.io/" ||
		cfg.StatsInterval != 5*time.Second || cfg.Logger == nil {
		t.Fatalf("defaults = %+v", cfg)
	}
	for name, bad := range map[string]web.Config{
		"negative size":   {MaxRoomSize: -1},
		"huge size":       {MaxRoomSize: 100000},
		"relative path":   {SignalingPath: "socket.io/"},
		"no slash":        {SignalingPath: "/socket.io"},
		"root path":       {SignalingPath: "/"},
		"static path":     {SignalingPath: "/static/"},
		"query in path":   {SignalingPath: "/a?b/"},
		"short interval":  {StatsInterval: time.Millisecond},
		"long title":      {Title: strings.Repeat("t", 65)},
		"negative stats":  {StatsInterval: -time.Second},
		"double slash":    {SignalingPath: "//x/"},
		"quote in path":   {SignalingPath: `/a"b/`},
		"invalid title":   {Title: "\xff"},
		"room collision":  {SignalingPath: "/room/"},
		"space in path":   {SignalingPath: "/a b/"},
		"percent in path": {SignalingPath: "/a%20/"},
	} {
		if _, err := web.New(bad); !errors.Is(err, web.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestCSPNamesWebSocketOrigin(t *testing.T) {
	h := newHandler(t, web.Config{})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = "calls.example.org:8443"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' ws://calls.example.org:8443 wss://calls.example.org:8443;") {
		t.Errorf("CSP = %q", csp)
	}
	req.Host = "evil;script-src *"
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "evil") {
		t.Errorf("Host header injected into CSP: %q", csp)
	}
}

// TestHiddenRoomList: with HideRoomList the home page has no public room
// list at all (the hub refuses to give one too).
func TestHiddenRoomList(t *testing.T) {
	for _, hide := range []bool{false, true} {
		doc := parse(t, get(t, newHandler(t, web.Config{HideRoomList: hide}), "/"))
		want := 1
		if hide {
			want = 0
		}
		for _, id := range []string{"rooms-section", "room-list", "rooms-empty"} {
			if n := byTestID(doc, id).Length(); n != want {
				t.Errorf("HideRoomList %v: %d %s, want %d", hide, n, id, want)
			}
		}
		if byTestID(doc, "new-meeting-button").Length() != 1 {
			t.Errorf("HideRoomList %v: no New meeting button", hide)
		}
	}
}

// TestPasscodeField: the lobby has an optional, labelled passcode field
// with the protocol's limit, not echoed on screen.
func TestPasscodeField(t *testing.T) {
	doc := parse(t, get(t, newHandler(t, web.Config{}), "/room/board"))
	requireTestIDs(t, doc, "passcode-input")
	requireLabelled(t, doc)
	in := byTestID(doc, "passcode-input")
	if in.AttrOr("type", "") != "password" || in.AttrOr("maxlength", "") != "64" {
		t.Errorf("passcode input %v", in.Nodes[0].Attr)
	}
	if _, required := in.Attr("required"); required {
		t.Errorf("the passcode is optional")
	}
}
