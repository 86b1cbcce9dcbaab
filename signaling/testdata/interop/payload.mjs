// payload.mjs <url> <websocket|polling> <maxPayload>: sends one event whose
// Engine.IO message is exactly maxPayload bytes (acknowledged), then one a
// byte longer, after which the server must drop the connection.
import { io, out, deadline, once, fail } from "./lib.mjs";

const [url, mode, maxArg] = process.argv.slice(2);
const max = Number(maxArg);
deadline(15000);

// messageOfSize returns a string s such that the Engine.IO message of
// EVENT ["big", s] with ack id `id` is exactly `size` bytes.
function stringFor(size, id) {
  const overhead = ("42" + id + JSON.stringify(["big", ""])).length;
  return "x".repeat(size - overhead);
}

async function main() {
  const socket = io(url, { transports: [mode], reconnection: false });
  socket.on("connect_error", (err) => fail("connect_error: " + err.message));
  await once(socket, "connect");
  const len = await socket.timeout(5000).emitWithAck("big", stringFor(max, 0));
  out({ ev: "ack", len });
  const disconnected = once(socket, "disconnect");
  socket.emit("big", stringFor(max + 1, ""));
  const [reason] = await disconnected;
  out({ ev: "disconnect", reason });
  process.exit(0);
}

main().catch(fail);
