// Package call is the Noom call protocol, written on the signaling hub's
// public API like any application: rooms with nicknames, WebRTC offer /
// answer / candidate relay between peers that share a room, chat, the live
// list of public rooms, fresh ICE servers, and call-quality reports.
//
// Every client → server event takes an ack, answered {ok: true, ...} or
// {ok: false, error: {code, message}} with the codes in errors.go.
//
// # Concurrency contract
//
// A Service is safe for concurrent use. Its handlers run on each socket's
// reading goroutine (see package signaling). One goroutine, started by New
// and joined by Close, coalesces the "rooms" pushes: many joins and leaves
// within Config.RoomsPushInterval produce one push.
package call
