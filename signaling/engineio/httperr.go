package engineio

import (
	"net/http"
	"strconv"
)

// httpErr is an Engine.IO HTTP error: the code and message are those the
// reference server sends, so clients can tell them apart.
type httpErr struct {
	status int
	code   int
	msg    string
}

var (
	errUnknownTransport   = &httpErr{http.StatusBadRequest, 0, "Transport unknown"}
	errSessionUnknown     = &httpErr{http.StatusBadRequest, 1, "Session ID unknown"}
	errBadHandshakeMethod = &httpErr{http.StatusBadRequest, 2, "Bad handshake method"}
	errBadRequest         = &httpErr{http.StatusBadRequest, 3, "Bad request"}
	errForbiddenOrigin    = &httpErr{http.StatusForbidden, 4, "Forbidden"}
	errBadVersion         = &httpErr{http.StatusBadRequest, 5, "Unsupported protocol version"}
	errTooManyConns       = &httpErr{http.StatusTooManyRequests, 3, "Too many connections from this address"}
	errShuttingDown       = &httpErr{http.StatusServiceUnavailable, 3, "Server shutting down"}
	errPayloadHTTP        = &httpErr{http.StatusRequestEntityTooLarge, 3, "Payload too large"}
)

func httpError(w http.ResponseWriter, e *httpErr) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status)
	b := append([]byte(`{"code":`), strconv.Itoa(e.code)...)
	b = append(b, `,"message":"`...)
	b = append(b, e.msg...)
	w.Write(append(b, `"}`...))
}
