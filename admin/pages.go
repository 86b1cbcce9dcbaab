package admin

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/noomrtc/noom/admin/source"
	"github.com/noomrtc/noom/admin/views"
)

// recentPerPage is how many recent events a detail page shows.
const recentPerPage = 100

func (c *Console) overviewPage(w http.ResponseWriter, r *http.Request, u who) {
	c.render(w, r, http.StatusOK, views.OverviewPage(c.page(u, "overview", "Overview"), c.overview()))
}

func (c *Console) namespaces() []string {
	var out []string
	for _, n := range c.cfg.Hub.Namespaces() {
		out = append(out, n.Name)
	}
	return out
}

func (c *Console) listInfo(l listQuery) views.ListInfo {
	return views.ListInfo{Namespaces: c.namespaces(), Namespace: l.nsp, Query: l.q, Room: l.room, Sort: l.sort,
		Private: l.private, Cursor: l.raw}
}

func (c *Console) roomsPage(w http.ResponseWriter, r *http.Request, u who) {
	l, err := parseListQuery(r.URL.Query())
	if err != nil {
		c.errorPage(w, r, u, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	res, _ := c.listRooms(l)
	info := c.listInfo(l)
	info.Total, info.Next = res.Total, res.Next
	c.render(w, r, http.StatusOK, views.RoomsPage(c.page(u, "rooms", "Rooms"), info, res.Items))
}

func (c *Console) socketsPage(w http.ResponseWriter, r *http.Request, u who) {
	l, err := parseListQuery(r.URL.Query())
	if err != nil {
		c.errorPage(w, r, u, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	res, _ := c.listSockets(l)
	info := c.listInfo(l)
	info.Total, info.Next = res.Total, res.Next
	c.render(w, r, http.StatusOK, views.SocketsPage(c.page(u, "sockets", "Sockets"), info, res.Items))
}

// roomDetail reads a room: its members as sockets.
func (c *Console) roomDetail(nsp, room string) (views.RoomPage, bool) {
	sids, ok := c.cfg.Hub.RoomMembers(nsp, room)
	if !ok {
		return views.RoomPage{}, false
	}
	rp := views.RoomPage{Namespace: nsp, Name: room, Members: []source.Socket{}}
	for _, sid := range sids {
		if d, ok := c.cfg.Hub.Socket(nsp, sid); ok {
			rp.Members = append(rp.Members, d.Socket)
		}
	}
	slices.SortFunc(rp.Members, func(a, b source.Socket) int { return cmp.Compare(a.SID, b.SID) })
	return rp, true
}

func (c *Console) roomPage(w http.ResponseWriter, r *http.Request, u who) {
	nsp, room := pathNamespace(r.PathValue("nsp")), r.PathValue("room")
	rp, ok := c.roomDetail(nsp, room)
	if !ok {
		c.errorPage(w, r, u, http.StatusNotFound, "No such room", "Room "+room+" of "+nsp+" does not exist (any more).")
		return
	}
	rp.Events = c.stream.recent(filter{Namespace: nsp, Room: room}, recentPerPage)
	c.render(w, r, http.StatusOK, views.RoomDetail(c.page(u, "rooms", "Room "+room), rp))
}

func (c *Console) socketPage(w http.ResponseWriter, r *http.Request, u who) {
	nsp, sid := pathNamespace(r.PathValue("nsp")), r.PathValue("sid")
	d, ok := c.cfg.Hub.Socket(nsp, sid)
	if !ok {
		c.errorPage(w, r, u, http.StatusNotFound, "No such socket", "Socket "+sid+" of "+nsp+" is not connected (any more).")
		return
	}
	sp := views.SocketPage{Socket: redact(d), Events: c.stream.recent(filter{Namespace: nsp, SID: sid}, recentPerPage)}
	c.render(w, r, http.StatusOK, views.SocketDetail(c.page(u, "sockets", "Socket "+sid), sp))
}

func flowFilter(r *http.Request) (filter, views.FlowFilter) {
	q := r.URL.Query()
	vf := views.FlowFilter{Namespace: q.Get("nsp"), Room: q.Get("room"), SID: q.Get("sid"), Event: q.Get("event"), Kind: q.Get("kind")}
	f := filter{Room: vf.Room, SID: vf.SID, Event: vf.Event, Kind: source.EventKind(vf.Kind)}
	if vf.Namespace != "" {
		f.Namespace = queryNamespace(vf.Namespace)
		vf.Namespace = f.Namespace
	}
	return f, vf
}

func (c *Console) flowPage(w http.ResponseWriter, r *http.Request, u who) {
	f, vf := flowFilter(r)
	fp := views.FlowPage{Namespaces: c.namespaces(), Filter: vf, Events: c.stream.recent(f, c.cfg.RingSize), ShowPayloads: c.cfg.ShowPayloads}
	c.render(w, r, http.StatusOK, views.FlowPageView(c.page(u, "flow", "Message flow"), fp))
}

func (c *Console) turnData() views.TURNPage {
	if c.cfg.TURN == nil {
		return views.TURNPage{}
	}
	t := views.TURNPage{Enabled: true, Allocations: c.cfg.TURN.Allocations(), CanEnd: c.turnActions() != nil}
	count := map[string]int{}
	for _, a := range t.Allocations {
		count[a.User]++
	}
	for user, n := range count {
		t.Users = append(t.Users, views.UserQuota{User: user, Count: n})
	}
	slices.SortFunc(t.Users, func(a, b views.UserQuota) int { return cmp.Or(b.Count-a.Count, cmp.Compare(a.User, b.User)) })
	return t
}

func (c *Console) turnPage(w http.ResponseWriter, r *http.Request, u who) {
	c.render(w, r, http.StatusOK, views.TURNPageView(c.page(u, "turn", "TURN"), c.turnData()))
}

// callsData groups reports by room; failed pairs first in each room.
func (c *Console) callsData() views.CallsPage {
	if c.cfg.Calls == nil {
		return views.CallsPage{}
	}
	byRoom := map[string][]source.CallReport{}
	for _, rep := range c.cfg.Calls.Reports() {
		byRoom[rep.Room] = append(byRoom[rep.Room], rep)
	}
	cp := views.CallsPage{Enabled: true}
	for name, reps := range byRoom {
		slices.SortFunc(reps, func(a, b source.CallReport) int {
			return cmp.Or(cmp.Compare(rank(a.State), rank(b.State)), cmp.Compare(a.SID, b.SID), cmp.Compare(a.Peer, b.Peer))
		})
		cp.Rooms = append(cp.Rooms, views.CallRoom{Name: name, Reports: reps})
	}
	slices.SortFunc(cp.Rooms, func(a, b views.CallRoom) int { return cmp.Compare(a.Name, b.Name) })
	return cp
}

func rank(state string) int {
	switch state {
	case "failed", "disconnected":
		return 0
	case "connected":
		return 2
	}
	return 1
}

func (c *Console) callsPage(w http.ResponseWriter, r *http.Request, u who) {
	c.render(w, r, http.StatusOK, views.CallsPageView(c.page(u, "calls", "Calls"), c.callsData()))
}
