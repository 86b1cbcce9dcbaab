// Package callredis is a call.Registry shared by the Noom nodes of a
// cluster through Redis (github.com/redis/go-redis/v9): rooms, their
// passcodes and listing, --max-room-size and the room list are
// cluster-wide, while each node keeps its own sockets. The events of a
// room (peer-joined, signal, chat...) travel through the hub's adapter
// (package redisadapter); this package only keeps membership.
//
// # Atomic decisions
//
// A join is one Lua script: it checks the passcode, the cap, the name and
// the rate limits the Service passes, then records the member, in one
// step, so that N people joining one room at once on N nodes never make
// it larger than the cap. A room with a passcode costs a second script
// call (the first returns the room's salt, the node hashes the passcode
// with it; passcodes never reach Redis in clear). Leaves, the reaping of
// dead nodes and re-registration after an outage are scripts as well.
// Keys (see scripts.go) are built inside the scripts: this needs a single
// Redis (or a primary with replicas), not Redis Cluster.
//
// # Dead nodes
//
// Each member is tagged with its node's id. A node renews a lease key
// (PX LeaseTTL) every LeaseTTL/3 and, on the same beat, removes the
// members of every node whose lease has expired, telling their rooms
// (peer-left) through the Service's hooks. So a node killed without
// leaving has its members gone within about 4/3 × LeaseTTL. A node that
// finds its own lease expired (a long pause) puts its members back.
//
// # Redis out of reach
//
// Nothing waits on Redis for longer than OpTimeout. When a call fails,
// the registry answers from this node's copy (its own members and their
// rooms' passcodes and listing): rooms with people on this node keep
// working, new joins are checked against this node's members only (the cap
// is per node then), the room list shows this node's rooms, and signals
// to other nodes are refused (the adapter could not carry them anyway).
// noom_call_registry_redis_up is 0 and a warning is logged. Every
// RetryInterval the registry tries again; once Redis answers it makes
// Redis hold exactly this node's members (removing those who left, adding
// those who joined, without a cap check: they are in a call) and tells
// the rooms of each change (peer-left, peer-joined). Someone who joined
// during the outage then appears to the people of other nodes, but their
// media starts only when one side rejoins: the web app's newcomer makes
// the first offer, to the peers its join returned.
//
// # Concurrency contract
//
// A Registry is safe for concurrent use. It runs one goroutine, started
// by New and joined by Close, for the lease, the reaping of dead nodes,
// the list-version poll and recovery. The call.Hooks run on it and never
// under the registry's locks, except ListChanged, which a socket's call
// that finds Redis gone also makes (it only wakes the Service's pusher). Changes (Join, Leave) hold a read lock over
// their Redis call and the copy's update; a resync holds it exclusively,
// so Redis and the copy never drift apart while it runs. Close the hub,
// then the Service, then the Registry, then the redis client.
package callredis
