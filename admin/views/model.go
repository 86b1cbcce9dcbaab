// Package views renders the admin console's pages with templ. Every string
// a user or client chose (nicknames, room and event names, headers,
// payloads) is written through templ's escaping; nothing here builds HTML
// by hand. The components take plain values and do no I/O.
package views

import (
	"time"

	"github.com/noomrtc/noom/admin/source"
)

// Page is what every page's frame needs.
type Page struct {
	Title    string
	Nav      string // the active section: overview, rooms, sockets, flow, turn, calls
	CSRF     string // the session's token, for forms and the script
	ReadOnly bool
	Version  string
	Theme    string // the palette shared with the call app
	CSS, JS  string // asset URLs
	Icon     string
	Now      time.Time
	Flash    string // a one-line notice, e.g. after an action
}

// Overview is the overview page and the JSON of GET stats.
type Overview struct {
	Time          time.Time          `json:"time"`
	Version       string             `json:"version"`
	UptimeSeconds float64            `json:"uptimeSeconds"`
	Sockets       int                `json:"sockets"`
	Polling       int                `json:"polling"`
	WebSocket     int                `json:"websocket"`
	Namespaces    []source.Namespace `json:"namespaces"`
	PublicRooms   int                `json:"publicRooms"`
	EventsInRate  float64            `json:"eventsInPerSecond"`
	EventsOutRate float64            `json:"eventsOutPerSecond"`
	BytesInRate   float64            `json:"bytesInPerSecond"`
	BytesOutRate  float64            `json:"bytesOutPerSecond"`
	SlowConsumers uint64             `json:"slowConsumerDisconnects"`
	Viewers       int                `json:"streamViewers"`

	TURN           bool    `json:"turn"`
	Allocations    int     `json:"turnAllocations"`
	RelayBytesRate float64 `json:"turnRelayBytesPerSecond"`
	Calls          bool    `json:"calls"`
	Pairs          int     `json:"callPairs"`
	ConnectedShare float64 `json:"callConnectedShare"` // 0..1 of reported pairs
	RelayShare     float64 `json:"callRelayShare"`     // 0..1 of connected pairs
	RTTp50, RTTp95 float64 `json:"-"`
	RTTp50Ms       float64 `json:"callRttP50Ms"`
	RTTp95Ms       float64 `json:"callRttP95Ms"`
	Charts         []Chart `json:"charts"`
}

// Chart is one small line chart of the last minutes, one point a second.
type Chart struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Unit   string   `json:"unit"` // "", "/s", "B/s"
	Series []Series `json:"series"`
}

// Series is one line of a chart.
type Series struct {
	Name   string    `json:"name"`
	Points []float64 `json:"points"`
}

// ListInfo is a list page's paging state.
type ListInfo struct {
	Namespaces []string
	Namespace  string
	Query      string
	Room       string
	Sort       string
	Private    bool
	Total      int
	Next       string // cursor of the next page, "" at the end
	Cursor     string // of this page, "" on the first
}

// RoomRow is a room of the rooms list.
type RoomRow = source.Room

// RoomPage is one room's detail.
type RoomPage struct {
	Namespace string
	Name      string
	Members   []source.Socket
	Events    []source.Event
}

// SocketPage is one socket's detail.
type SocketPage struct {
	Socket source.SocketDetail
	Events []source.Event
}

// FlowPage is the message flow.
type FlowPage struct {
	Namespaces   []string
	Filter       FlowFilter
	Events       []source.Event // oldest first
	ShowPayloads bool
}

// FlowFilter is the flow's filter, as given in the query.
type FlowFilter struct {
	Namespace, Room, SID, Event, Kind string
}

// TURNPage lists TURN allocations.
type TURNPage struct {
	Enabled     bool
	CanEnd      bool // allocations can be ended (and the console is not read-only)
	Allocations []source.Allocation
	Users       []UserQuota
}

// UserQuota is one TURN user's allocations.
type UserQuota struct {
	User  string
	Count int
}

// CallsPage lists call rooms and their pairs' latest reports.
type CallsPage struct {
	Enabled bool
	Rooms   []CallRoom
}

// CallRoom is one call room's reports.
type CallRoom struct {
	Name    string
	Reports []source.CallReport
}

// ClusterPage is the cluster-wide view: nodes, and the rooms of a
// namespace on every node (or one room's members).
type ClusterPage struct {
	Enabled    bool
	Error      string
	Namespaces []string
	Namespace  string
	Query      string
	Room       string
	Nodes      source.ClusterNodes
	Sockets    int // sockets read from every node
	Rooms      []source.Room
	TotalRooms int
	Members    []source.ClusterSocket
}
