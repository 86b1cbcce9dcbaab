package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/internal/redistest"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
)

// TestCallRoomsShared checks that --redis-url also shares the call rooms:
// with --max-room-size 2, a room with one person on each of two nodes is
// full for a third on either node, and the second joiner sees the first.
func TestCallRoomsShared(t *testing.T) {
	r := redistest.Start(t)
	url := "redis://" + r.Addr() + "/0"
	n1 := startNoom(t, "--redis-url", url, "--max-room-size", "2", "--turn=false")
	n2 := startNoom(t, "--redis-url", url, "--max-room-size", "2", "--turn=false")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(addr string) *sioclient.Client {
		c, err := sioclient.Dial(ctx, "http://"+addr, sioclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	type ack struct {
		OK    bool
		Error struct{ Code string }
		Peers []struct{ ID, Name string }
	}
	joinAs := func(c *sioclient.Client, name string) ack {
		var a ack
		if err := c.Call(ctx, &a, "join", map[string]any{"room": "standup", "name": name}); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := dial(n1.HTTP), dial(n2.HTTP)
	if got := joinAs(a, "Ann"); !got.OK {
		t.Fatalf("first join: %+v", got)
	}
	if got := joinAs(b, "Bob"); !got.OK || len(got.Peers) != 1 || got.Peers[0].ID != a.ID {
		t.Fatalf("second join, on the other node: %+v", got)
	}
	if got := joinAs(dial(n1.HTTP), "Cy"); got.OK || got.Error.Code != "room_full" {
		t.Fatalf("third join: %+v, want room_full", got)
	}
	if _, body, _ := get(t, "http://"+n1.Metrics+"/metrics"); !strings.Contains(body, "\nnoom_call_registry_redis_up 1") {
		t.Fatal("noom_call_registry_redis_up is not 1")
	}
}
