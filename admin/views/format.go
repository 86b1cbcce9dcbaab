package views

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/noomrtc/noom/admin/source"
)

// NsSegment is a namespace as a path segment: "_" for "/", otherwise the
// name without its leading slash, path-escaped.
func NsSegment(nsp string) string {
	if nsp == "/" || nsp == "" {
		return "_"
	}
	return url.PathEscape(strings.TrimPrefix(nsp, "/"))
}

// SocketURL is a socket's detail page.
func SocketURL(nsp, sid string) templ.SafeURL {
	return templ.SafeURL("/admin/sockets/" + NsSegment(nsp) + "/" + url.PathEscape(sid))
}

// RoomURL is a room's detail page.
func RoomURL(nsp, room string) templ.SafeURL {
	return templ.SafeURL("/admin/rooms/" + NsSegment(nsp) + "/" + url.PathEscape(room))
}

// ActionURL is the API endpoint of an action on a socket or room.
func ActionURL(kind, nsp, id, action string) string {
	return "/admin/api/v1/" + kind + "/" + NsSegment(nsp) + "/" + url.PathEscape(id) + "/" + action
}

// TURNEndURL is the action that ends a TURN allocation.
func TURNEndURL(id string) string {
	return "/admin/api/v1/turn/allocations/" + url.PathEscape(id) + "/end"
}

// ListURL is a list page with its query.
func ListURL(path string, l ListInfo, cursor string) templ.SafeURL {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("nsp", l.Namespace)
	set("q", l.Query)
	set("room", l.Room)
	set("sort", l.Sort)
	if l.Private {
		q.Set("private", "1")
	}
	set("cursor", cursor)
	if len(q) == 0 {
		return templ.SafeURL(path)
	}
	return templ.SafeURL(path + "?" + q.Encode())
}

// FlowURL is the message flow filtered.
func FlowURL(f FlowFilter) templ.SafeURL {
	q := url.Values{}
	for k, v := range map[string]string{"nsp": f.Namespace, "room": f.Room, "sid": f.SID, "event": f.Event, "kind": f.Kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return "/admin/flow"
	}
	return templ.SafeURL("/admin/flow?" + q.Encode())
}

// Ago says how long ago t was, as "12 s ago".
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return Duration(now.Sub(t)) + " ago"
}

// Duration is d in one or two units: "12 s", "3 min 4 s", "2 h 5 min", "3 d 2 h".
func Duration(d time.Duration) string {
	s := int64(d.Seconds())
	switch {
	case s < 0:
		return "0 s"
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%d d %d h", s/86400, s%86400/3600)
	}
}

// ISO is t for a datetime attribute.
func ISO(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Clock is t as a wall-clock time with milliseconds.
func Clock(t time.Time) string { return t.Format("15:04:05.000") }

// Int formats n with thousands separators.
func Int[T ~int | ~int64 | ~uint64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Rate is a per-second rate, one decimal under 100.
func Rate(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return Int(int64(math.Round(v)))
}

// Bytes is a byte count in B, kB, MB or GB (powers of 1000).
func Bytes[T ~int | ~int64 | ~uint64 | ~float64](n T) string {
	v := float64(n)
	for _, u := range []string{"B", "kB", "MB", "GB"} {
		if v < 1000 || u == "GB" {
			if u == "B" {
				return strconv.FormatFloat(v, 'f', 0, 64) + " B"
			}
			return strconv.FormatFloat(v, 'f', 1, 64) + " " + u
		}
		v /= 1000
	}
	return ""
}

// Percent is a 0..1 share as "87 %".
func Percent(v float64) string { return strconv.FormatFloat(v*100, 'f', 0, 64) + " %" }

// Ms is a duration in milliseconds.
func Ms(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " ms" }

// Polyline is the points attribute of a chart line in a w×h box, scaled
// to top (the largest value of the chart, at least 1).
func Polyline(points []float64, w, h, top float64) string {
	if len(points) == 0 {
		return ""
	}
	var b strings.Builder
	step := w / float64(max(len(points)-1, 1))
	for i, p := range points {
		if i > 0 {
			b.WriteByte(' ')
		}
		y := h - p/top*h
		b.WriteString(strconv.FormatFloat(float64(i)*step, 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
	}
	return b.String()
}

// Top is the largest point of a chart, at least 1.
func Top(c Chart) float64 {
	top := 1.0
	for _, s := range c.Series {
		for _, p := range s.Points {
			top = max(top, p)
		}
	}
	return top
}

// Last is a series' newest point.
func Last(s Series) float64 {
	if len(s.Points) == 0 {
		return 0
	}
	return s.Points[len(s.Points)-1]
}

// ChartValue formats a chart value with its unit.
func ChartValue(c Chart, v float64) string {
	switch c.Unit {
	case "B/s":
		return Bytes(v) + "/s"
	case "/s":
		return Rate(v) + "/s"
	default:
		return Int(int64(math.Round(v)))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Dash is s, or an em dash when empty.
func Dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func secondsDur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func seriesPoints(c Chart) []float64 {
	if len(c.Series) == 0 {
		return nil
	}
	return c.Series[0].Points
}

type sourceSocket = source.Socket

func urlQuery(s string) string { return url.QueryEscape(s) }

type sourceEvent = source.Event

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

// streamURL is the SSE endpoint with f's filter.
func streamURL(f FlowFilter) string {
	u := string(FlowURL(f))
	return "/admin/api/v1/events" + strings.TrimPrefix(u, "/admin/flow")
}

// eventWhat is an event's one-line summary: the event name, the room
// joined or left, or the disconnect reason.
func eventWhat(e source.Event) string {
	switch e.Kind {
	case source.KindJoin, source.KindLeave:
		return strings.Join(e.Rooms, ", ")
	case source.KindConnect:
		return e.Transport + " " + e.Address
	case source.KindDisconnect:
		return e.Reason
	}
	name := e.Event
	if name == "" && e.Kind == source.KindOut {
		name = "(ack)"
	}
	if len(e.Rooms) > 0 {
		return name + " → " + strings.Join(e.Rooms, ", ")
	}
	return name
}

func sumAlloc(as []source.Allocation, toPeer bool) uint64 {
	var n uint64
	for _, a := range as {
		if toPeer {
			n += a.BytesToPeer
		} else {
			n += a.BytesToClient
		}
	}
	return n
}

// ClusterRoomURL is the cluster page of one room's members on every node.
func ClusterRoomURL(nsp, room string) templ.SafeURL {
	return templ.SafeURL("/admin/cluster?" + url.Values{"nsp": {nsp}, "room": {room}}.Encode())
}
