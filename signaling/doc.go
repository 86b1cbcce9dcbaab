// Package signaling is a Socket.IO v5 server over Engine.IO v4, wire
// compatible with the official socket.io-client 4.x over WebSocket and HTTP
// long-polling (with the upgrade between them), with a Go API that mirrors
// the Socket.IO server's: namespaces, middleware, rooms, acks, broadcasts,
// forced joins, and an Adapter with the rooms/sids view.
//
// # Concurrency contract
//
// A Server, its Namespaces, Sockets, BroadcastOperators and the
// MemoryAdapter are safe for concurrent use.
//
// Each connection has one reading goroutine (the WebSocket read loop, or
// the one POST request in flight) and at most one writer at a time, marked
// under the session's lock: for long-polling, the one GET request in
// flight; for WebSocket, a sender writing a small send itself with one
// non-blocking write, the server's one flusher goroutine writing
// broadcasts to clients whose sockets have room, or, for a client that is
// not keeping up, a writer goroutine of its own that may wait for it
// (within Config.WriteTimeout) and is gone once its queue is empty. Event handlers, connection
// handlers and middlewares run on the reading goroutine of the connection
// they concern, one at a time, in the order the client sent: a slow handler
// delays that client alone.
//
// Sending never blocks: an emit or broadcast encodes the packet once and
// appends it to each recipient's byte-bounded queue (or writes it at once
// where the socket takes it without waiting). A client whose queue
// would pass Config.MaxQueueBytes is disconnected with reason "slow
// consumer"; it never slows a sender or another client.
//
// One heartbeat goroutine keeps every connection's ping, pong and connect
// deadlines (no timer per connection). Observer hooks run outside every
// lock of the hub, on the goroutine that caused the event, and must not
// block.
//
// Shutdown disconnects every socket, drains the queues, and returns when
// every goroutine the server started has ended (or the context is done,
// when it closes what is left).
package signaling
