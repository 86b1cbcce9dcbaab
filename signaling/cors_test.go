package signaling

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestOriginAllowlist(t *testing.T) {
	const good, evil = "https://app.example", "https://evil.example"
	h := newHub(t, Config{AllowedOrigins: []string{good, "http://other.example:8080/"}})
	handshake := func(origin string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, h.url()+"/socket.io/?EIO=4&transport=polling", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := h.hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := handshake(good)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("allowed origin: %d %s", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      good,
		"Access-Control-Allow-Credentials": "true",
		"Vary":                             "Origin",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	// An allowed origin given with a trailing slash matches without it.
	if resp, body := handshake("http://other.example:8080"); resp.StatusCode != 200 {
		t.Errorf("second allowed origin: %d %s", resp.StatusCode, body)
	}

	resp, body = handshake(evil)
	if resp.StatusCode != http.StatusForbidden || body != `{"code":4,"message":"Forbidden"}` {
		t.Errorf("other origin: %d %s", resp.StatusCode, body)
	}
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("refused origin got Access-Control-Allow-Origin %q", v)
	}
	// Non-browser clients send no Origin.
	if resp, _ := handshake(""); resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("no origin: %d %v", resp.StatusCode, resp.Header)
	}

	// Preflight.
	req, _ := http.NewRequest(http.MethodOptions, h.url()+"/socket.io/?EIO=4&transport=polling&sid=x", nil)
	req.Header.Set("Origin", good)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type, x-token")
	resp, err := h.hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("preflight: %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  good,
		"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
		"Access-Control-Allow-Headers": "content-type, x-token",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("preflight %s: %q, want %q", k, got, want)
		}
	}
	req.Header.Set("Origin", evil)
	resp, err = h.hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("preflight from another origin: %d", resp.StatusCode)
	}

	// WebSocket: the Origin header is checked before the upgrade.
	if got := wsDialStatus(t, h.wsURL(""), http.Header{"Origin": {evil}}); got != http.StatusForbidden {
		t.Errorf("WebSocket from another origin: %d", got)
	}
	if got := wsDialStatus(t, h.wsURL(""), http.Header{"Origin": {good}}); got != http.StatusSwitchingProtocols {
		t.Errorf("WebSocket from the allowed origin: %d", got)
	}
	// The upgrade of an allowed session from another origin is refused too.
	p, _ := h.openPoll(http.Header{"Origin": {good}})
	if got := wsDialStatus(t, h.wsURL("&sid="+p.sid), http.Header{"Origin": {evil}}); got != http.StatusForbidden {
		t.Errorf("upgrade from another origin: %d", got)
	}
	p.header.Set("Origin", evil)
	if status, _ := p.do(http.MethodPost, "40", nil); status != http.StatusForbidden {
		t.Errorf("POST from another origin: %d", status)
	}
}

func TestOriginDefaultSameOrigin(t *testing.T) {
	h := newHub(t, Config{})
	self := h.url() // http://127.0.0.1:port: the Host the client sends
	if got := wsDialStatus(t, h.wsURL(""), http.Header{"Origin": {self}}); got != http.StatusSwitchingProtocols {
		t.Errorf("same origin: %d", got)
	}
	if got := wsDialStatus(t, h.wsURL(""), http.Header{"Origin": {"http://localhost:1"}}); got != http.StatusForbidden {
		t.Errorf("other origin: %d", got)
	}
	if got := wsDialStatus(t, h.wsURL(""), http.Header{"Origin": {"null"}}); got != http.StatusForbidden {
		t.Errorf("null origin: %d", got)
	}
}

func TestOriginWildcard(t *testing.T) {
	h := newHub(t, Config{AllowedOrigins: []string{"*"}})
	p, _ := h.openPoll(http.Header{"Origin": {"https://anything.example"}})
	status, _ := p.do(http.MethodPost, "40", nil)
	if status != 200 {
		t.Errorf("POST: %d", status)
	}
	if got := wsDialStatus(t, h.wsURL(""), http.Header{"Origin": {"https://anything.example"}}); got != http.StatusSwitchingProtocols {
		t.Errorf("WebSocket: %d", got)
	}
}

// TestOriginEdges covers what an attacker's page could try: an opaque
// origin through "*", a non-web scheme, and, with an allow-list, the
// app's own origin must still work.
func TestOriginEdges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string
		origin  string // "SAME" is the hub's own http origin
		want    int
	}{
		{"null through *", []string{"*"}, "null", http.StatusForbidden},
		{"null by name", []string{"null"}, "null", http.StatusOK},
		{"file scheme through *", []string{"*"}, "file://", http.StatusForbidden},
		{"own origin with an allow-list", []string{"https://app.example"}, "SAME", http.StatusOK},
		{"own host, other scheme", nil, "SAME-ws", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, Config{AllowedOrigins: tc.allowed})
			origin := tc.origin
			switch origin {
			case "SAME":
				origin = h.url()
			case "SAME-ws":
				origin = "ws" + strings.TrimPrefix(h.url(), "http")
			}
			req, _ := http.NewRequest(http.MethodGet, h.url()+"/socket.io/?EIO=4&transport=polling", nil)
			req.Header.Set("Origin", origin)
			resp, err := h.hs.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("Origin %q: %d, want %d", origin, resp.StatusCode, tc.want)
			}
		})
	}
}
