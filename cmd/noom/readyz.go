package main

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
)

// dependency is something a node works without, degraded: /readyz says
// whether it is up. *redisadapter.Cluster ("redis") and
// *callredis.Registry ("call_registry") are two.
type dependency interface{ Up() bool }

// readiness serves /readyz:
//
//   - 503 {"status":"not ready"} until every listener is up and from the
//     start of shutdown, so that a load balancer sends no new clients;
//   - 200 {"status":"ready","checks":{"redis":"up"}} when all is well;
//   - 200 {"status":"degraded","checks":{"redis":"down"}} when a
//     dependency is down. Still 200: the node serves its own clients
//     (rooms whose people are all on it keep working), and taking every
//     node out of the pool because Redis is down would end every call.
type readiness struct {
	ready atomic.Bool
	deps  map[string]dependency // name in "checks" → dependency
}

// readyzBody is /readyz's JSON.
type readyzBody struct {
	Status string            `json:"status"` // "not ready", "ready" or "degraded"
	Checks map[string]string `json:"checks,omitempty"`
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !rd.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(readyzBody{Status: "not ready"})
		return
	}
	body := readyzBody{Status: "ready", Checks: map[string]string{}}
	for name, d := range rd.deps {
		body.Checks[name] = "up"
		if !d.Up() {
			body.Checks[name] = "down"
			body.Status = "degraded"
		}
	}
	json.NewEncoder(w).Encode(body)
}
