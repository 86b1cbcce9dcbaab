package signaling

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// The compact handshake a connection keeps gives back what the request had.
func TestHandshakeDataRoundTrip(t *testing.T) {
	r := httptest.NewRequest("GET", "http://example.org/socket.io/?EIO=4&transport=websocket&room=a%20b&x=1&x=2", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156")
	r.Header.Add("Cookie", "a=1")
	r.Header.Add("Cookie", "b=2: still the value")
	r.Header.Set("X-Empty", "")
	r.RemoteAddr = "192.0.2.7:50000"
	keep := map[string]bool{"User-Agent": true, "Cookie": true, "X-Empty": true}
	hs := newHandshakeData(r, keep).build(json.RawMessage(`{"token":"t"}`))
	if !reflect.DeepEqual(hs.Headers, r.Header) {
		t.Errorf("headers %v, want %v", hs.Headers, r.Header)
	}
	if !reflect.DeepEqual(hs.Query, r.URL.Query()) {
		t.Errorf("query %v, want %v", hs.Query, r.URL.Query())
	}
	if hs.RemoteAddr != "192.0.2.7:50000" || hs.Host != "example.org" || hs.Secure || string(hs.Auth) != `{"token":"t"}` || hs.Time.IsZero() {
		t.Errorf("handshake %+v", hs)
	}
}

// By default a connection keeps no cookie or credential, and never more
// than maxHandshakeHeaderBytes of header text.
func TestHandshakeKeepsOnlyAllowedHeaders(t *testing.T) {
	var cfg Config
	cfg.setDefaults()
	keep := map[string]bool{}
	for _, h := range cfg.KeepHeaders {
		keep[http.CanonicalHeaderKey(h)] = true
	}
	r := httptest.NewRequest("GET", "http://example.org/socket.io/?EIO=4", nil)
	r.Header.Set("User-Agent", "ua")
	r.Header.Set("Cookie", "session=secret")
	r.Header.Set("Authorization", "Bearer secret")
	r.Header.Set("X-Forwarded-For", strings.Repeat("1.2.3.4, ", 2000)) // 18 KB
	hs := newHandshakeData(r, keep).build(nil)
	if hs.Headers.Get("User-Agent") != "ua" {
		t.Errorf("User-Agent lost: %v", hs.Headers)
	}
	for _, h := range []string{"Cookie", "Authorization", "X-Forwarded-For"} {
		if v := hs.Headers.Get(h); v != "" {
			t.Errorf("%s kept (%d bytes)", h, len(v))
		}
	}
}
