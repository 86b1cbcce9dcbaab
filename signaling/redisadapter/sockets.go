package redisadapter

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/socketio"
)

// This file maps signaling.SocketInfo to and from the JSON a REMOTE_FETCH
// answer carries: {id, handshake, rooms, data}, with the handshake as
// Socket.IO's (headers, time, address, xdomain, secure, issued, url,
// query, auth).

func encodeSockets(socks []signaling.SocketInfo) []any {
	out := make([]any, 0, len(socks))
	for _, s := range socks {
		h := s.Handshake
		headers := map[string]any{}
		for k, v := range h.Headers {
			k = strings.ToLower(k)
			if len(v) == 1 {
				headers[k] = v[0]
			} else {
				headers[k] = v
			}
		}
		if _, ok := headers["host"]; !ok && h.Host != "" {
			headers["host"] = h.Host // Node's handshake always has it; Noom keeps it apart
		}
		addr := h.RemoteAddr
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host // Node's handshake.address is the IP alone
		}
		query := map[string]any{}
		for k, v := range h.Query {
			if len(v) == 1 {
				query[k] = v[0]
			} else {
				query[k] = v
			}
		}
		auth := h.Auth
		if len(auth) == 0 || !socketio.Valid(auth) {
			auth = json.RawMessage("{}")
		}
		// Node's socket.data starts as {} and Node apps read its fields
		// without a check: a socket that never had SetData shows {}.
		data := []byte("{}")
		if s.Data != nil {
			if b, err := json.Marshal(s.Data); err == nil {
				data = b
			}
		}
		out = append(out, map[string]any{
			"id": s.ID,
			"handshake": map[string]any{
				"headers": headers, "time": h.Time.UTC().Format(time.RFC1123), "address": addr,
				"xdomain": h.Headers.Get("Origin") != "", "secure": h.Secure, "issued": h.Time.UnixMilli(),
				"url": "/socket.io/?" + h.Query.Encode(), "query": query, "auth": auth,
			},
			"rooms": nonNil(s.Rooms),
			"data":  json.RawMessage(data),
		})
	}
	return out
}

func decodeSockets(v any, nsp string) []signaling.SocketInfo {
	list, _ := v.([]any)
	out := make([]signaling.SocketInfo, 0, len(list))
	for _, e := range list {
		s, ok := e.(map[string]any)
		if !ok {
			continue
		}
		info := signaling.SocketInfo{ID: message(s).str("id"), Namespace: nsp, Rooms: strs(s["rooms"])}
		info.Handshake.Auth = json.RawMessage("{}") // as a local socket's without a CONNECT payload
		if b, err := json.Marshal(s["data"]); err == nil {
			info.Data = json.RawMessage(b)
		}
		if h, ok := s["handshake"].(map[string]any); ok {
			hm := message(h)
			info.Handshake.RemoteAddr = hm.str("address")
			info.Handshake.Secure, _ = h["secure"].(bool)
			if ms, ok := hm.int("issued"); ok {
				info.Handshake.Time = time.UnixMilli(ms)
			}
			info.Handshake.Headers = http.Header{}
			for k, v := range asMap(h["headers"]) {
				info.Handshake.Headers[http.CanonicalHeaderKey(k)] = values(v)
			}
			info.Handshake.Host = info.Handshake.Headers.Get("Host")
			info.Handshake.Query = url.Values{}
			for k, v := range asMap(h["query"]) {
				info.Handshake.Query[k] = values(v)
			}
			if auth, ok := h["auth"].(map[string]any); ok {
				if b, err := json.Marshal(auth); err == nil {
					info.Handshake.Auth = b
				}
			}
		}
		out = append(out, info)
	}
	return out
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func values(v any) []string {
	if l, ok := v.([]any); ok {
		return strs(l)
	}
	return []string{message{"v": v}.str("v")}
}
