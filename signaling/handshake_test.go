package signaling

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
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
	hs := newHandshakeData(r).build(json.RawMessage(`{"token":"t"}`))
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
