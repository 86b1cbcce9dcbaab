package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/pion/turn/v4"

	sioclient "github.com/noomrtc/noom/signaling/signalingtest"

	"golang.org/x/crypto/bcrypt"
)

// adminPassword is the console password of the tests; its hash uses the
// cheapest bcrypt cost so tests stay fast.
const adminPassword = "correct horse battery staple"

// startAdminNoom runs noom with the console on its own loopback listener.
func startAdminNoom(t *testing.T, args ...string) (ready, string) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	rd := startNoom(t, append([]string{"--admin-addr", "127.0.0.1:0", "--admin-password-hash", string(hash)}, args...)...)
	return rd, adminPassword
}

// joinRoom joins a call room through the call protocol.
func joinRoom(ctx context.Context, t *testing.T, cl *sioclient.Client, room, name string) {
	t.Helper()
	var ack struct {
		OK    *bool
		Error any
	}
	if err := cl.Call(ctx, &ack, "join", map[string]string{"room": room, "name": name}); err != nil {
		t.Fatal(err)
	}
	if ack.OK != nil && !*ack.OK {
		t.Fatalf("join %q as %q refused: %v", room, name, ack.Error)
	}
}

// adminClient talks to the console from one loopback source address.
type adminClient struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newAdminClient(t *testing.T, base, srcIP string) *adminClient {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if srcIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(srcIP)}
	}
	jar, _ := cookiejar.New(nil)
	return &adminClient{t: t, base: base, hc: &http.Client{Timeout: 10 * time.Second, Jar: jar,
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request; hdr holds extra headers ("basic" sets Basic auth
// from "user:password").
func (c *adminClient) do(method, path string, body url.Values, hdr map[string]string) (*http.Response, string) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(body.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		if k == "basic" {
			u, p, _ := strings.Cut(v, ":")
			req.SetBasicAuth(u, p)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// login logs in through the form and returns the session's CSRF token.
func (c *adminClient) login() string {
	c.t.Helper()
	resp, body := c.do("POST", "/admin/login", url.Values{"user": {"admin"}, "password": {adminPassword}}, map[string]string{"Origin": "null"})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	_, page := c.do("GET", "/admin/", nil, nil)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		c.t.Fatal(err)
	}
	token, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
	if token == "" {
		c.t.Fatalf("no CSRF token on the overview after login")
	}
	return token
}

func (c *adminClient) json(path string, hdr map[string]string, v any) int {
	c.t.Helper()
	resp, body := c.do("GET", path, nil, hdr)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			c.t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	return resp.StatusCode
}

var basic = map[string]string{"basic": "admin:" + adminPassword}

func dialN(t *testing.T, base string, n int) []*sioclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := make([]*sioclient.Client, n)
	for i := range out {
		c, err := sioclient.Dial(ctx, base, sioclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		out[i] = c
	}
	return out
}

// TestAdminAuth: no credentials get 401 (API) or the login form (pages);
// every answer carries the security headers; wrong passwords from one IP
// are throttled to 429 with Retry-After while another IP still logs in;
// an unknown user and a wrong password get the same answer.
func TestAdminAuth(t *testing.T) {
	rd, _ := startAdminNoom(t)
	base := "http://" + rd.Admin
	a := newAdminClient(t, base, "127.0.0.1")

	resp, body := a.do("GET", "/admin/api/v1/sockets", nil, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"error"`) ||
		resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("API without credentials: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, _ = a.do("GET", "/admin/sockets?q=x", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login?next=%2Fadmin%2Fsockets%3Fq%3Dx" {
		t.Errorf("page without credentials: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = a.do("GET", "/admin/login", nil, nil)
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("security headers: %v", h)
	}

	// Wrong passwords: the same answer for a wrong user, then 429.
	wrongUser := map[string]string{"basic": "root:" + adminPassword}
	wrongPass := map[string]string{"basic": "admin:nope"}
	for i := range 5 {
		hd := wrongPass
		if i%2 == 0 {
			hd = wrongUser
		}
		resp, body := a.do("GET", "/admin/api/v1/stats", nil, hd)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "authentication required") {
			t.Fatalf("attempt %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, _ = a.do("GET", "/admin/api/v1/stats", nil, basic)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures, even the right password: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, _ = a.do("POST", "/admin/login", url.Values{"user": {"admin"}, "password": {adminPassword}}, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("form login from the throttled IP: %d", resp.StatusCode)
	}
	other := newAdminClient(t, base, "127.0.0.2")
	var st map[string]any
	if code := other.json("/admin/api/v1/stats", basic, &st); code != http.StatusOK {
		t.Fatalf("another IP: %d", code)
	}
	other.login()

	_, metrics, _ := get(t, "http://"+rd.Metrics+"/metrics")
	for _, want := range []string{`noom_admin_logins_total{result="failed"} 5`, `noom_admin_logins_total{result="throttled"} 2`, `noom_admin_logins_total{result="ok"} 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestAdminCSRF: a cookie-session POST needs the session's CSRF token; any
// POST with a foreign Origin is refused, Basic included; a Basic POST with
// "Origin: null" (a sandboxed frame) is refused; logout ends the session.
func TestAdminCSRF(t *testing.T) {
	rd, _ := startAdminNoom(t)
	base := "http://" + rd.Admin
	socks := dialN(t, "http://"+rd.HTTP, 3)
	a := newAdminClient(t, base, "")
	token := a.login()
	path := func(c *sioclient.Client) string { return "/admin/api/v1/sockets/_/" + c.ID + "/disconnect" }
	same := "http://" + rd.Admin

	for _, tc := range []struct {
		name string
		form url.Values
		hdr  map[string]string
		want int
	}{
		{"cookie, no token", url.Values{}, map[string]string{"Origin": same}, 403},
		{"cookie, wrong token", url.Values{"csrf": {strings.Repeat("0", 64)}}, map[string]string{"Origin": same}, 403},
		{"cookie, token, foreign origin", url.Values{"csrf": {token}}, map[string]string{"Origin": "http://evil.example"}, 403},
		{"cookie, token, foreign referer", url.Values{"csrf": {token}}, map[string]string{"Referer": "http://evil.example/x"}, 403},
		{"basic, foreign origin", url.Values{}, map[string]string{"Origin": "http://evil.example", "basic": basic["basic"]}, 403},
		{"basic, null origin", url.Values{}, map[string]string{"Origin": "null", "basic": basic["basic"]}, 403},
	} {
		b := newAdminClient(t, base, "")
		if tc.hdr["basic"] == "" {
			b = a
		}
		resp, body := b.do("POST", path(socks[0]), tc.form, tc.hdr)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.want)
		}
	}
	select {
	case <-socks[0].Done():
		t.Fatal("a refused request disconnected the socket")
	default:
	}
	// Accepted: the token in the header (the script) or the form, and Basic from a script.
	resp, body := a.do("POST", path(socks[0]), url.Values{}, map[string]string{"X-CSRF-Token": token, "Origin": "null"})
	if resp.StatusCode != 200 || body != "{\"ok\":true}\n" {
		t.Fatalf("cookie with token: %d %s", resp.StatusCode, body)
	}
	<-socks[0].Done()
	resp, _ = newAdminClient(t, base, "").do("POST", path(socks[1]), url.Values{}, basic)
	if resp.StatusCode != 200 {
		t.Fatalf("basic from a script: %d", resp.StatusCode)
	}
	<-socks[1].Done()
	// A form post asks for confirmation first, then redirects back.
	resp, body = a.do("POST", path(socks[2]), url.Values{"csrf": {token}, "return": {"/admin/sockets"}}, map[string]string{"Origin": same})
	if resp.StatusCode != 200 || !strings.Contains(body, `data-testid="confirm"`) {
		t.Fatalf("unconfirmed form post: %d", resp.StatusCode)
	}
	resp, _ = a.do("POST", path(socks[2]), url.Values{"csrf": {token}, "return": {"//evil.example/"}, "confirmed": {"1"}}, map[string]string{"Origin": same})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/" {
		t.Fatalf("confirmed form post: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	<-socks[2].Done()

	resp, _ = a.do("POST", "/admin/logout", url.Values{"csrf": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := a.do("GET", "/admin/api/v1/stats", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

// TestAdminReadOnly: every action is refused and no button is shown.
func TestAdminReadOnly(t *testing.T) {
	rd, _ := startAdminNoom(t, "--admin-readonly")
	c := dialN(t, "http://"+rd.HTTP, 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	joinRoom(ctx, t, c, "standup", "Ann")
	a := newAdminClient(t, "http://"+rd.Admin, "")
	for _, p := range []string{"sockets/_/" + c.ID + "/disconnect", "sockets/_/" + c.ID + "/join?room=x",
		"sockets/_/" + c.ID + "/leave?room=standup", "rooms/_/standup/clear", "rooms/_/standup/disconnect",
		"turn/allocations/udp,127.0.0.1:1,127.0.0.1:2/end"} {
		resp, body := a.do("POST", "/admin/api/v1/"+p, url.Values{}, basic)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "read-only") {
			t.Errorf("POST %s: %d %s", p, resp.StatusCode, body)
		}
	}
	_, page := a.do("GET", "/admin/rooms/_/standup", nil, basic)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
	if n := doc.Find(`form[data-confirm], [data-testid^="disconnect"]`).Length(); n != 0 {
		t.Errorf("read-only room page has %d action controls", n)
	}
	if doc.Find(`[data-testid="readonly"]`).Length() != 1 || doc.Find(`[data-testid="socket-row"]`).Length() != 1 {
		t.Errorf("read-only room page: %s", page)
	}
	select {
	case <-c.Done():
		t.Fatal("the socket was disconnected")
	default:
	}
}

// TestAdminAPI: lists page through real sockets with cursors and filters;
// details, path-escaped names, redaction, the stats, and the actions.
func TestAdminAPI(t *testing.T) {
	rd, _ := startAdminNoom(t)
	const n = 23
	clients := dialN(t, "http://"+rd.HTTP, n)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, c := range clients {
		joinRoom(ctx, t, c, fmt.Sprintf("room/%d", i%5), fmt.Sprintf("user %d", i))
	}
	a := newAdminClient(t, "http://"+rd.Admin, "")

	type socketsPage struct {
		Items []struct {
			SID, Name, Transport, Address string
			Rooms                         []string
		}
		Next  string
		Total int
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		var p socketsPage
		if code := a.json("/admin/api/v1/sockets?limit=5&cursor="+cursor, basic, &p); code != 200 {
			t.Fatalf("sockets page: %d", code)
		}
		if p.Total != n || len(p.Items) > 5 {
			t.Fatalf("page %d: total %d, %d items", pages, p.Total, len(p.Items))
		}
		for _, it := range p.Items {
			if seen[it.SID] || it.Transport != "websocket" || !strings.HasPrefix(it.Address, "127.0.0.1:") || len(it.Rooms) != 1 || !strings.HasPrefix(it.Name, "user ") {
				t.Fatalf("item %+v (seen %v)", it, seen[it.SID])
			}
			seen[it.SID] = true
		}
		if p.Next == "" {
			break
		}
		cursor = url.QueryEscape(p.Next)
	}
	if len(seen) != n {
		t.Fatalf("paged through %d sockets, want %d", len(seen), n)
	}
	var p socketsPage
	a.json("/admin/api/v1/sockets?room="+url.QueryEscape("room/1"), basic, &p)
	if p.Total != 5 {
		t.Errorf("room filter: %d sockets, want 5", p.Total)
	}
	a.json("/admin/api/v1/sockets?q="+clients[7].ID[:6], basic, &p)
	if p.Total < 1 || p.Items[0].SID != clients[7].ID {
		t.Errorf("sid prefix filter: %+v", p)
	}
	a.json("/admin/api/v1/sockets?q="+strings.ToUpper(clients[7].ID[:6]), basic, &p)
	if p.Total < 1 || p.Items[0].SID != clients[7].ID {
		t.Errorf("sid prefix filter in another case: %+v", p)
	}
	a.json("/admin/api/v1/sockets?limit=5&q="+url.QueryEscape("USER 1"), basic, &p) // user 1, user 10 ... user 19
	if p.Total != 11 || len(p.Items) != 5 || p.Next == "" {
		t.Errorf("name filter: total %d, %d items, next %q", p.Total, len(p.Items), p.Next)
	}
	a.json("/admin/api/v1/sockets?limit=5&q="+url.QueryEscape("USER 1")+"&cursor="+url.QueryEscape(p.Next), basic, &p)
	if p.Total != 11 || len(p.Items) != 5 {
		t.Errorf("name filter, page 2: total %d, %d items", p.Total, len(p.Items))
	}
	a.json("/admin/api/v1/sockets?q=127.0.0.1&room="+url.QueryEscape("room/1"), basic, &p)
	if p.Total != 5 {
		t.Errorf("address filter within a room: %d sockets, want 5", p.Total)
	}
	if resp, body := a.do("GET", "/admin/api/v1/sockets?cursor=%21%21", nil, basic); resp.StatusCode != 400 {
		t.Errorf("bad cursor: %d %s", resp.StatusCode, body)
	}

	var rooms struct {
		Items []struct {
			Name    string
			Size    int
			Private bool
		}
		Total int
	}
	a.json("/admin/api/v1/rooms?sort=size", basic, &rooms)
	if rooms.Total != 5 || rooms.Items[0].Size != 5 || rooms.Items[4].Size != 4 || rooms.Items[0].Name != "room/0" {
		t.Errorf("rooms by size: %+v", rooms)
	}
	// Paged through the hub's own sorted listing: each room once, by size.
	var walked []int
	for rc := ""; ; {
		var pg struct {
			Items []struct {
				Name string
				Size int
			}
			Next  string
			Total int
		}
		if code := a.json("/admin/api/v1/rooms?sort=size&limit=2&cursor="+rc, basic, &pg); code != 200 || pg.Total != 5 {
			t.Fatalf("rooms page: %d total %d", code, pg.Total)
		}
		for _, it := range pg.Items {
			walked = append(walked, it.Size)
		}
		if pg.Next == "" {
			break
		}
		rc = url.QueryEscape(pg.Next)
	}
	if fmt.Sprint(walked) != "[5 5 5 4 4]" {
		t.Errorf("rooms by size, 2 a page: sizes %v, want [5 5 5 4 4]", walked)
	}
	a.json("/admin/api/v1/rooms?private=1&q=room", basic, &rooms)
	if rooms.Total != 5 {
		t.Errorf("rooms named room*: %d", rooms.Total)
	}
	a.json("/admin/api/v1/rooms?private=1", basic, &rooms)
	if rooms.Total != 5+n {
		t.Errorf("rooms with private ones: %d, want %d", rooms.Total, 5+n)
	}
	var room struct {
		NSP, Name string
		Members   []struct{ SID string }
	}
	if code := a.json("/admin/api/v1/rooms/_/"+url.PathEscape("room/1"), basic, &room); code != 200 || room.Name != "room/1" || len(room.Members) != 5 {
		t.Errorf("room detail: %d %+v", code, room)
	}
	if code := a.json("/admin/api/v1/rooms/_/nope", basic, &room); code != 404 {
		t.Errorf("missing room: %d", code)
	}
	if code := a.json("/admin/api/v1/sockets/chat/x", basic, &room); code != 404 {
		t.Errorf("unknown namespace: %d", code)
	}

	// Secrets of the handshake are redacted.
	sc, err := sioclient.Dial(ctx, "http://"+rd.HTTP, sioclient.Options{Auth: map[string]any{"token": "s3cret", "user": "bob"},
		Header: http.Header{"Authorization": {"Bearer s3cret"}, "Cookie": {"sid=s3cret"}, "User-Agent": {"visible"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	resp, body := a.do("GET", "/admin/api/v1/sockets/_/"+sc.ID, nil, basic)
	if resp.StatusCode != 200 || strings.Contains(body, "s3cret") || !strings.Contains(body, "visible") || !strings.Contains(body, "bob") {
		t.Errorf("socket detail not redacted right: %s", body)
	}

	// Actions: join and leave, clear, disconnect a room.
	post := func(p string) {
		t.Helper()
		if resp, body := a.do("POST", "/admin/api/v1/"+p, url.Values{}, basic); resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", p, resp.StatusCode, body)
		}
	}
	post("sockets/_/" + sc.ID + "/join?room=" + url.QueryEscape("ops room"))
	a.json("/admin/api/v1/sockets?room="+url.QueryEscape("ops room"), basic, &p)
	if p.Total != 1 {
		t.Errorf("after join: %d in ops room", p.Total)
	}
	post("sockets/_/" + sc.ID + "/leave?room=" + url.QueryEscape("ops room"))
	a.json("/admin/api/v1/sockets?room="+url.QueryEscape("ops room"), basic, &p)
	if p.Total != 0 {
		t.Errorf("after leave: %d in ops room", p.Total)
	}
	post("rooms/_/" + url.PathEscape("room/2") + "/clear")
	if code := a.json("/admin/api/v1/rooms/_/"+url.PathEscape("room/2"), basic, &room); code != 404 {
		t.Errorf("cleared room still there: %d", code)
	}
	post("rooms/_/" + url.PathEscape("room/0") + "/disconnect")
	for i := 0; i < n; i += 5 {
		<-clients[i].Done()
	}
	if resp, _ := a.do("POST", "/admin/api/v1/rooms/_/room%2F0/disconnect", url.Values{}, basic); resp.StatusCode != 404 {
		t.Errorf("disconnect of a gone room: %d", resp.StatusCode)
	}

	var st struct {
		Sockets, Websocket int
		Namespaces         []struct {
			Name    string
			Sockets int
		}
		Charts []struct{ ID string }
	}
	// The disconnected sockets' clients may keep their connections (a
	// namespace disconnect leaves the Engine.IO session to the client).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a.json("/admin/api/v1/stats", basic, &st)
		if st.Sockets == n-5+1 && st.Websocket >= n-5+1 && len(st.Namespaces) == 1 && st.Namespaces[0].Sockets == n-5+1 && len(st.Charts) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("stats: %+v", st)
			break
		}
	}
}

// TestAdminHTML: pages through the DOM: hostile names as text everywhere,
// live rows, links with escaped paths.
func TestAdminHTML(t *testing.T) {
	rd, _ := startAdminNoom(t)
	const (
		nick = `<img src=x onerror=alert(1)>`
		room = `"></a><script>alert(1)</script>`
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, "http://"+rd.HTTP, sioclient.Options{Header: http.Header{"User-Agent": {`<script>alert(1)</script>`}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	joinRoom(ctx, t, c, room, nick)
	must(t, c.Emit(`</script><b>ev</b>`, 1))
	a := newAdminClient(t, "http://"+rd.Admin, "")
	a.login()
	doc := func(path string) *goquery.Document {
		t.Helper()
		resp, body := a.do("GET", path, nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if n := d.Find("script:not([src]), img[src=x], b").Length(); n != 0 {
			t.Errorf("GET %s: %d injected elements", path, n)
		}
		return d
	}
	d := doc("/admin/sockets")
	if got := d.Find(`[data-sid="` + c.ID + `"] [data-testid="socket-name"]`).Text(); got != nick {
		t.Errorf("sockets page name %q", got)
	}
	d = doc("/admin/rooms")
	link := d.Find(`[data-testid="room-link"]`)
	if href, _ := link.Attr("href"); link.Text() != room || href != "/admin/rooms/_/"+url.PathEscape(room) {
		t.Errorf("rooms page link %q → %q", link.Text(), href)
	}
	d = doc("/admin/rooms/_/" + url.PathEscape(room))
	if d.Find(`[data-testid="room-name"]`).Text() != room || d.Find(`[data-testid="socket-row"]`).Length() != 1 {
		t.Errorf("room page wrong")
	}
	d = doc("/admin/sockets/_/" + c.ID)
	if !strings.Contains(d.Find(`[data-testid="headers"]`).Text(), `<script>alert(1)</script>`) || d.Find(`[data-testid="detail-name"]`).Text() != nick {
		t.Errorf("socket page wrong")
	}
	d = doc("/admin/flow?sid=" + c.ID)
	var whats []string
	d.Find(`[data-testid="flow-what"]`).Each(func(_ int, s *goquery.Selection) { whats = append(whats, s.Text()) })
	if !slices.Contains(whats, `</script><b>ev</b>`) || !slices.Contains(whats, room) {
		t.Errorf("flow rows %q", whats)
	}
	doc("/admin/")
	doc("/admin/turn")
	doc("/admin/calls")
}

// TestAdminStream: the SSE endpoint sends the backlog, then live events
// matching its filter.
func TestAdminStream(t *testing.T) {
	rd, _ := startAdminNoom(t)
	c := dialN(t, "http://"+rd.HTTP, 1)[0]
	must(t, c.Emit("before", 1))
	req, _ := http.NewRequest("GET", "http://"+rd.Admin+"/admin/api/v1/events?sid="+c.ID, nil)
	req.SetBasicAuth("admin", adminPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() map[string]any {
		t.Helper()
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var m map[string]any
				must(t, json.Unmarshal([]byte(data), &m))
				if m["sid"] != c.ID {
					t.Fatalf("event of another socket: %v", m)
				}
				return m
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return nil
	}
	if e := next(); e["kind"] != "connect" {
		t.Fatalf("first backlog event %v", e)
	}
	if e := next(); e["event"] != "before" {
		t.Fatalf("second backlog event %v", e)
	}
	must(t, c.Emit("after", 2))
	if e := next(); e["event"] != "after" || e["kind"] != "in" {
		t.Fatalf("live event %v", e)
	}
}

// TestAdminRandomPassword: with no password configured, `go run
// ./cmd/noom` still gives a working console: a random password printed
// once in the banner. --admin=false serves no console.
func TestAdminRandomPassword(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out strings.Builder
	rdc, errc := make(chan ready, 1), make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"--addr", "127.0.0.1:0", "--turn=false", "--log-level", "warn"},
			func(string) string { return "" }, &out, io.Discard, func(r ready) { rdc <- r })
	}()
	var rd ready
	select {
	case rd = <-rdc:
	case err := <-errc:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Error(err)
		}
	})
	banner := out.String()
	_, rest, ok := strings.Cut(banner, `user "admin", password `)
	password, _, _ := strings.Cut(rest, " ")
	if !ok || len(password) < 16 || !strings.Contains(banner, "Admin:        http://"+rd.Admin+"/admin/") {
		t.Fatalf("banner: %s", banner)
	}
	a := newAdminClient(t, "http://"+rd.Admin, "")
	var st map[string]any
	if code := a.json("/admin/api/v1/stats", map[string]string{"basic": "admin:" + password}, &st); code != 200 {
		t.Fatalf("the printed password does not work: %d", code)
	}
	if st["turn"] != false {
		t.Errorf("TURN shown while off: %v", st["turn"])
	}

	off := startNoom(t, "--admin=false")
	if off.Admin != "" {
		t.Errorf("console address %q with --admin=false", off.Admin)
	}
	if status, body, _ := get(t, "http://"+off.HTTP+"/admin/api/v1/stats"); status == 200 || status == 401 || strings.Contains(body, "authentication") {
		t.Errorf("--admin=false still serves the console: %d", status)
	}
}

func TestAdminPasswordFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"plain": adminPassword + "\n", "hash": ""} {
		if name == "hash" {
			h, _ := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
			content = string(h) + "\n"
		}
		path := filepath.Join(dir, name)
		must(t, os.WriteFile(path, []byte(content), 0o600))
		hash, generated, err := adminPasswordHash(&options{AdminPasswordFile: path})
		if err != nil || generated != "" || bcrypt.CompareHashAndPassword(hash, []byte(adminPassword)) != nil {
			t.Errorf("%s: %v %q", name, err, generated)
		}
	}
	if _, err := parseOptions([]string{"--admin-password-hash", "nope"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("a hash that is not bcrypt was accepted")
	}
}

func TestIsHTTPS(t *testing.T) {
	f := isHTTPS([]string{"10.0.0.0/8"})
	for _, tc := range []struct {
		remote, proto string
		want          bool
	}{
		{"10.1.2.3:5", "https", true},
		{"10.1.2.3:5", "http", false},
		{"192.0.2.1:5", "https", false}, // not a trusted proxy: its header means nothing
	} {
		r, _ := http.NewRequest("GET", "http://x/admin/", nil)
		r.RemoteAddr = tc.remote
		r.Header.Set("X-Forwarded-Proto", tc.proto)
		if got := f(r); got != tc.want {
			t.Errorf("%+v: %v", tc, got)
		}
	}
}

// TestAdminEndAllocation: a real TURN allocation made with the credentials
// the call app hands out shows in the console with an ID, the "End"
// action ends it in the TURN server, and ending it again is a 404.
func TestAdminEndAllocation(t *testing.T) {
	rd, _ := startAdminNoom(t)
	c := dialN(t, "http://"+rd.HTTP, 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var ack struct {
		OK         bool
		IceServers []struct{ Username, Credential string }
	}
	if err := c.Call(ctx, &ack, "join", map[string]string{"room": "turn-end", "name": "Ann"}); err != nil || !ack.OK {
		t.Fatalf("join: %v %+v", err, ack)
	}
	var user, pass string
	for _, s := range ack.IceServers {
		if s.Username != "" {
			user, pass = s.Username, s.Credential
		}
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: rd.TURN.UDP.String(), TURNServerAddr: rd.TURN.UDP.String(),
		Conn: conn, Username: user, Password: pass, Realm: "noom", RTO: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	defer tc.Close()
	if err := tc.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := tc.Allocate()
	if err != nil {
		t.Fatalf("allocate with the call app's credentials: %v", err)
	}
	defer relay.Close()

	a := newAdminClient(t, "http://"+rd.Admin, "")
	var allocs struct {
		Items []struct{ ID, Client, Relay string }
	}
	if code := a.json("/admin/api/v1/turn/allocations", basic, &allocs); code != 200 || len(allocs.Items) != 1 ||
		allocs.Items[0].ID == "" || allocs.Items[0].Client != conn.LocalAddr().String() {
		t.Fatalf("allocations: %d %+v (client %s)", code, allocs, conn.LocalAddr())
	}
	_, page := a.do("GET", "/admin/turn", nil, basic)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
	if doc.Find(`[data-testid="turn-end"]`).Length() != 1 {
		t.Error("the TURN page has no End button")
	}
	end := "/admin/api/v1/turn/allocations/" + url.PathEscape(allocs.Items[0].ID) + "/end"
	if resp, body := a.do("POST", end, url.Values{}, basic); resp.StatusCode != 200 {
		t.Fatalf("end: %d %s", resp.StatusCode, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.json("/admin/api/v1/turn/allocations", basic, &allocs); len(allocs.Items) != 0; a.json("/admin/api/v1/turn/allocations", basic, &allocs) {
		if time.Now().After(deadline) {
			t.Fatalf("still allocated after End: %+v", allocs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, body := a.do("POST", end, url.Values{}, basic); resp.StatusCode != 404 {
		t.Errorf("ending it again: %d %s", resp.StatusCode, body)
	}
}
