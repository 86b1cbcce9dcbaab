package main

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/noomrtc/noom/internal/redistest"
)

// TestAdminCluster: two nodes on one real redis-server. The console of
// the first lists both nodes, the rooms of sockets on either node with
// their cluster-wide sizes, and the members of a room on every node; a
// single node's console says it runs alone.
func TestAdminCluster(t *testing.T) {
	r := redistest.Start(t)
	redisURL := "redis://" + r.Addr() + "/0"
	n1, _ := startAdminNoom(t, "--redis-url", redisURL, "--turn=false", "--redis-heartbeat", "200ms")
	n2 := startNoom(t, "--redis-url", redisURL, "--turn=false", "--redis-heartbeat", "200ms")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a1 := dialN(t, "http://"+n1.HTTP, 1)[0]
	b := dialN(t, "http://"+n2.HTTP, 2)
	joinRoom(ctx, t, a1, "standup", "Ann")
	joinRoom(ctx, t, b[0], "standup", "Bob")
	joinRoom(ctx, t, b[1], "retro", "Cy")

	a := newAdminClient(t, "http://"+n1.Admin, "")
	var info struct {
		Up      bool
		Self    string
		Nodes   []string
		Sockets int
		Rooms   []struct {
			Name string
			Size int
		}
		Total int
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code := a.json("/admin/api/v1/cluster", basic, &info); code != 200 {
			t.Fatalf("cluster: %d", code)
		}
		if len(info.Nodes) == 2 && info.Sockets == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console never saw both nodes and 3 sockets: %+v", info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !info.Up || !slices.Contains(info.Nodes, info.Self) || info.Total != 2 ||
		info.Rooms[0].Name != "standup" || info.Rooms[0].Size != 2 || info.Rooms[1].Name != "retro" || info.Rooms[1].Size != 1 {
		t.Errorf("cluster view: %+v", info)
	}
	var room struct {
		Members []struct{ SID, Address string }
	}
	a.json("/admin/api/v1/cluster?room=standup", basic, &room)
	var sids []string
	for _, m := range room.Members {
		sids = append(sids, m.SID)
	}
	slices.Sort(sids)
	want := []string{a1.ID, b[0].ID}
	slices.Sort(want)
	if !slices.Equal(sids, want) {
		t.Errorf("members of standup on every node: %v, want %v", sids, want)
	}

	_, page := a.do("GET", "/admin/cluster?"+url.Values{"q": {"stand"}}.Encode(), nil, basic)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
	if n := doc.Find(`[data-testid="cluster-node"]`).Length(); n != 2 {
		t.Errorf("cluster page lists %d nodes", n)
	}
	if rows := doc.Find(`[data-testid="cluster-room"]`); rows.Length() != 1 || !strings.Contains(rows.Text(), "standup") {
		t.Errorf("cluster page rooms matching 'stand': %q", rows.Text())
	}

	// One node alone.
	solo, _ := startAdminNoom(t, "--turn=false")
	s := newAdminClient(t, "http://"+solo.Admin, "")
	if code := s.json("/admin/api/v1/cluster", basic, &info); code != 404 {
		t.Errorf("cluster API of a node alone: %d", code)
	}
	_, page = s.do("GET", "/admin/cluster", nil, basic)
	if !strings.Contains(page, `data-testid="cluster-off"`) {
		t.Error("the cluster page of a node alone does not say so")
	}
}
