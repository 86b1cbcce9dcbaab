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
// The service keeps its own registry of call rooms (names, members,
// passcode hashes), so no handler and no metric asks the hub's adapter for
// a snapshot of every room or socket: joins, leaves, signals and chat cost
// O(the socket's rooms + the room's size), and a disconnect O(its rooms).
//
// # Concurrency contract
//
// A Service is safe for concurrent use. Its handlers run on each socket's
// reading goroutine (see package signaling); Service.mu guards the registry
// and is never held while calling the hub. One goroutine, started by New and joined by Close, builds
// the room list when a listed room changed, at most once per
// Config.RoomsPushInterval, pushes the difference to the subscribers (one
// encoded broadcast), and forgets idle per-IP state. "rooms" requests,
// subscriptions and the gauges read what it built, without locks.
package call
