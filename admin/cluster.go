package admin

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/noomrtc/noom/admin/source"
	"github.com/noomrtc/noom/admin/views"
)

// clusterTimeout bounds how long the cluster page waits for the other
// nodes' answers.
const clusterTimeout = 5 * time.Second

// clusterRoomsShown caps the rooms listed on the cluster page; the total
// is still counted.
const clusterRoomsShown = 500

// clusterData reads the cluster: its nodes, and the public rooms of nsp on
// every node with their sizes, largest first, names containing q (or the
// members of room, when given). Sizes are counted from the sockets every
// node reports: one request to each node, whatever the number of rooms.
func (c *Console) clusterData(ctx context.Context, nsp, q, room string) (views.ClusterPage, error) {
	p := views.ClusterPage{Namespace: nsp, Query: q, Room: room}
	if c.cfg.Cluster == nil {
		return p, nil
	}
	p.Enabled = true
	p.Nodes = c.cfg.Cluster.ClusterNodes()
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	socks, err := c.cfg.Cluster.ClusterSockets(ctx, nsp, room)
	if err != nil {
		return p, err
	}
	p.Sockets = len(socks)
	if room != "" {
		slices.SortFunc(socks, func(a, b source.ClusterSocket) int { return strings.Compare(a.SID, b.SID) })
		p.Members = socks
		return p, nil
	}
	sizes := map[string]int{}
	for _, s := range socks {
		for _, r := range s.Rooms {
			sizes[r]++
		}
	}
	lq := strings.ToLower(q)
	for name, n := range sizes {
		if lq == "" || strings.Contains(strings.ToLower(name), lq) {
			p.Rooms = append(p.Rooms, source.Room{Name: name, Size: n})
		}
	}
	slices.SortFunc(p.Rooms, func(a, b source.Room) int { return cmp.Or(b.Size-a.Size, strings.Compare(a.Name, b.Name)) })
	p.TotalRooms = len(p.Rooms)
	if len(p.Rooms) > clusterRoomsShown {
		p.Rooms = p.Rooms[:clusterRoomsShown]
	}
	if p.Rooms == nil {
		p.Rooms = []source.Room{}
	}
	return p, nil
}

func (c *Console) clusterPage(w http.ResponseWriter, r *http.Request, u who) {
	l, err := parseListQuery(r.URL.Query())
	if err != nil {
		c.errorPage(w, r, u, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	p, err := c.clusterData(r.Context(), l.nsp, l.q, l.room)
	if err != nil {
		p.Error = err.Error()
	}
	p.Namespaces = c.namespaces()
	c.render(w, r, http.StatusOK, views.ClusterPageView(c.page(u, "cluster", "Cluster"), p))
}

// apiCluster is GET cluster?nsp=&q=&room=.
func (c *Console) apiCluster(w http.ResponseWriter, r *http.Request, u who) {
	l, err := parseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if c.cfg.Cluster == nil {
		writeError(w, http.StatusNotFound, "this node is not in a cluster")
		return
	}
	p, err := c.clusterData(r.Context(), l.nsp, l.q, l.room)
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	out := map[string]any{"up": p.Nodes.Up, "self": p.Nodes.Self, "nodes": p.Nodes.Nodes, "sockets": p.Sockets}
	if l.room != "" {
		out["members"] = p.Members
	} else {
		out["rooms"], out["total"] = p.Rooms, p.TotalRooms
	}
	writeJSON(w, http.StatusOK, out)
}
