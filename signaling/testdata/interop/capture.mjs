// capture.mjs <url>: records the exact frames socket.io-client sends.
//
// It puts a TCP proxy of its own (node:net, no dependency) between the
// client and the server at <url>, and parses what the client writes: HTTP
// requests (the bodies of polling POSTs are payloads) and, after an
// upgrade, masked WebSocket frames. It runs one scenario over WebSocket,
// over polling, and with the default transports (polling, then the
// upgrade), and prints one JSON line per frame the client sent:
//
//	{"run":"websocket","transport":"websocket","kind":"text","data":"40{...}"}
//	{"run":"polling","transport":"polling","kind":"payload","data":"42[...]\u001e3"}
//	{"run":"websocket","transport":"websocket","kind":"binary","hex":"000102"}
//
// signaling/interop_test.go (TestCaptureClientFrames, with NOOM_CAPTURE=1)
// runs it against a hub and stores the result as codec test data.
import net from "node:net";
import { io, out, deadline, once, fail } from "./lib.mjs";

const [url] = process.argv.slice(2);
const target = new URL(url);
deadline(30000);

let run = "";

// Proxy: every client connection is piped to the server; the client's
// bytes are also parsed.
const proxy = net.createServer((client) => {
  const server = net.connect(Number(target.port), target.hostname);
  client.pipe(server);
  server.pipe(client);
  const parser = new ClientStream();
  client.on("data", (chunk) => parser.push(chunk));
  const end = () => {
    client.destroy();
    server.destroy();
  };
  client.on("error", end);
  server.on("error", end);
  client.on("close", end);
  server.on("close", end);
});

class ClientStream {
  constructor() {
    this.buf = Buffer.alloc(0);
    this.ws = false;
    this.fragments = null; // [opcode, [chunks]] of a fragmented message
  }
  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const more = this.ws ? this.frame() : this.request();
      if (!more) return;
    }
  }
  // request consumes one HTTP request if it is all there.
  request() {
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return false;
    const head = this.buf.subarray(0, end).toString("latin1").split("\r\n");
    const headers = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(":");
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers["content-length"] || 0);
    if (this.buf.length < end + 4 + length) return false;
    const body = this.buf.subarray(end + 4, end + 4 + length);
    this.buf = this.buf.subarray(end + 4 + length);
    const method = head[0].split(" ")[0];
    if (method === "POST") {
      out({ run, transport: "polling", kind: "payload", data: body.toString("utf8") });
    }
    if ((headers.upgrade || "").toLowerCase() === "websocket") this.ws = true;
    return true;
  }
  // frame consumes one WebSocket frame if it is all there.
  frame() {
    const b = this.buf;
    if (b.length < 2) return false;
    const fin = (b[0] & 0x80) !== 0;
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let len = b[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (b.length < 4) return false;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) return false;
      len = Number(b.readBigUInt64BE(2));
      off = 10;
    }
    const maskOff = off;
    if (masked) off += 4;
    if (b.length < off + len) return false;
    const payload = Buffer.from(b.subarray(off, off + len));
    if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[maskOff + (i % 4)];
    this.buf = b.subarray(off + len);
    if (opcode >= 8) return true; // control frames: close, ping, pong
    if (opcode !== 0) this.fragments = [opcode, []];
    this.fragments[1].push(payload);
    if (fin) {
      const [op, parts] = this.fragments;
      const data = Buffer.concat(parts);
      this.fragments = null;
      if (op === 1) out({ run, transport: "websocket", kind: "text", data: data.toString("utf8") });
      else out({ run, transport: "websocket", kind: "binary", hex: data.toString("hex") });
    }
    return true;
  }
}

// The scenario: what an application does with the client. The server acks
// "echo" and asks "ask" and "askbin" with acks of its own once it gets
// "ready", then emits "bye".
async function scenario(base, transports) {
  const socket = io(base, { transports, reconnection: false, auth: { token: "abc" }, forceNew: true });
  const chat = socket.io.socket("/chat"); // multiplexed on the same connection
  socket.on("ask", (n, cb) => cb("answer", n + 1));
  socket.on("askbin", (buf, cb) => cb(Buffer.concat([buf, Buffer.from([0xff])]), { nested: [Buffer.from("ok")] }));
  const bye = once(socket, "bye");
  await Promise.all([once(socket, "connect"), once(chat, "connect")]);
  if (transports.length > 1 && socket.io.engine.transport.name !== "websocket") {
    await once(socket.io.engine, "upgrade");
  }
  socket.emit("hello", "world", 42, { nested: { a: [1, true, null, 1.5e-7] } }, "é😀\u2028\"\\\n");
  await socket.emitWithAck("echo", "x");
  socket.emit("bin", Buffer.from([0, 1, 2, 255]), { u8: new Uint8Array([9]), deep: [{ b: Buffer.from("hi") }] });
  socket.emit("empty-binary", Buffer.alloc(0));
  chat.emit("room msg", { to: "r1" });
  await chat.emitWithAck("chat echo", []);
  socket.emit("ready");
  await bye;
  // Wait for a ping from the server, to record the pong.
  await once(socket.io.engine, "ping");
  await new Promise((r) => setTimeout(r, 20));
  chat.disconnect();
  socket.disconnect();
  // Let the last requests through before the next run's label.
  await new Promise((r) => setTimeout(r, 300));
}

async function main() {
  await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${proxy.address().port}`;
  for (const [name, transports] of [
    ["websocket", ["websocket"]],
    ["polling", ["polling"]],
    ["upgrade", ["polling", "websocket"]],
  ]) {
    run = name;
    await scenario(base, transports);
  }
  proxy.close();
  out({ ev: "done" });
  process.exit(0);
}

main().catch(fail);
