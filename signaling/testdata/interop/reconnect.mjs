// reconnect.mjs <url> <websocket|polling>: one client with fast
// reconnection. It prints every connect (with its id), disconnect (with the
// reason) and reconnection attempt. After "io server disconnect", which
// socket.io-client does not retry, it watches for 300ms that no attempt is
// made, prints "stayed-down" and exits.
import { io, out, deadline, transportsFor, fail } from "./lib.mjs";

const [url, mode] = process.argv.slice(2);
deadline(20000);

const socket = io(url, {
  transports: transportsFor(mode),
  reconnectionDelay: 50,
  reconnectionDelayMax: 100,
  randomizationFactor: 0,
});
let attempts = 0;
socket.io.on("reconnect_attempt", (n) => {
  attempts++;
  out({ ev: "attempt", n });
});
socket.on("connect", () => out({ ev: "connect", id: socket.id, transport: socket.io.engine.transport.name }));
socket.on("disconnect", (reason) => {
  out({ ev: "disconnect", reason });
  if (reason === "io server disconnect") {
    const before = attempts;
    setTimeout(() => {
      out({ ev: "stayed-down", attempts: attempts - before, active: socket.active });
      socket.close();
      process.exit(0);
    }, 300);
  }
});
socket.on("connect_error", (err) => out({ ev: "connect_error", message: err.message }));
process.on("uncaughtException", fail);
