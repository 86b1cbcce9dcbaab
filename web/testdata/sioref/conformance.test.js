// Conformance tests: Noom's browser Socket.IO client (web/static/socket.io.js)
// against the reference Socket.IO server from npm, over loopback.
//
// Run: npm ci && node --test   (from this folder)
// The client is loaded from NOOM_CLIENT or ../../static/socket.io.js.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const path = require("node:path");
const { Server } = require("socket.io");
const WebSocket = require("ws");

const io = require(process.env.NOOM_CLIENT || path.join(__dirname, "../../static/socket.io.js"));

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error("timed out: " + what)), ms); })
  ]).finally(() => clearTimeout(t));
}

function once(emitter, event, ms) {
  return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), ms || 5000, event);
}

async function startServer(opts) {
  const httpServer = http.createServer();
  const server = new Server(httpServer, Object.assign({ pingInterval: 300, pingTimeout: 400 }, opts));
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const url = "http://127.0.0.1:" + httpServer.address().port;
  server.on("connection", (socket) => {
    socket.on("echo", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      if (ack) ack(...args);
    });
    socket.on("no-ack", () => {});
    socket.on("ask", async (cb) => {
      const reply = await socket.timeout(2000).emitWithAck("question", { n: 41 });
      cb(reply);
    });
    socket.on("kick", () => socket.disconnect(true));
    socket.on("drop", () => socket.conn.close());
    socket.on("bin", (buf, cb) => cb({ len: buf.length, back: buf, nested: [Buffer.from([9, 8, 7])] }));
    socket.on("push-binary", () => socket.emit("binary", Buffer.from([1, 2, 3]), "text"));
  });
  return {
    url,
    server,
    async close() {
      server.close();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  };
}

function client(url, opts) {
  return io(url, Object.assign({ forceNew: true, WebSocket, reconnectionDelay: 50, reconnectionDelayMax: 200 }, opts));
}

for (const transports of [["websocket"], ["polling"], ["websocket", "polling"], ["polling", "websocket"]]) {
  test("events, acks and binary over " + transports.join("+"), async () => {
    const srv = await startServer({});
    const socket = client(srv.url, { transports });
    try {
      // Buffered before connect, flushed on connect.
      const early = socket.emitWithAck("echo", "early");
      await once(socket, "connect");
      assert.equal(typeof socket.id, "string");
      assert.equal(socket.connected, true);
      assert.equal(await withTimeout(early, 3000, "early ack"), "early");

      const reply = await withTimeout(new Promise((resolve) => {
        socket.emit("echo", { a: 1, s: "ü\u2028" }, [2, 3], (x, y) => resolve([x, y]));
      }), 3000, "echo ack");
      assert.deepEqual(reply, [{ a: 1, s: "ü\u2028" }, [2, 3]]);

      const err = await withTimeout(new Promise((resolve) => {
        socket.timeout(150).emit("no-ack", 1, (e) => resolve(e));
      }), 3000, "timeout");
      assert.match(String(err && err.message), /timed out/);

      await assert.rejects(socket.timeout(150).emitWithAck("no-ack"), /timed out/);
      assert.equal(await socket.timeout(2000).emitWithAck("echo", 7), 7);

      socket.on("question", (q, cb) => cb(q.n + 1));
      assert.equal(await socket.emitWithAck("ask"), 42);

      const any = [];
      socket.onAny((ev, ...args) => any.push(ev));
      const bin = await socket.emitWithAck("bin", new Uint8Array([1, 2, 3, 4]));
      assert.equal(bin.len, 4);
      assert.ok(bin.back instanceof ArrayBuffer);
      assert.deepEqual([...new Uint8Array(bin.back)], [1, 2, 3, 4]);
      assert.deepEqual([...new Uint8Array(bin.nested[0])], [9, 8, 7]);

      const pushed = once(socket, "binary");
      socket.emit("push-binary");
      const [buf, text] = await pushed;
      assert.deepEqual([...new Uint8Array(buf)], [1, 2, 3]);
      assert.equal(text, "text");
      assert.ok(any.includes("binary"));

      // Survives several heartbeats: three pings answered, still connected.
      await new Promise((resolve) => {
        let pings = 0;
        const onPing = () => {
          if (++pings === 3) {
            socket.io.engine.off("ping", onPing);
            resolve();
          }
        };
        socket.io.engine.on("ping", onPing);
      });
      assert.equal(socket.connected, true);
      if (transports[0] === "polling" && transports.includes("websocket")) {
        assert.equal(socket.io.engine.transport.name, "websocket", "upgraded");
      }
    } finally {
      socket.disconnect();
      await srv.close();
    }
  });
}

test("falls back to polling when the server refuses websocket", async () => {
  const srv = await startServer({ transports: ["polling"] });
  const socket = client(srv.url, {});
  try {
    await once(socket, "connect");
    assert.equal(socket.io.engine.transport.name, "polling");
    assert.equal(await socket.emitWithAck("echo", "via polling"), "via polling");
  } finally {
    socket.disconnect();
    await srv.close();
  }
});

test("reconnects after the transport drops and re-sends CONNECT", async () => {
  const srv = await startServer({});
  const socket = client(srv.url, {});
  try {
    await once(socket, "connect");
    const firstId = socket.id;
    const attempt = once(socket.io, "reconnect_attempt");
    const reconnected = once(socket.io, "reconnect");
    const disconnected = once(socket, "disconnect");
    socket.emit("drop");
    const [reason] = await disconnected;
    assert.equal(reason, "transport close");
    await attempt;
    await reconnected;
    if (!socket.connected) await once(socket, "connect");
    assert.notEqual(socket.id, firstId);
    assert.equal(await socket.emitWithAck("echo", "again"), "again");
  } finally {
    socket.disconnect();
    await srv.close();
  }
});

test("server-side disconnect is final", async () => {
  const srv = await startServer({});
  const socket = client(srv.url, {});
  try {
    await once(socket, "connect");
    const disconnected = once(socket, "disconnect");
    socket.emit("kick");
    const [reason] = await disconnected;
    assert.equal(reason, "io server disconnect");
    assert.equal(socket.active, false);
  } finally {
    socket.disconnect();
    await srv.close();
  }
});

test("client disconnect reason and pending acks fail", async () => {
  const srv = await startServer({});
  const socket = client(srv.url, {});
  try {
    await once(socket, "connect");
    const pending = socket.timeout(5000).emitWithAck("no-ack");
    const disconnected = once(socket, "disconnect");
    socket.disconnect();
    const [reason] = await disconnected;
    assert.equal(reason, "io client disconnect");
    await assert.rejects(pending, /disconnected/);
  } finally {
    await srv.close();
  }
});

test("namespace, auth and connect_error with data", async () => {
  const srv = await startServer({});
  srv.server.of("/private").use((socket, next) => {
    if (socket.handshake.auth && socket.handshake.auth.token === "good") return next();
    const err = new Error("not authorized");
    err.data = { code: "bad_token" };
    next(err);
  });
  srv.server.of("/private").on("connection", (s) => {
    s.on("whoami", (cb) => cb(s.nsp.name, s.handshake.auth.token, s.handshake.query.room));
  });
  const bad = client(srv.url + "/private", { auth: { token: "bad" }, transports: ["websocket"] });
  const good = client(srv.url + "/private", { auth: (cb) => cb({ token: "good" }), query: { room: "r1" } });
  try {
    const [err] = await once(bad, "connect_error");
    assert.equal(err.message, "not authorized");
    assert.deepEqual(err.data, { code: "bad_token" });
    await once(good, "connect");
    const who = await new Promise((resolve) => good.emit("whoami", (...a) => resolve(a)));
    assert.deepEqual(who, ["/private", "good", "r1"]);
  } finally {
    bad.disconnect();
    good.disconnect();
    await srv.close();
  }
});

test("connect_error and reconnect_failed when nothing listens", async () => {
  const srv = await startServer({});
  const url = srv.url;
  await srv.close();
  const socket = client(url, { reconnectionAttempts: 2, timeout: 2000 });
  try {
    await once(socket, "connect_error");
    await once(socket.io, "reconnect_failed", 8000);
    assert.equal(socket.connected, false);
  } finally {
    socket.disconnect();
  }
});

test("multiplexes namespaces on one manager", async () => {
  const srv = await startServer({});
  srv.server.of("/other").on("connection", (s) => s.on("echo", (x, cb) => cb("other:" + x)));
  const a = io(srv.url, { WebSocket });
  const b = io(srv.url + "/other", { WebSocket });
  try {
    assert.equal(a.io, b.io);
    await Promise.all([once(a, "connect"), once(b, "connect")]);
    assert.equal(await b.emitWithAck("echo", "x"), "other:x");
    assert.equal(await a.emitWithAck("echo", "y"), "y");
  } finally {
    a.disconnect();
    b.disconnect();
    await srv.close();
  }
});
