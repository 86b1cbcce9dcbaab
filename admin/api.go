package admin

import (
	"net/http"

	"github.com/noomrtc/noom/admin/source"
)

func (c *Console) apiStats(w http.ResponseWriter, r *http.Request, u who) {
	writeJSON(w, http.StatusOK, c.overview())
}

func (c *Console) apiRooms(w http.ResponseWriter, r *http.Request, u who) {
	l, err := parseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, ok := c.listRooms(l)
	if !ok {
		writeError(w, http.StatusNotFound, "no such namespace")
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (c *Console) apiSockets(w http.ResponseWriter, r *http.Request, u who) {
	l, err := parseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, ok := c.listSockets(l)
	if !ok {
		writeError(w, http.StatusNotFound, "no such namespace")
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// roomJSON is GET rooms/{nsp}/{room}.
type roomJSON struct {
	Namespace string          `json:"nsp"`
	Name      string          `json:"name"`
	Members   []source.Socket `json:"members"`
}

func (c *Console) apiRoom(w http.ResponseWriter, r *http.Request, u who) {
	rp, ok := c.roomDetail(pathNamespace(r.PathValue("nsp")), r.PathValue("room"))
	if !ok {
		writeError(w, http.StatusNotFound, "no such room")
		return
	}
	writeJSON(w, http.StatusOK, roomJSON{Namespace: rp.Namespace, Name: rp.Name, Members: rp.Members})
}

func (c *Console) apiSocket(w http.ResponseWriter, r *http.Request, u who) {
	d, ok := c.cfg.Hub.Socket(pathNamespace(r.PathValue("nsp")), r.PathValue("sid"))
	if !ok {
		writeError(w, http.StatusNotFound, "no such socket")
		return
	}
	writeJSON(w, http.StatusOK, redact(d))
}

func (c *Console) apiTURN(w http.ResponseWriter, r *http.Request, u who) {
	t := c.turnData()
	if t.Allocations == nil {
		t.Allocations = []source.Allocation{}
	}
	writeJSON(w, http.StatusOK, list[source.Allocation]{Items: t.Allocations, Total: len(t.Allocations)})
}

func (c *Console) apiCalls(w http.ResponseWriter, r *http.Request, u who) {
	var reps []source.CallReport
	for _, room := range c.callsData().Rooms {
		reps = append(reps, room.Reports...)
	}
	if reps == nil {
		reps = []source.CallReport{}
	}
	writeJSON(w, http.StatusOK, list[source.CallReport]{Items: reps, Total: len(reps)})
}
