package main

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// hostCheck refuses requests whose Host is neither the public host nor
// the address noom listens on, when a public host is set: a page on an
// attacker's domain that rebinds its name to an intranet install's
// address then gets 421 instead of the app, the hub or the metrics.
// Without --public-host every Host is served (a development setup).
func hostCheck(publicHost, listenAddr string, next http.Handler) http.Handler {
	if publicHost == "" {
		return next
	}
	allowed := map[string]bool{strings.ToLower(hostOnly(publicHost)): true}
	if h := hostOnly(listenAddr); h != "" && !net.ParseIP(h).IsUnspecified() {
		allowed[strings.ToLower(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(hostOnly(r.Host))] {
			http.Error(w, "unknown host", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostOnly strips a port and IPv6 brackets.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// bearer requires "Authorization: Bearer <token>" when token is set,
// compared in constant time.
func bearer(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="noom metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
