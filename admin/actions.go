package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/noomrtc/noom/admin/source"
	"github.com/noomrtc/noom/admin/views"
)

// maxRoomName bounds a room name given to join or leave.
const maxRoomName = 256

// socketAction serves POST sockets/{nsp}/{sid}/{disconnect,join,leave}.
// join and leave take ?room= (or a form field room); disconnect takes
// ?client=1 to close the whole connection.
func (c *Console) socketAction(w http.ResponseWriter, r *http.Request, u who) {
	nsp, sid, action := pathNamespace(r.PathValue("nsp")), r.PathValue("sid"), r.PathValue("action")
	room := r.FormValue("room")
	var question string
	var do func() error
	switch action {
	case "disconnect":
		client := r.FormValue("client") == "1" || r.FormValue("client") == "true"
		question = "Disconnect socket " + sid + "?"
		if client {
			question = "Close the whole connection of socket " + sid + "?"
		}
		do = func() error { return c.cfg.Actions.DisconnectSocket(nsp, sid, client) }
	case "join", "leave":
		if room == "" || len(room) > maxRoomName {
			c.actionError(w, r, u, http.StatusBadRequest, "room: 1 to 256 bytes")
			return
		}
		question = "Make socket " + sid + " " + action + " room " + room + "?"
		do = func() error { return c.cfg.Actions.JoinRoom(nsp, sid, room) }
		if action == "leave" {
			do = func() error { return c.cfg.Actions.LeaveRoom(nsp, sid, room) }
		}
	default:
		c.actionError(w, r, u, http.StatusNotFound, "no such action")
		return
	}
	c.act(w, r, u, question, do, "action", action, "nsp", nsp, "sid", sid, "room", room)
}

// roomAction serves POST rooms/{nsp}/{room}/{clear,disconnect}.
func (c *Console) roomAction(w http.ResponseWriter, r *http.Request, u who) {
	nsp, room, action := pathNamespace(r.PathValue("nsp")), r.PathValue("room"), r.PathValue("action")
	var do func() error
	var question string
	switch action {
	case "clear":
		question = "Make everyone leave room " + room + "?"
		do = func() error { return c.cfg.Actions.ClearRoom(nsp, room) }
	case "disconnect":
		question = "Disconnect every socket in room " + room + "?"
		do = func() error { return c.cfg.Actions.DisconnectRoom(nsp, room) }
	default:
		c.actionError(w, r, u, http.StatusNotFound, "no such action")
		return
	}
	c.act(w, r, u, question, do, "action", "room-"+action, "nsp", nsp, "room", room)
}

// endAllocation serves POST turn/allocations/{id}/end.
func (c *Console) endAllocation(w http.ResponseWriter, r *http.Request, u who) {
	id := r.PathValue("id")
	a := c.turnActions()
	if a == nil && !c.readOnly() {
		c.actionError(w, r, u, http.StatusNotFound, "TURN allocations cannot be ended here")
		return
	}
	c.act(w, r, u, "End TURN allocation "+id+"? The client is not told; its next refresh fails.",
		func() error { return a.EndAllocation(id) }, "action", "turn-end", "allocation", id)
}

// act runs an action after the read-only check. A form post (it carries
// "return") is asked to confirm first unless confirmed=1, and is answered
// with a redirect; an API call gets JSON.
func (c *Console) act(w http.ResponseWriter, r *http.Request, u who, question string, do func() error, logArgs ...any) {
	if c.readOnly() {
		c.log(r, u, "admin action refused", append(logArgs, "why", "read-only")...)
		c.actionError(w, r, u, http.StatusForbidden, "the console is read-only")
		return
	}
	form := r.PostFormValue("return") != ""
	back := localReturn(r.PostFormValue("return"), "/admin/")
	if form && r.PostFormValue("confirmed") != "1" {
		c.render(w, r, http.StatusOK, views.ConfirmPage(c.page(u, "", "Confirm"), question, r.URL.RequestURI(), back))
		return
	}
	err := do()
	var nf *source.NotFound
	switch {
	case errors.As(err, &nf):
		c.log(r, u, "admin action failed", append(logArgs, "err", err)...)
		c.actionError(w, r, u, http.StatusNotFound, err.Error())
		return
	case err != nil:
		c.cfg.Logger.Error("admin action failed", append(logArgs, "err", err)...)
		c.actionError(w, r, u, http.StatusInternalServerError, err.Error())
		return
	}
	c.log(r, u, "admin action", logArgs...)
	if form {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (c *Console) actionError(w http.ResponseWriter, r *http.Request, u who, status int, msg string) {
	if r.PostFormValue("return") != "" && strings.Contains(r.Header.Get("Accept"), "text/html") {
		c.errorPage(w, r, u, status, "Not done", msg)
		return
	}
	writeError(w, status, msg)
}
