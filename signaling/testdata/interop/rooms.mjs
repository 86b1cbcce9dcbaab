// rooms.mjs <url> <n>: n clients, alternately over WebSocket and polling,
// log every "m" they receive; the Go test drives rooms and broadcasts from
// the server and compares the logs. Each client prints its log on "done"
// or when the server disconnects it.
import { io, out, deadline, fail } from "./lib.mjs";

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg);
deadline(20000);

let reported = 0;
function report(obj, socket) {
  out(obj);
  socket.disconnect();
  if (++reported === n) setTimeout(() => process.exit(0), 10);
}

for (let i = 0; i < n; i++) {
  const socket = io(url, {
    forceNew: true,
    reconnection: false,
    transports: i % 2 ? ["polling"] : ["websocket"],
    auth: { name: i },
  });
  const got = [];
  socket.on("connect_error", (err) => fail(`client ${i}: ${err.message}`));
  socket.on("connect", () => out({ ev: "connect", name: i, id: socket.id }));
  socket.on("m", (msg) => got.push(msg));
  socket.on("poll", (cb) => cb({ name: i }));
  socket.on("do-relay", (room) => socket.emit("relay", room, `relay-from-${i}`));
  socket.on("done", () => report({ ev: "log", name: i, got }, socket));
  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") report({ ev: "log", name: i, got, reason }, socket);
  });
}
