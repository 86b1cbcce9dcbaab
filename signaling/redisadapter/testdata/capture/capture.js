// Records what Node's @socket.io/redis-adapter publishes, one file per
// message, for the decoders' tests and fuzz seeds (capture_test.go). The
// .bin files beside it came from socket.io 4.8.4, @socket.io/redis-adapter
// 8.3.0 (notepack.io 3.0.1) and redis 4.7.1 on redis-server 7.0.15:
//
//   npm install socket.io@4.8 @socket.io/redis-adapter@8.3 redis@4 socket.io-client@4.8
//   REDIS_URL=redis://127.0.0.1:PORT OUT=dir node capture.js
//
// It writes dir/NNN.bin and dir/index.txt ("NNN step channel"); the .bin
// files here were renamed NNN-step.bin, listed with their channels in
// channels.txt. Not run by the tests, so no package.json here.
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");
const { io: ioc } = require("socket.io-client");
const http = require("http");
const fs = require("fs");

const url = process.env.REDIS_URL, out = process.env.OUT;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let n = 0;
let label = "setup";

async function node() {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  return { io, port: httpServer.address().port, pub, sub, httpServer };
}

async function main() {
  const rec = createClient({ url });
  await rec.connect();
  await rec.pSubscribe("socket.io*", (msg, channel) => {
    const name = String(++n).padStart(3, "0");
    fs.writeFileSync(`${out}/${name}.bin`, msg);
    fs.appendFileSync(`${out}/index.txt`, `${name} ${label} ${channel.toString()}\n`);
  }, true);
  const a = await node(), b = await node();
  for (const x of [a, b]) x.io.of("/chat");
  b.io.on("connection", (s) => { s.join(["room1", "42"]); s.data = { name: "bob", n: 1 }; });
  b.io.on("greet", (arg, cb) => cb({ ok: true, from: "b", arg }));
  a.io.on("greet", (arg, cb) => cb({ ok: true, from: "a", arg }));
  b.io.on("ping", () => {});
  const c = ioc(`http://127.0.0.1:${b.port}`, { transports: ["websocket"], auth: { token: "t" }, query: { q: "1" } });
  c.on("ask", (x, cb) => cb({ answer: x * 2, bin: Buffer.from([1, 2, 3]) }));
  await new Promise((r) => c.on("connect", r));
  const ca = ioc(`http://127.0.0.1:${a.port}`, { transports: ["websocket"] });
  await new Promise((r) => ca.on("connect", r));
  await sleep(300);
  const step = async (l, f) => { label = l; await f(); await sleep(200); };
  await step("to-room", () => a.io.to("room1").emit("hello", "world"));
  await step("mixed-args", () => a.io.emit("mixed", 1, -1, 300, -70000, 2 ** 40, 1.5, NaN, Infinity, true, null,
    [1, [2]], { a: { b: "c" } }, Buffer.from("bin"), new Date(Date.UTC(2000, 5, 13)), undefined, "é✓", 2 ** 53 + 2));
  await step("except", () => a.io.except("room1").to("room2").to("room3").emit("x", { deep: [[[{}]]] }));
  await step("numeric-room", () => a.io.to(42).emit("numeric-room", 7));
  await step("volatile", () => a.io.volatile.emit("vol"));
  await step("socket-broadcast", () => { for (const s of a.io.of("/").sockets.values()) s.broadcast.emit("x"); });
  await step("namespace", () => a.io.of("/chat").to("r").emit("in-chat", { text: "hi" }));
  await step("emit-with-ack", async () => console.log("acks", JSON.stringify(await a.io.to("room1").timeout(2000).emitWithAck("ask", 21))));
  await step("fetch-sockets", async () => console.log("fetch", (await a.io.in("room1").fetchSockets()).length));
  await step("fetch-all", async () => console.log("fetch", (await a.io.fetchSockets()).length));
  await step("all-rooms", async () => console.log("rooms", [...(await a.io.of("/").adapter.allRooms())]));
  await step("server-side-emit-ack", async () => console.log("ssack", JSON.stringify(await a.io.serverSideEmitWithAck("greet", { x: 1 }))));
  await step("server-side-emit", () => a.io.serverSideEmit("ping", 1, "two", Buffer.from([0xff])));
  await step("sockets-join", () => a.io.in("room1").socketsJoin(["room3", "room4"]));
  await step("sockets-leave", () => a.io.in("room3").except("room9").socketsLeave("room4"));
  await step("disconnect", () => a.io.in("room1").disconnectSockets(true));
  await sleep(300);
  c.close(); ca.close();
  for (const x of [a, b]) { x.io.close(); await x.pub.quit(); await x.sub.quit(); }
  await rec.quit();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
