package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The throttle blocks an IP after its failures in the window, tells how
// long to wait, lets other IPs through, and forgets after two windows.
func TestThrottle(t *testing.T) {
	th := newThrottle(3, 10, time.Minute)
	now := time.Unix(1000, 0)
	for range 3 {
		if w := th.blocked("a", now); w != 0 {
			t.Fatalf("blocked early: %v", w)
		}
		th.failed("a", now)
	}
	w := th.blocked("a", now)
	if w < time.Minute || w > 2*time.Minute {
		t.Fatalf("wait %v", w)
	}
	if th.blocked("b", now) != 0 {
		t.Fatal("another IP blocked")
	}
	// Still blocked a window later (the failures are in the previous half).
	if th.blocked("a", now.Add(61*time.Second)) == 0 {
		t.Fatal("unblocked after one window")
	}
	if w := th.blocked("a", now.Add(121*time.Second)); w != 0 {
		t.Fatalf("still blocked after two windows: %v", w)
	}
	// Global bound: 10 failures from many IPs block everyone.
	th = newThrottle(3, 10, time.Minute)
	for i := range 10 {
		th.failed(string(rune('a'+i)), now)
	}
	if th.blocked("z", now) == 0 {
		t.Fatal("global bound not enforced")
	}
	// Success forgets the IP's failures.
	th = newThrottle(3, 10, time.Minute)
	th.failed("a", now)
	th.failed("a", now)
	th.succeeded("a")
	th.failed("a", now)
	if th.blocked("a", now) != 0 {
		t.Fatal("failures before a success still count")
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, k := range []string{"", "a", "room:with:colons", "ünï", "x/y%z"} {
		c, err := decodeCursor(encodeCursor(k, 42))
		if err != nil || c.key != k || c.size != 42 || !c.set {
			t.Fatalf("%q: %+v %v", k, c, err)
		}
	}
	for _, bad := range []string{"!!", "eA", "LTE6eA", "MDE6eA"} { // no colon, "-1:x", "01:x"
		if _, err := decodeCursor(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzCursor: any text either fails to parse or round-trips.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor("lobby", 3))
	f.Add("")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil || !c.set {
			return
		}
		d, err := decodeCursor(encodeCursor(c.key, c.size))
		if err != nil || d != c {
			t.Fatalf("%q: %+v then %+v %v", s, c, d, err)
		}
	})
}

func TestLocalReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/admin/rooms?q=a":      "/admin/rooms?q=a",
		"//evil.example/admin/": "/admin/",
		"https://evil/admin/":   "/admin/",
		"/elsewhere":            "/admin/",
		"/admin/\\evil":         "/admin/",
		"":                      "/admin/",
	} {
		if got := localReturn(in, "/admin/"); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

// Sessions end after SessionIdle unused or SessionMax after login, and
// there are never more than MaxSessions.
func TestSessionExpiry(t *testing.T) {
	now := time.Unix(0, 0)
	cfg := &Config{SessionIdle: time.Minute, SessionMax: 3 * time.Minute, MaxSessions: 2, Now: func() time.Time { return now }}
	a := newAuth(cfg, testMetrics(t))
	req := func(id string) *http.Request {
		r := httptest.NewRequest("GET", "/admin/", nil)
		r.AddCookie(&http.Cookie{Name: cookieName, Value: id})
		return r
	}
	s := a.newSession()
	for range 4 { // used every 50 s: alive until the absolute limit
		now = now.Add(50 * time.Second)
		if a.session(req(s.id)) == nil && now.Sub(time.Unix(0, 0)) <= 3*time.Minute {
			t.Fatalf("ended early at %v", now)
		}
	}
	if a.session(req(s.id)) != nil {
		t.Fatal("alive past SessionMax")
	}
	s = a.newSession()
	now = now.Add(61 * time.Second)
	if a.session(req(s.id)) != nil {
		t.Fatal("alive past SessionIdle")
	}
	next := func() *session { now = now.Add(time.Second); return a.newSession() }
	s1, s2, s3 := next(), next(), next()
	if a.session(req(s1.id)) != nil || a.session(req(s2.id)) == nil || a.session(req(s3.id)) == nil {
		t.Fatal("the oldest session was not the one ended")
	}
	if a.session(req("forged")) != nil {
		t.Fatal("unknown id accepted")
	}
}
