package sioadmin

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/noomrtc/noom/admin"

	"github.com/noomrtc/noom/signaling"
)

// serializedSocket is the Admin UI's SerializedSocket.
type serializedSocket struct {
	ID        string          `json:"id"`
	ClientID  string          `json:"clientId"`
	Transport string          `json:"transport"`
	Nsp       string          `json:"nsp"`
	Data      json.RawMessage `json:"data"`
	Handshake handshake       `json:"handshake"`
	Rooms     []string        `json:"rooms"`
}

type handshake struct {
	Address string            `json:"address"`
	Headers map[string]string `json:"headers"`
	Query   map[string]string `json:"query"`
	Issued  int64             `json:"issued"` // epoch ms
	Secure  bool              `json:"secure"`
	Time    string            `json:"time"` // as JavaScript's Date.toString
	URL     string            `json:"url"`
	XDomain bool              `json:"xdomain"`
}

// The console's redaction rules, so both views hide the same things.
const redacted = admin.Redacted

var secretName = admin.IsSecretName

// isoTime is a JavaScript Date's JSON form.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// clientID is the 12-character id of an Engine.IO session: stable for the
// session, and unlike the original's prefix of the session id, it tells
// nothing of the id (which is a polling client's credential).
func (a *Admin) clientID(session string) string {
	h := hmac.New(sha256.New, a.clientKey[:])
	h.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))[:12]
}

// serialize describes a socket of this node, its secrets redacted.
func (a *Admin) serialize(s *signaling.Socket, v signaling.SocketView) serializedSocket {
	hs := s.Handshake()
	headers := make(map[string]string, len(hs.Headers))
	for k, vs := range hs.Headers {
		lk := strings.ToLower(k)
		if admin.IsSecretHeader(lk) {
			headers[lk] = redacted
			continue
		}
		headers[lk] = strings.Join(vs, ", ")
	}
	if hs.Host != "" {
		headers["host"] = hs.Host
	}
	query := make(map[string]string, len(hs.Query))
	clean := url.Values{}
	for k, vs := range hs.Query {
		val := ""
		if len(vs) > 0 {
			val = vs[0]
		}
		if secretName(k) {
			val = redacted
		}
		query[k] = val
		clean.Set(k, val)
	}
	data := json.RawMessage("{}")
	if d := s.Data(); d != nil {
		if b, err := json.Marshal(d); err == nil {
			data = b
		} else {
			data, _ = json.Marshal(map[string]string{"error": "not serializable: " + err.Error()})
		}
	}
	rooms := s.Rooms()
	if rooms == nil {
		rooms = []string{s.ID()}
	}
	return serializedSocket{ID: s.ID(), ClientID: a.clientID(v.Session), Transport: v.Transport, Nsp: v.Namespace,
		Data: data, Rooms: rooms, Handshake: handshake{
			Address: a.cfg.ClientIP(hs), Headers: headers, Query: query,
			Issued: hs.Time.UnixMilli(), Secure: hs.Secure, Time: jsDate(hs.Time),
			URL:     a.srv.Config().Path + "?" + clean.Encode(),
			XDomain: hs.Headers.Get("Origin") != "",
		}}
}

// jsDate formats t as JavaScript's Date.prototype.toString does.
func jsDate(t time.Time) string {
	name, _ := t.Zone()
	return t.Format("Mon Jan 02 2006 15:04:05 GMT-0700") + " (" + name + ")"
}

// serializeNew describes a socket that has just connected, with its own
// room only (room_joined events follow), or from the hook's values alone
// if it has already gone.
func (a *Admin) serializeNew(it *item) serializedSocket {
	if n := a.srv.Lookup(it.nsp); n != nil {
		if s := n.Socket(it.sid); s != nil {
			out := a.serialize(s, s.View())
			out.Rooms = []string{it.sid}
			return out
		}
	}
	return serializedSocket{ID: it.sid, ClientID: a.clientID(it.session), Transport: it.transport, Nsp: it.nsp,
		Data: json.RawMessage("{}"), Rooms: []string{it.sid}, Handshake: handshake{
			Address: hostOnly(it.addr), Headers: map[string]string{}, Query: map[string]string{},
			Issued: it.t.UnixMilli(), Time: jsDate(it.t)}}
}

// allSockets is the all_sockets snapshot: every socket of this node in
// every namespace, the admin's included, or the MaxSockets newest.
func (a *Admin) allSockets() []serializedSocket {
	type found struct {
		nsp  *signaling.Namespace
		view signaling.SocketView
	}
	var all []found
	total := 0
	for _, n := range a.srv.Namespaces() {
		if n.Name() == "" {
			continue
		}
		q := signaling.SocketQuery{Limit: signaling.MaxPageSize}
		for {
			page := n.ListSockets(q)
			total += len(page.Items)
			for _, v := range page.Items {
				all = append(all, found{n, v})
			}
			// Keep memory near the cap: trim to the newest as we go.
			if len(all) > 2*a.cfg.MaxSockets+signaling.MaxPageSize {
				all = newest(all, a.cfg.MaxSockets, func(f found) time.Time { return f.view.Connected })
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
	}
	all = newest(all, a.cfg.MaxSockets, func(f found) time.Time { return f.view.Connected })
	if total > len(all) {
		a.cfg.Logger.Warn("sioadmin: all_sockets capped: the Admin UI lists only the newest sockets",
			"sockets", total, "listed", len(all), "max_sockets", a.cfg.MaxSockets)
	}
	out := make([]serializedSocket, 0, len(all))
	for _, f := range all {
		if s := f.nsp.Socket(f.view.ID); s != nil {
			out = append(out, a.serialize(s, f.view))
		}
	}
	return out
}

// newest sorts xs newest first and keeps at most max.
func newest[T any](xs []T, max int, at func(T) time.Time) []T {
	slices.SortStableFunc(xs, func(x, y T) int { return at(y).Compare(at(x)) })
	if len(xs) > max {
		clear(xs[max:])
		xs = xs[:max]
	}
	return xs
}

// eventArgs is an event's args for event_received and event_sent: its
// name first, then its arguments, or a note of its size when too large.
func (a *Admin) eventArgs(it *item) []any {
	if it.bytes > a.cfg.MaxArgsBytes {
		return []any{it.event, "[" + strconv.Itoa(it.bytes) + " bytes, not shown]"}
	}
	return append([]any{it.event}, it.args...)
}

// broadcastLabel stands for the recipients of a large broadcast in the
// socket id's place: its rooms, or the whole namespace.
func broadcastLabel(e signaling.MessageEvent) string {
	rooms := cmp.Or(strings.Join(e.Rooms, ","), "*")
	return rooms + " (" + strconv.Itoa(e.Recipients) + " sockets)"
}
