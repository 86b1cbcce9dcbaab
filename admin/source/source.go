// Package source holds what the admin console reads and the small
// interfaces through which it reads it. The admin package never imports
// the hub, TURN or the call service; cmd/noom bridges them into these
// interfaces, and a cluster-wide implementation (a Redis adapter) can plug
// in later without touching the console.
//
// Every type here is a plain value: it shares nothing with the component it
// was read from. Implementations must be safe for concurrent use.
package source

import (
	"context"
	"time"
)

// MainNamespace is the Socket.IO main namespace.
const MainNamespace = "/"

// Hub is the signaling hub as the console sees it.
type Hub interface {
	// Stats returns counts read without walking the sockets.
	Stats() HubStats
	// Namespaces lists the namespaces that exist with their socket
	// counts (read without walking the sockets), "/" first.
	Namespaces() []Namespace
	// Rooms lists every room of a namespace, sockets' own rooms included
	// and marked Private, in no particular order. ok is false for an
	// unknown namespace.
	Rooms(nsp string) (rooms []Room, ok bool)
	// RoomMembers lists the socket ids in a room; ok is false when the
	// namespace or room does not exist.
	RoomMembers(nsp, room string) (sids []string, ok bool)
	// Sockets lists the sockets of a namespace, without handshakes, in no
	// particular order.
	Sockets(nsp string) (socks []Socket, ok bool)
	// Socket returns one socket with its handshake.
	Socket(nsp, sid string) (SocketDetail, bool)
	// Observe calls f for everything that happens on the hub until remove
	// is called. f is called on the hub's goroutines and must not block.
	Observe(f func(Event)) (remove func())
}

// Pager is what a Hub may add so that a page of a list costs a page, not a
// walk of every socket: the console uses it for lists without a search
// text (browsing, and sockets of one room), and Rooms or Sockets for
// searches. Cursors are the implementation's own opaque text.
type Pager interface {
	// RoomPage returns public rooms (no socket's own room) sorted by name,
	// or by size, descending, then name; ok is false for an unknown
	// namespace.
	RoomPage(nsp string, bySize bool, cursor string, limit int) (p Page[Room], ok bool)
	// SocketPage returns sockets sorted by id, only the members of room
	// when it is not empty.
	SocketPage(nsp, room, cursor string, limit int) (p Page[Socket], ok bool)
	// SearchSockets is SocketPage of the sockets whose id starts with q
	// (any case), whose address starts with q, or whose name contains q
	// (any case): one pass over light views, and full sockets for the page
	// only.
	SearchSockets(nsp, q, room, cursor string, limit int) (p Page[Socket], ok bool)
}

// Page is one page of a sorted list.
type Page[T any] struct {
	Items []T
	Next  string // the cursor of the next page; empty on the last
	Total int    // items over all pages
}

// Actions change the hub. Each returns ErrNotFound (from the admin
// package's point of view, any error wrapping NotFound) when the socket,
// room or namespace is gone.
type Actions interface {
	// DisconnectSocket disconnects a socket; with client set, the whole
	// connection (every namespace of that client) is closed.
	DisconnectSocket(nsp, sid string, client bool) error
	// JoinRoom makes a socket join a room.
	JoinRoom(nsp, sid, room string) error
	// LeaveRoom makes a socket leave a room.
	LeaveRoom(nsp, sid, room string) error
	// ClearRoom makes every member leave a room.
	ClearRoom(nsp, room string) error
	// DisconnectRoom disconnects every member of a room.
	DisconnectRoom(nsp, room string) error
}

// NotFound is returned by Actions when the target does not exist.
type NotFound struct{ What string }

func (e *NotFound) Error() string { return e.What + " not found" }

// TURN is the TURN server's live allocations.
type TURN interface {
	Allocations() []Allocation
}

// TURNActions is what a TURN source may add: ending an allocation by the
// ID it reported (the client is not told; its next refresh fails). It
// returns a NotFound when the allocation is gone.
type TURNActions interface {
	EndAllocation(id string) error
}

// Cluster is the nodes this one shares rooms with (the Redis adapter).
type Cluster interface {
	// ClusterNodes reads this node's view of the cluster; cheap.
	ClusterNodes() ClusterNodes
	// ClusterSockets asks every node for the sockets of a namespace, only
	// the members of room when it is not empty, within ctx.
	ClusterSockets(ctx context.Context, nsp, room string) ([]ClusterSocket, error)
}

// ClusterNodes is what a node knows of its cluster.
type ClusterNodes struct {
	Up    bool     `json:"up"`    // connected to the bus the nodes share
	Self  string   `json:"self"`  // this node's id
	Nodes []string `json:"nodes"` // Noom nodes heard from lately, this one included, sorted
}

// ClusterSocket is a socket on some node of the cluster.
type ClusterSocket struct {
	SID     string   `json:"sid"`
	Address string   `json:"address"`
	Rooms   []string `json:"rooms"` // its own room excluded
}

// Calls is the call service's latest quality reports and its participants.
type Calls interface {
	// Reports returns the latest report of every peer pair.
	Reports() []CallReport
}

// HubStats are the hub's counts now. Counters only grow.
type HubStats struct {
	Sockets       int // Socket.IO sockets, all namespaces
	Polling       int // Engine.IO connections on HTTP long-polling
	WebSocket     int // Engine.IO connections on WebSocket
	Namespaces    int
	PublicRooms   int    // rooms that are not a socket's own
	EventsIn      uint64 // events received from clients
	EventsOut     uint64 // events queued to clients, a broadcast once per recipient
	BytesIn       uint64
	BytesOut      uint64
	SlowConsumers uint64 // clients disconnected because they did not keep up
}

// Namespace is a namespace and how many sockets it has.
type Namespace struct {
	Name    string `json:"name"`
	Sockets int    `json:"sockets"`
}

// Room is one room of a namespace.
type Room struct {
	Name    string `json:"name"`
	Size    int    `json:"size"`
	Private bool   `json:"private"` // a socket's own room, named by its id
}

// Socket is a socket as listed: what is known without its handshake.
type Socket struct {
	Namespace   string    `json:"nsp"`
	SID         string    `json:"sid"`
	Name        string    `json:"name,omitempty"` // the call app's nickname
	Transport   string    `json:"transport"`
	Address     string    `json:"address"` // the client's IP and port
	ConnectedAt time.Time `json:"connectedAt"`
	Rooms       []string  `json:"rooms"` // public rooms, sorted

	PacketsIn  uint64 `json:"packetsIn"`
	BytesIn    uint64 `json:"bytesIn"`
	PacketsOut uint64 `json:"packetsOut"` // sent to this socket alone (broadcasts not counted)
	BytesOut   uint64 `json:"bytesOut"`
}

// SocketDetail is a socket with its handshake.
type SocketDetail struct {
	Socket
	Headers map[string][]string `json:"headers"`
	Query   map[string][]string `json:"query"`
	Auth    string              `json:"auth"` // the CONNECT payload as JSON
	Host    string              `json:"host"`
	Secure  bool                `json:"secure"`
}

// EventKind says what an Event tells.
type EventKind string

// Event kinds.
const (
	KindConnect    EventKind = "connect"
	KindDisconnect EventKind = "disconnect"
	KindJoin       EventKind = "join"
	KindLeave      EventKind = "leave"
	KindIn         EventKind = "in"  // an event from a client
	KindOut        EventKind = "out" // an event to clients
)

// Event is one thing that happened on the hub.
type Event struct {
	Seq        uint64    `json:"seq"` // set by the console
	Time       time.Time `json:"time"`
	Kind       EventKind `json:"kind"`
	Namespace  string    `json:"nsp"`
	SID        string    `json:"sid,omitempty"`   // sender (in), target (out to one), or the socket
	Rooms      []string  `json:"rooms,omitempty"` // join/leave: the room; out: the rooms selected
	Event      string    `json:"event,omitempty"`
	Recipients int       `json:"recipients,omitempty"`
	Bytes      int       `json:"bytes,omitempty"`
	Transport  string    `json:"transport,omitempty"`
	Address    string    `json:"address,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Payload    string    `json:"payload,omitempty"` // only with payloads shown, truncated
}

// Allocation is one TURN allocation.
type Allocation struct {
	// ID names the allocation for TURNActions; opaque.
	ID              string    `json:"id"`
	User            string    `json:"user"`
	Transport       string    `json:"transport"`
	Client          string    `json:"client"`
	Relay           string    `json:"relay"`
	Created         time.Time `json:"created"`
	BytesToPeer     uint64    `json:"bytesToPeer"`
	BytesToClient   uint64    `json:"bytesToClient"`
	PacketsToPeer   uint64    `json:"packetsToPeer"`
	PacketsToClient uint64    `json:"packetsToClient"`
	Permissions     []string  `json:"permissions"`
	Channels        int       `json:"channels"`
}

// CallReport is how one socket sees its connection to one peer.
type CallReport struct {
	Room          string    `json:"room"`
	SID           string    `json:"sid"`
	Name          string    `json:"name"`
	Peer          string    `json:"peer"`
	PeerName      string    `json:"peerName"`
	State         string    `json:"state"`
	CandidateType string    `json:"candidateType"`
	Protocol      string    `json:"protocol"`
	RTTMs         float64   `json:"rttMs"`
	BytesSent     int64     `json:"bytesSent"`
	BytesReceived int64     `json:"bytesReceived"`
	Time          time.Time `json:"time"`
}
