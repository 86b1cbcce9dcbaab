// Package sioadmin makes the hub speak the server side of the official
// Socket.IO Admin UI (@socket.io/admin-ui 0.5.1, the hosted page
// https://admin.socket.io or its ui/dist): an admin namespace (default
// "/admin") with password or session login, the config and server_stats
// events in production mode, and in development mode the sockets snapshot
// and the per-socket stream (socket_connected, socket_updated,
// socket_disconnected, room_joined, room_left, event_received,
// event_sent), plus the join, leave, _disconnect and emit commands unless
// read-only.
//
// Unlike the original it stays usable on a large hub: all_sockets is
// capped (newest first), each admin socket's stream is rate-limited and
// queued in a bounded drop-oldest queue (what is skipped is counted and
// shown in server_stats' aggregatedEvents as type "skippedEvents"), a large
// broadcast is one event_sent rather than one per recipient, and the
// per-socket hooks are installed on the hub only while a development-mode
// admin is connected.
//
// Known differences from the original: all_sockets and server_stats are
// this node's (commands act on every node, through the adapter); a change
// of a socket's data is not streamed (the hub has no hook for SetData, so
// socket_updated tells of transport upgrades only); the private room a
// socket joins on connect is not a room_joined; the UI's MessagePack parser
// option is not supported (the hub speaks the default parser); clientId is
// a keyed hash of the Engine.IO session id, not its prefix, so it reveals
// nothing of that credential; the address shown is the one ClientIP
// resolves (trusted proxies), never a client-set X-Forwarded-For.
//
// # Concurrency contract
//
// An Admin is safe for concurrent use. Its observer hooks run on the hub's
// goroutines: they take one short mutex per admin socket to append to its
// queue and never block, never call the hub, and never wait for an admin
// socket. Each admin socket has one goroutine that drains its queue and
// writes to it (so a slow admin slows only itself); one more goroutine
// samples the hub's counters every second and hands server_stats to the
// admin sockets. Close stops them and waits for them.
package sioadmin
