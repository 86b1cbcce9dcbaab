// Helpers shared by the interop scenarios. Each scenario is run by
// signaling/interop_test.go as `node <scenario>.mjs <url> [args...]` and
// prints one JSON object per line on stdout; the Go test reads them.
import { io } from "socket.io-client";

export { io };

// plain turns binary values (Buffer, ArrayBuffer, typed arrays) anywhere in
// v into {"$bin": "<hex>"} so that they survive JSON.
export function plain(v) {
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

// out prints one line for the Go test.
export function out(obj) {
  process.stdout.write(JSON.stringify(plain(obj)) + "\n");
}

// deadline ends the process with an error if the scenario hangs.
export function deadline(ms) {
  setTimeout(() => {
    out({ ev: "timeout" });
    process.exit(2);
  }, ms).unref();
}

// once resolves with the arguments of the next `event` on emitter.
export function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
}

// emitAck emits with an ack callback and resolves with every ack argument
// (emitWithAck resolves with the first only).
export function emitAck(socket, event, ...args) {
  return new Promise((resolve) => socket.emit(event, ...args, (...res) => resolve(res)));
}

// transportsFor maps a mode argument to socket.io-client's transports option.
export function transportsFor(mode) {
  switch (mode) {
    case "websocket":
      return ["websocket"];
    case "polling":
      return ["polling"];
    default:
      return ["polling", "websocket"]; // the default: polling, then upgrade
  }
}

export function fail(err) {
  out({ ev: "error", message: String(err && err.stack ? err.stack : err) });
  process.exit(1);
}
