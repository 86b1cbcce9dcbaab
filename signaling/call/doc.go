// Package call is the Noom call protocol, written on the signaling hub's
// public API like any application: rooms with per-room nicknames and
// optional passcodes, WebRTC offer / answer / candidate relay between peers
// that share a room, chat, the list of the largest public rooms for the
// sockets that subscribe to it, fresh ICE servers for sockets in a room,
// and call-quality reports.
//
// Every client → server event takes an ack, answered {ok: true, ...} or
// {ok: false, error: {code, message}} with the codes in errors.go.
//
// Rooms (members, passcode hashes, listing, the room list) live in a
// Registry: MemoryRegistry, the default, for one node, or a registry
// shared by the nodes of a cluster (package callredis), which makes
// --max-room-size, passcodes, names and the list cluster-wide. The
// Service keeps its own sockets' state (their rooms and names), so no
// handler and no metric asks the hub's adapter for a snapshot of every
// room or socket: joins, leaves, signals and chat cost O(the socket's
// rooms + the room's size), a disconnect O(its rooms), and a signal to a
// socket of another node one registry lookup. Room events (peer-joined,
// signal, chat...) go through the hub, and so reach sockets of other
// nodes through its adapter; room-list pushes stay on each node, whose
// pusher serves its own subscribers.
//
// # Concurrency contract
//
// A Service is safe for concurrent use. Its handlers run on each socket's
// reading goroutine (see package signaling); Service.mu guards the sockets'
// state and is never held while calling the hub or the Registry. A
// registry call may wait (a shared registry bounds it, 1s by default);
// it blocks that socket's reading only. One goroutine, started by New
// and joined by Close, asks the Registry for the room list when a listed
// room changed (here, or on another node as the Registry's hooks tell),
// at most once per Config.RoomsPushInterval, pushes the difference to this
// node's subscribers (one encoded broadcast), and forgets idle per-IP
// state. "rooms" requests, subscriptions and the gauges read what it
// built, without locks. The Registry's hooks only wake that goroutine or
// emit to a room.
package call
