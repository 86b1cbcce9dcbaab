// A driver of real socket.io-client sockets for admin/sioadmin tests.
// Reads one JSON command per line on stdin, prints one JSON event per line
// on stdout. Commands:
//   {"op":"connect","id":"A","url":"http://127.0.0.1:1234/admin","auth":{...},"transports":["websocket"]}
//   {"op":"emit","id":"A","args":["join","/","room"]}
//   {"op":"ack","id":"A","seq":1,"args":["probe"]}   -> {"ev":"ack","id":"A","seq":1,"args":[...]}
//   {"op":"close","id":"A"}
// Events: connect (with sid), connect_error (message, data), disconnect
// (reason), event (name, args) for every event a socket receives.
import { io } from "socket.io-client";
import { createInterface } from "node:readline";

const sockets = new Map();
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

function connect({ id, url, auth, transports, extraHeaders }) {
  const s = io(url, {
    forceNew: true,
    reconnection: false,
    transports: transports || ["polling", "websocket"],
    auth: auth || {},
    withCredentials: true,
    extraHeaders: extraHeaders || {},
  });
  sockets.set(id, s);
  s.on("connect", () => out({ ev: "connect", id, sid: s.id }));
  s.on("connect_error", (err) => out({ ev: "connect_error", id, message: err.message, data: err.data ?? null }));
  s.on("disconnect", (reason) => out({ ev: "disconnect", id, reason }));
  s.onAny((name, ...args) => out({ ev: "event", id, name, args }));
  s.io.on("open", () => s.io.engine.on("upgrade", (t) => out({ ev: "upgrade", id, transport: t.name })));
}

const rl = createInterface({ input: process.stdin });
rl.on("line", async (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    out({ ev: "error", message: "bad command: " + line });
    return;
  }
  const s = sockets.get(cmd.id);
  switch (cmd.op) {
    case "connect":
      connect(cmd);
      break;
    case "emit":
      s.emit(...cmd.args);
      break;
    case "ack": {
      const args = await s.timeout(5000).emitWithAck(...cmd.args).catch((e) => ["error", e.message]);
      out({ ev: "ack", id: cmd.id, seq: cmd.seq, args: [].concat(args) });
      break;
    }
    case "close":
      s.disconnect();
      break;
    case "exit":
      process.exit(0);
  }
});
rl.on("close", () => process.exit(0));
