// Package engineio is Engine.IO protocol v4: the packet codec and, above
// it, the transport server. It knows nothing of Socket.IO: namespaces,
// rooms and acks live in the layer above (package signaling), which sees
// the transport through Handler and ConnHandler and sends through Conn and
// Fanout.
//
// # Codec
//
// The codec (packet.go, payload.go, handshake.go) is pure: no sockets, no
// goroutines, no shared state. Every function is safe for concurrent use.
// Decoders never panic on malformed input; they return an error wrapping
// ErrInvalidPacket or ErrInvalidPayload.
//
// Wire format (https://github.com/socketio/engine.io-protocol, v4):
//
//	packet    = type-digit [data]            ; text frame or polling segment
//	binary    = raw bytes                    ; WebSocket binary frame = message
//	            "b" base64(bytes)            ; binary message inside a polling payload
//	payload   = packet *( %x1E packet )      ; HTTP long-polling body
//
// # Transport
//
// Server serves sessions over WebSocket and HTTP long-polling, with the
// upgrade from one to the other, heartbeats (one goroutine for every
// session's deadlines, heartbeat.go), per-IP connection limits, CORS and
// the Origin check.
//
// Concurrency contract:
//
//   - Reading: exactly one goroutine reads a session at a time (its
//     WebSocket read loop, or the one polling POST in flight), and calls
//     ConnHandler.OnMessage on it, in order. A handler that blocks holds up
//     that client alone, and — on purpose — stops reading from it: that is
//     how a producer is slowed (see Fanout.Wait).
//   - Idle: a WebSocket reader that has had no data for 250 ms parks its
//     connection in the server's epoll set and ends (park_linux.go); the
//     set's one goroutine starts a new reader when data comes. An idle
//     connection has no goroutine at all (elsewhere than Linux, and over
//     TLS, its reader waits parked in the runtime poller).
//   - Writing: at any moment one writer holds a connection (lanes.go,
//     writer.go): the server's flusher, which makes one non-blocking
//     write of what a session holds (1:1 and control frames before
//     fan-outs), the session's own writer goroutine when the socket is
//     full, or the polling GET in flight. No idle connection has
//     a writer goroutine. Senders (Conn.Send, Fanout.Send) only append to
//     the session's bounded lanes and never wait for the client.
//   - Lanes: control packets, acks and 1:1 messages (the priority lane)
//     go before fan-outs to many (the broadcast lane). Both are bounded
//     by Config.MaxQueueBytes, the broadcast lane also by age
//     (Config.MaxQueueDelay): a client past either is cut off as a slow
//     consumer, alone.
//   - Callbacks (Handler.Open, every ConnHandler method) run outside the
//     transport's locks and may call the Conn's methods. OnClose runs once.
//   - Every exported method is safe for concurrent use.
package engineio
