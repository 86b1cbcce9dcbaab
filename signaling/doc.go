// Package signaling is a Socket.IO v5 server over Engine.IO v4, wire
// compatible with the official socket.io-client 4.x over WebSocket and HTTP
// long-polling (with the upgrade between them), with a Go API that mirrors
// the Socket.IO server's: namespaces, middleware, rooms, acks, broadcasts,
// forced joins, server-side emits, and an Adapter seam for several nodes.
//
// # Rooms, adapters and nodes
//
// Each Namespace keeps this node's sockets and rooms itself (room sizes in
// O(1), sorted listings that page without copying every socket: ListRooms,
// ListSockets), and applies the room limit, observer events, metrics and
// ack bookkeeping there. Its Adapter only carries operations to the other
// nodes serving the namespace and applies them here through Local; the
// default MemoryAdapter serves one node. A multi-node adapter ships a
// Packet's values (event name and arguments, []byte for binary), and each
// node encodes them once for its own clients and assigns its own ack ids.
// package signaling/adaptertest is the contract an adapter must pass.
//
// # Concurrency contract
//
// A Server, its Namespaces, Sockets, BroadcastOperators and the
// MemoryAdapter are safe for concurrent use. A namespace's lock guards its
// sockets and rooms; broadcasts select their recipients under its read
// lock and queue to them after releasing it. Adapters are called without
// any lock of the hub held, and must call Local without holding theirs.
//
// # Layers
//
// The transport is package engineio (sessions, WebSocket and polling,
// upgrade, heartbeat, one writer per connection with two lanes, fan-out
// backpressure); it knows nothing of namespaces, rooms or acks. This
// package sits above it: each Engine.IO session gets a client (client.go)
// that parses Socket.IO packets and holds one Socket per namespace joined,
// and sends through engineio.Conn and engineio.Fanout. The arrows go one
// way: engineio calls back only through its Handler and ConnHandler
// interfaces.
//
// Event handlers, connection handlers and middlewares run on the reading
// goroutine of the connection they concern (engineio's contract), one at a
// time, in the order the client sent: a slow handler delays that client
// alone.
//
// Sending never blocks on a client: an emit or broadcast encodes the packet
// once and appends it to each recipient's queue, which has two lanes:
// control packets, acks, 1:1 messages and small rooms go before fan-outs
// to many. A client whose queue would pass Config.MaxQueueBytes, or whose
// oldest broadcast has waited longer than Config.MaxQueueDelay, is
// disconnected with reason "slow consumer"; it never slows a sender or
// another client. A broadcaster whose fan-out left recipients behind
// waits for them (at most MaxQueueDelay) before it goes on: for a handler,
// that is the reader of the client that caused it, so that client is read
// no more until its fan-out drains, and TCP slows it down.
//
// Observer hooks run outside every
// lock of the hub, on the goroutine that caused the event, and must not
// block; when nobody observes, no event is built. A hook may call the hub;
// one that emits on the hub (an admin namespace) must Exclude that
// namespace in its ObserveDetail and hand events to a bounded queue that
// drops and counts when full, or it observes itself without end.
//
// Shutdown disconnects every socket, drains the queues, and returns when
// every goroutine the server started has ended (or the context is done,
// when it closes what is left).
package signaling
