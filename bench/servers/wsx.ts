/**
 * The wsx echo server on any runtime: `serve()` from `src/serve.ts`, the runtime's
 * default (wsx's engine on Node.js and Deno, Bun's native server on Bun), or the
 * transport named by `WSX_TRANSPORT` (`engine` or `native`).
 *
 * @module
 */

import process from "node:process";
import { broadcast, type UpgradeSettings, Websocket } from "../../mod.ts";
import { serve, type ServeTransport } from "../../src/serve.ts";
import { control } from "./_control.ts";

// The pipelined 64 KiB scenario keeps up to 16 messages (1 MiB) in flight per
// connection, and the other servers have no cap of this kind: echo servers here must not
// differ in policy, so the backlog cap stays far above what any scenario queues.
Websocket.maxBufferedBytes = 64 * 1024 * 1024;
Websocket.maxMsgSize = 1024 * 1024;
// Idle connections (held for memory, broadcast receivers) must not be pinged or closed.
Websocket.timeout = 0;

// One settings object for every connection, as an application would write it: wsx keeps
// the object it is given, so a literal per request would cost an object and a closure
// per idle connection.
const echo: UpgradeSettings<undefined> = {
  onMessage: (ws, data, isText) => ws.write(data, isText),
};

// "listen": the engine on Bun.listen called directly (src/adapters/bun_listen.ts, what
// "engine" runs on Bun); "nodehttp": the engine over the runtime's node:http
// (src/adapters/node.ts), which "engine" ran on Bun before it moved to Bun.listen.
const chosen = process.env.WSX_TRANSPORT;
const transport = chosen === "listen" || chosen === "nodehttp"
  ? undefined
  : (chosen || undefined) as ServeTransport | undefined;
const start = chosen === "listen"
  ? (await import("../../src/adapters/bun_listen.ts")).serveListen
  : chosen === "nodehttp"
  ? (await import("../../src/adapters/node.ts")).serve
  : serve;
const server = await start({
  port: 0,
  hostname: "127.0.0.1",
  transport,
  onRequest: (req) => Websocket.upgrade(req, echo),
});

control({
  port: server.port,
  info: { server: "wsx", transport: server.transport },
  connections: () => server.stats.open,
  stop: () => server.shutdown({ timeoutMs: 1000 }),
  broadcast: (message) => void broadcast(null, message),
});
