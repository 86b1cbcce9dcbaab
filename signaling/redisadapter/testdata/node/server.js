// A Node socket.io 4.8 server on @socket.io/redis-adapter 8.x (createAdapter,
// the classic pub/sub adapter), and official socket.io-client connections
// to any server, driven by signaling/redisadapter/node_test.go.
//
// Usage: node server.js REDIS_PORT [REQUESTS_TIMEOUT_MS]
//
// Listens on 127.0.0.1 (a free port), then prints {"ready":true,"port":P}.
// Each line on stdin is a command {"id":N,"op":"...",...}; each gets one
// line on stdout, {"id":N,"result":...} or {"id":N,"error":"..."}, in the
// order the commands complete. Binary values cross the lines as
// {"$bin":"<base64>"} both ways. Exits when stdin closes.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { io as dial } from "socket.io-client";

const redisPort = Number(process.argv[2]);
const requestsTimeout = Number(process.argv[3] || 2000);

// toWire makes a value JSON-safe: binary becomes {"$bin": base64}.
const toWire = (v) => {
  if (Buffer.isBuffer(v)) return { $bin: v.toString("base64") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === "object") {
    if (typeof v.toJSON === "function") return v.toJSON();
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, toWire(e)]));
  }
  return v;
};

// fromWire is toWire's inverse: {"$bin": base64} becomes a Buffer.
const fromWire = (v) => {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string" && Object.keys(v).length === 1) return Buffer.from(v.$bin, "base64");
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, fromWire(e)]));
  }
  return v;
};

const pub = createClient({ socket: { host: "127.0.0.1", port: redisPort } });
const sub = pub.duplicate();
pub.on("error", (err) => console.error("redis pub:", err.message));
sub.on("error", (err) => console.error("redis sub:", err.message));
await Promise.all([pub.connect(), sub.connect()]);

const http = createServer();
const io = new Server(http, { adapter: createAdapter(pub, sub, { requestsTimeout }) });

// A client says who it is and which rooms it starts in with its auth
// {name, rooms}; socket.data records the side and the name, so the other
// side's fetchSockets can be checked.
const onConnection = (socket) => {
  const { name, rooms } = socket.handshake.auth || {};
  socket.data = { side: "node", name };
  if (Array.isArray(rooms)) socket.join(rooms);
};
for (const nsp of ["/", "/chat"]) io.of(nsp).on("connection", onConnection);

// Clients, by name: every event is recorded; one asking for an ack is
// answered {by, event, bin} (bin: the name's bytes) unless the client is
// silent.
const clients = new Map();
const waiters = new Set(); // re-checked when something was received
const changed = () => waiters.forEach((w) => w());
const until = (cond, ms, what) =>
  new Promise((resolve, reject) => {
    const check = () => {
      const v = cond();
      if (v === undefined) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error("timed out waiting for " + what));
    }, ms);
    waiters.add(check);
    check();
  });

// Server-side events: each listened event is recorded; with an ack it is
// answered with the configured answer, or left unanswered when silent.
const serverEvents = [];
const listen = (event, answer, silent) =>
  io.on(event, (...args) => {
    const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
    serverEvents.push({ event, args: toWire(args), withAck: cb !== null });
    if (cb && !silent) cb(fromWire(answer));
    changed();
  });

const client = (name) => {
  const c = clients.get(name);
  if (!c) throw new Error("no client " + name);
  return c;
};

const connect = ({ name, url, rooms = [], silent = false }) =>
  new Promise((resolve, reject) => {
    const socket = dial(url, { forceNew: true, reconnection: false, transports: ["websocket"], auth: { name, rooms } });
    const c = { socket, events: [], gone: null };
    clients.set(name, c);
    socket.onAny((event, ...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      c.events.push({ event, args: toWire(args) });
      if (ack && !silent) ack({ by: name, event, bin: Buffer.from(name) });
      changed();
    });
    socket.on("disconnect", (reason) => {
      c.gone = reason;
      changed();
    });
    socket.on("connect", () => resolve({ sid: socket.id }));
    socket.on("connect_error", (err) => reject(err));
  });

// sel is a namespace ("/" by default), or its sockets in rooms and not
// in except.
const sel = ({ nsp = "/", rooms = [], except = [] }) => {
  let op = io.of(nsp);
  if (rooms.length) op = op.to(rooms);
  if (except.length) op = op.except(except);
  return op;
};

const describe = (s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, handshake: toWire(s.handshake) });

const ops = {
  connect,
  events: ({ name }) => client(name).events,
  // waitEvents waits until the client has count events named event.
  waitEvents: ({ name, event, count = 1, ms = 10000 }) =>
    until(
      () => {
        const got = client(name).events.filter((e) => e.event === event);
        return got.length >= count ? client(name).events : undefined;
      },
      ms,
      `${count} ${event} on ${name}`,
    ),
  waitGone: ({ name, ms = 10000 }) => until(() => client(name).gone ?? undefined, ms, `${name} disconnected`),
  close: ({ name }) => {
    client(name).socket.close();
    clients.delete(name);
    return true;
  },
  emit: (o) => sel(o).emit(o.event, ...fromWire(o.args || [])),
  // emitWithAck: the callback form, to get the answers even on timeout.
  emitWithAck: (o) =>
    new Promise((resolve) =>
      sel(o)
        .timeout(o.timeout)
        .emit(o.event, ...fromWire(o.args || []), (err, responses) =>
          resolve({ error: err ? err.message : null, responses: toWire(responses) }),
        ),
    ),
  fetchSockets: async (o) => (await sel(o).fetchSockets()).map(describe),
  // remoteEmitWithAck: emit with an ack to one socket found by
  // fetchSockets (a RemoteSocket when it is on another node), which
  // expects a single answer.
  remoteEmitWithAck: async ({ sid, event, timeout, args = [] }) => {
    const [s] = await io.in(sid).fetchSockets();
    if (!s) throw new Error("fetchSockets found no " + sid);
    return new Promise((resolve) =>
      s.timeout(timeout).emit(event, ...fromWire(args), (err, response) =>
        resolve({ error: err ? err.message : null, response: toWire(response) }),
      ),
    );
  },
  localSockets: async () => (await io.local.fetchSockets()).map(describe),
  socketsJoin: (o) => sel(o).socketsJoin(o.join),
  socketsLeave: (o) => sel(o).socketsLeave(o.leave),
  disconnectSockets: (o) => sel(o).disconnectSockets(!!o.close),
  listen: ({ event, answer = null, silent = false }) => listen(event, answer, silent) && true,
  serverEvents: ({ event }) => serverEvents.filter((e) => e.event === event),
  waitServerEvents: ({ event, count = 1, ms = 10000 }) =>
    until(
      () => {
        const got = serverEvents.filter((e) => e.event === event);
        return got.length >= count ? got : undefined;
      },
      ms,
      `${count} server-side ${event}`,
    ),
  serverSideEmit: ({ event, args = [] }) => io.serverSideEmit(event, ...fromWire(args)),
  serverSideEmitWithAck: ({ event, args = [] }) =>
    new Promise((resolve) =>
      io.serverSideEmit(event, ...fromWire(args), (err, responses) =>
        resolve({ error: err ? err.message : null, responses: toWire(responses) }),
      ),
    ),
  allRooms: async ({ nsp = "/" }) => [...(await io.of(nsp).adapter.allRooms())],
  serverCount: ({ nsp = "/" }) => io.of(nsp).adapter.serverCount(),
};

const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");

http.listen(0, "127.0.0.1", () => out({ ready: true, port: http.address().port }));

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    out({ error: "bad command line: " + err.message });
    return;
  }
  try {
    const fn = ops[cmd.op];
    if (!fn) throw new Error("unknown op " + cmd.op);
    const result = await fn(cmd);
    out({ id: cmd.id, result: result === undefined ? null : result });
  } catch (err) {
    out({ id: cmd.id, error: String(err && err.message ? err.message : err) });
  }
});
lines.on("close", async () => {
  for (const c of clients.values()) c.socket.close();
  io.close();
  await Promise.allSettled([pub.quit(), sub.quit()]);
  process.exit(0);
});
