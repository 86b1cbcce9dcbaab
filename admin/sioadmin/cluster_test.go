package sioadmin

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noomrtc/noom/internal/redistest"
	"github.com/noomrtc/noom/signaling/redisadapter"
	"github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
)

// TestClusterServerStats: two nodes sharing a real redis-server, each with
// the admin namespace; a UI connected to one gets the other's
// server_stats too, as with instrument() on a Socket.IO cluster, and its
// own node's.
func TestClusterServerStats(t *testing.T) {
	r := redistest.Start(t)
	url := map[string]string{}
	for _, id := range []string{"node-a", "node-b"} {
		n := redistest.NewNode(t, r.Addr(), redisadapter.Config{})
		a, err := New(Config{Insecure: true, ServerID: id, StatsInterval: time.Second,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, n.Server, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(n.Server)
		t.Cleanup(func() { a.Close(); hs.Close() }) // runs before the node's shutdown
		url[id] = hs.URL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ui, err := signalingtest.Dial(ctx, url["node-a"], signalingtest.Options{Namespace: "/admin"})
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	seen := map[string]int{}
	for seen["node-a"] < 2 || seen["node-b"] < 2 {
		e, err := ui.Next(ctx, "server_stats")
		if err != nil {
			t.Fatalf("server_stats seen %v: %v", seen, err)
		}
		var st struct {
			ServerID     string `json:"serverId"`
			ClientsCount *int   `json:"clientsCount"`
		}
		if err := e.Decode(0, &st); err != nil || st.ClientsCount == nil {
			t.Fatalf("server_stats %v: %v", e, err)
		}
		seen[st.ServerID]++
	}
	if len(seen) != 2 {
		t.Errorf("server ids: %v", seen)
	}
}
