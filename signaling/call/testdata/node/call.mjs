// The Noom call protocol through the official socket.io-client: every row
// of the protocol table and every error code. Usage: node call.mjs URL
// Prints "PASS <check>" per check; exits non-zero at the first failure.
import { io } from "socket.io-client";
import assert from "node:assert/strict";

const url = process.argv[2];
const opened = [];
const connect = (opts = {}) =>
  new Promise((resolve, reject) => {
    const s = io(url, { forceNew: true, reconnection: false, ...opts });
    opened.push(s);
    s.on("connect", () => resolve(s));
    s.on("connect_error", reject);
  });
const call = (s, ev, payload) => s.timeout(5000).emitWithAck(ev, payload);
const next = (s, ev, pred = () => true) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${ev} event`)), 5000);
    const h = (m) => {
      if (!pred(m)) return;
      clearTimeout(t);
      s.off(ev, h);
      resolve(m);
    };
    s.on(ev, h);
  });
const pass = (name) => console.log("PASS " + name);
const fails = async (p, code, name) => {
  const a = await p;
  assert.equal(a.ok, false, name);
  assert.equal(a.error.code, code, name);
  assert.ok(a.error.message.length > 0, name);
  pass(name);
};

try {
  const watcher = await connect({ transports: ["polling"] }); // long-polling works too
  const alice = await connect({ transports: ["websocket"] });
  const bob = await connect();
  const carol = await connect();
  const room = "interop " + Date.now();

  // The home page's view: subscribe, then apply each push (a diff of
  // version v over version v-1) to the list of the ack.
  const sub = await call(watcher, "rooms:subscribe", {});
  assert.equal(sub.ok, true);
  assert.ok(Array.isArray(sub.rooms) && typeof sub.total === "number" && typeof sub.v === "number");
  const list = new Map(sub.rooms.map((r) => [r.name, r.size]));
  let version = sub.v;
  watcher.on("rooms", (d) => {
    if (d.v !== version + 1) return;
    for (const r of d.set) list.set(r.name, r.size);
    for (const n of d.del) list.delete(n);
    version = d.v;
  });
  pass("rooms:subscribe: ack with rooms, total, v");
  const roomsPush = next(watcher, "rooms", () => list.get(room) === 2);
  let a = await call(alice, "join", { room, name: "Alice" });
  assert.equal(a.ok, true);
  assert.equal(a.id, alice.id);
  assert.equal(a.room, room);
  assert.deepEqual(a.peers, []);
  assert.ok(Array.isArray(a.iceServers));
  pass("join: ack with id, room, peers, iceServers");

  const joined = next(alice, "peer-joined");
  const b = await call(bob, "join", { room, name: "Bob" });
  assert.deepEqual(b.peers, [{ id: alice.id, name: "Alice" }]);
  assert.deepEqual(await joined, { id: bob.id, name: "Bob" });
  pass("join: peers listed, peer-joined to the room");

  await roomsPush;
  const r = await call(carol, "rooms", {});
  assert.equal(r.ok, true);
  assert.deepEqual(r.rooms, [{ name: room, size: 2 }]);
  assert.equal(r.total, 1);
  assert.equal(r.v, version);
  pass("rooms: ack and pushes to subscribers");
  await fails(call(carol, "ice-servers", {}), "not_in_room", "ice-servers: only for a socket in a room");
  const locked = "locked " + room;
  assert.equal((await call(carol, "join", { room: locked, name: "C", passcode: "open sesame" })).passcode, true);
  const frank = await connect();
  await fails(call(frank, "join", { room: locked, name: "F", passcode: "wrong" }), "bad_passcode", "join: bad_passcode");
  assert.equal((await call(frank, "join", { room: locked, name: "F", passcode: "open sesame" })).ok, true);
  pass("join: a room with a passcode");
  frank.disconnect();
  await call(carol, "leave", { room: locked });

  const offer = { type: "offer", sdp: "v=0\r\no=- 46117317 2 IN IP4 127.0.0.1\r\ns=-\r\n" };
  const sig = next(bob, "signal");
  assert.equal((await call(alice, "signal", { to: bob.id, data: offer })).ok, true);
  assert.deepEqual(await sig, { from: alice.id, data: offer });
  pass("signal: relayed to the peer only, byte for byte");
  await fails(call(carol, "signal", { to: alice.id, data: offer }), "not_in_room", "signal: refused between sockets that share no room");
  await fails(call(alice, "signal", { to: bob.id, data: { type: "bogus" } }), "bad_request", "signal: bad data type refused");

  const chat = next(bob, "chat");
  const c = await call(alice, "chat", { room, text: "hello <b>bob</b> ✓" });
  assert.equal(c.ok, true);
  assert.equal(typeof c.ts, "number");
  assert.deepEqual(await chat, { from: alice.id, name: "Alice", text: "hello <b>bob</b> ✓", ts: c.ts });
  pass("chat: to the rest of the room with ts");
  await fails(call(carol, "chat", { room, text: "hi" }), "not_in_room", "chat: not in the room");
  await fails(call(alice, "chat", { room, text: "x".repeat(2001) }), "bad_request", "chat: too long");

  const ice = await call(alice, "ice-servers", {});
  assert.equal(ice.ok, true);
  assert.ok(ice.iceServers.length > 0);
  pass("ice-servers: fresh list");
  assert.equal((await call(bob, "call-stats", { peer: alice.id, state: "connected", candidateType: "relay", protocol: "udp", rttMs: 20, bytesSent: 1, bytesReceived: 2 })).ok, true);
  pass("call-stats: accepted");

  await fails(call(carol, "join", { room: "", name: "C" }), "bad_request", "join: empty room refused");
  await fails(call(carol, "join", { room, name: "x".repeat(33) }), "bad_request", "join: long name refused");
  await call(carol, "join", { room: "full " + room, name: "C1" });
  const dave = await connect();
  await fails(call(dave, "join", { room: "full " + room, name: "c1" }), "name_taken", "join: name_taken");
  await call(dave, "join", { room: "full " + room, name: "D" });
  const erin = await connect();
  await fails(call(erin, "join", { room: "full " + room, name: "E" }), "room_full", "join: room_full");

  const left = next(bob, "peer-left");
  assert.equal((await call(alice, "leave", { room })).ok, true);
  assert.deepEqual(await left, { id: alice.id });
  pass("leave: peer-left to the room");
  await fails(call(alice, "leave", { room }), "not_in_room", "leave: not in the room");

  await call(alice, "join", { room, name: "Alice" });
  const gone = next(alice, "peer-left");
  const bobID = bob.id; // the client forgets it on disconnect
  bob.disconnect();
  assert.deepEqual(await gone, { id: bobID });
  pass("disconnect: peer-left in each room");

  // 80 events at once against a burst of 60 (less what carol spent):
  // every answer is ok or rate_limited, and at least the 20 past the burst
  // are limited.
  const burst = await Promise.all(Array.from({ length: 80 }, () => call(carol, "rooms", {})));
  const limited = burst.filter((x) => !x.ok && x.error.code === "rate_limited").length;
  assert.equal(burst.filter((x) => x.ok).length + limited, 80, "only ok or rate_limited");
  assert.ok(limited >= 20, `${limited} of 80 events at once are rate limited`);
  pass("rate_limited: a burst past the limit");
} catch (e) {
  console.error("FAIL", e);
  process.exitCode = 1;
} finally {
  for (const s of opened) s.disconnect();
}
