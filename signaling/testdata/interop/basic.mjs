// basic.mjs <url> <websocket|polling|upgrade>: connect, acks both ways and
// binary both ways (top level and nested) over the transports given.
import { io, out, deadline, once, emitAck, transportsFor, fail } from "./lib.mjs";

const [url, mode] = process.argv.slice(2);
deadline(15000);

async function main() {
  const socket = io(url, {
    transports: transportsFor(mode),
    reconnection: false,
    auth: { token: "t1" },
    query: { room: "q1" },
  });
  socket.on("connect_error", (err) => fail("connect_error: " + err.message));
  // Server to client, with acks.
  socket.on("ask", (n, cb) => cb(n + 1, "ok"));
  socket.on("askbin", (buf, cb) => cb(Buffer.concat([buf, Buffer.from([0xff])]), { inner: Buffer.from([1]) }));
  const srvbin = once(socket, "srvbin");
  const bye = once(socket, "bye");

  await once(socket, "connect");
  out({ ev: "connect", id: socket.id, transport: socket.io.engine.transport.name });
  if (mode === "upgrade") {
    if (socket.io.engine.transport.name !== "websocket") await once(socket.io.engine, "upgrade");
    out({ ev: "upgraded", transport: socket.io.engine.transport.name });
    out({ ev: "server-transport", args: await emitAck(socket, "transport?") });
  }

  // Client to server, with acks.
  out({ ev: "echo", args: await emitAck(socket, "echo", 1, "two", { three: [true] }, null, "é😀\u2028") });
  out({ ev: "echo1", arg: await socket.emitWithAck("echo", "only") });
  out({
    ev: "bin",
    args: await emitAck(socket, "bin", Buffer.from([1, 2, 3]), {
      nested: { u8: new Uint8Array([4, 5]), list: [Buffer.from("xy"), 7] },
      s: "str",
    }),
  });
  // The server now emits to us.
  socket.emit("ready");
  out({ ev: "srvbin", args: await srvbin });
  await bye;
  out({ ev: "done", transport: socket.io.engine.transport.name });
  socket.disconnect();
}

main().catch(fail);
