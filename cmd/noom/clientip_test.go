package main

import (
	"net/http"
	"testing"
)

func TestClientIP(t *testing.T) {
	f := clientIP([]string{"10.0.0.0/8", "127.0.0.1/32"})
	for _, tc := range []struct {
		remote, xff, want string
	}{
		{"203.0.113.5:4000", "", "203.0.113.5"},
		{"203.0.113.5:4000", "1.2.3.4", "203.0.113.5"},               // not from a proxy: header ignored
		{"10.1.1.1:4000", "198.51.100.7", "198.51.100.7"},            // one trusted proxy
		{"10.1.1.1:4000", "6.6.6.6, 198.51.100.7", "198.51.100.7"},   // the client's own claim is skipped
		{"127.0.0.1:4000", "198.51.100.7, 10.2.2.2", "198.51.100.7"}, // two trusted proxies
		{"10.1.1.1:4000", "garbage", "10.1.1.1"},
		{"[::ffff:10.1.1.1]:4000", "198.51.100.7", "198.51.100.7"},
		{"10.1.1.1:4000", "198.51.100.7:51234", "198.51.100.7"},           // proxies that add the port
		{"10.1.1.1:4000", "[2001:db8::7]:51234", "2001:db8::7"},           //  … IPv6 too
		{"10.1.1.1:4000", "198.51.100.9:1, 10.2.2.2:443", "198.51.100.9"}, // past a trusted hop with a port
	} {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := f(r); got != tc.want {
			t.Errorf("%s with X-Forwarded-For %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}
