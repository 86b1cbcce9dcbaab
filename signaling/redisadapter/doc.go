// Package redisadapter is the signaling.Adapter of a cluster of nodes
// sharing Redis pub/sub, wire-compatible with Node's
// @socket.io/redis-adapter 8.x (the classic adapter made by
// createAdapter): Noom nodes and Node socket.io 4.x servers using that
// adapter on the same Redis and key prefix form one cluster.
//
// # Wire protocol
//
// Per namespace nsp, with the prefix "socket.io":
//
//   - broadcasts on "socket.io#<nsp>#" (or "socket.io#<nsp>#<room>#" when
//     exactly one room is selected), as msgpack [uid, {type: 2, data:
//     [event, ...args], nsp}, {rooms, except, flags}], binary inline as
//     msgpack bin, flags.timeout in milliseconds; every node
//     PSUBSCRIBEs "socket.io#<nsp>#*";
//   - requests on "socket.io-request#<nsp>#": JSON {uid, requestId, type,
//     ...} with the classic RequestType ids (0 SOCKETS, 1 ALL_ROOMS, 2
//     REMOTE_JOIN, 3 REMOTE_LEAVE, 4 REMOTE_DISCONNECT, 5 REMOTE_FETCH, 6
//     SERVER_SIDE_EMIT, 7 BROADCAST with acks — the last as msgpack);
//   - answers on "socket.io-response#<nsp>#" and
//     "socket.io-response#<nsp>#<uid>#" (this node answers on the
//     requester's own channel): JSON, except each client ack of a
//     broadcast (type 9), msgpack. A type 9 answer from Noom also carries
//     the client's socket id ("sid"); Node ignores it.
//
// Every node answers every request once, lists are [] never null, and the
// number of nodes is Node's: the subscribers of the request channel
// (PUBSUB NUMSUB). Operations are applied on this node at once and
// ignored when they come back from Redis (by uid). Noom nodes also beat
// on the private channel "<prefix>-noom#heartbeat#" (Cluster.Nodes,
// noom_redis_nodes), which Node nodes never subscribe to.
//
// # Delivery and faults
//
// Redis pub/sub is at most once: what is published while a node is
// disconnected is lost for it. Redis down, or hung, never blocks the hub:
// local delivery goes on, publishes go through a bounded queue
// (PublishQueue) to one publisher goroutine that gives each PUBLISH
// PublishTimeout, and what cannot be queued or published is dropped and
// counted (noom_redis_dropped_messages_total{reason}). While the
// subscriber connection is down (Up false, noom_redis_up 0; logged once
// when it goes down, and again when it is back) cluster-wide reads
// (FetchSockets, AllRooms, acks) answer for this node only. A closed or
// refused connection is noticed at once; a Redis that holds the
// connection open but answers nothing, within HeartbeatTimeout +
// PublishTimeout (a silence, then an unanswered ping). go-redis redials
// and resubscribes by itself, and cross-node delivery resumes without a
// restart. Redis down at start is the same case: New does not wait for
// it.
//
// A node that dies loses its subscriptions with its connections, so
// requests stop counting it at once (PUBSUB NUMSUB); it leaves Nodes
// after HeartbeatTimeout. Decoded messages are bounded before they are
// decoded: msgpack counts must be backed by bytes, values nest 32 deep
// at most, heartbeats are uids of 64 characters at most, and at most 1024
// nodes are remembered.
//
// # Concurrency
//
// A Cluster runs four goroutines, all joined by Close: the subscriber
// reader (which also hands answers to waiting requests), one goroutine
// that applies other nodes' broadcasts and requests in the order Redis
// delivered them, the publisher, and the heartbeat. Every method of a
// Cluster and of its adapters is safe for concurrent use; no lock of
// this package is held while calling signaling.Local. A ServerSideEmit
// handler runs on the apply goroutine: it may emit and wait for answers
// (answers are read by the subscriber goroutine), but what it blocks on
// delays the namespace's other incoming operations.
//
// Shut down in this order: the signaling.Servers (which close their
// adapters), then Cluster.Close, then the redis.Client.
package redisadapter
