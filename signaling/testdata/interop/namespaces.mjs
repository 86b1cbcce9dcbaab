// namespaces.mjs <url>: a static namespace, a dynamic one, a refused one and
// one whose middleware refuses with data, multiplexed on one connection.
import { io, out, deadline, once, fail } from "./lib.mjs";

const [url] = process.argv.slice(2);
deadline(15000);

async function main() {
  const opts = { transports: ["websocket"], reconnection: false };
  const staticNsp = io(url + "/static", opts);
  const dynamic = io(url + "/dyn-42", { ...opts, auth: { k: "v" } });
  const refused = io(url + "/nope", opts);
  const guardedBad = io(url + "/guarded", { ...opts, auth: { token: "bad" } });

  // Listen to everything first: the answers arrive together.
  const hiStatic = once(staticNsp, "hi");
  const hiDynamic = once(dynamic, "hi");
  const refusedErr = once(refused, "connect_error");
  const guardedErr = once(guardedBad, "connect_error");
  out({ ev: "static", args: await hiStatic, id: staticNsp.id });
  out({ ev: "dynamic", args: await hiDynamic });
  const [err] = await refusedErr;
  out({ ev: "refused", message: err.message, active: refused.active });
  const [gerr] = await guardedErr;
  out({ ev: "guarded-refused", message: gerr.message, data: gerr.data });
  // Same namespace again: socket.io-client opens a second connection.
  const guardedOK = io(url + "/guarded", { ...opts, auth: { token: "ok" } });
  await once(guardedOK, "connect");
  out({ ev: "guarded", connected: guardedOK.connected });
  out({ ev: "done", sameManager: staticNsp.io === dynamic.io && dynamic.io === refused.io });
  for (const s of [staticNsp, dynamic, refused, guardedBad, guardedOK]) s.disconnect();
}

main().catch(fail);
