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

// "listen": the engine on Bun.listen (a prototype, src/adapters/bun_listen.ts).
const listen = process.env.WSX_TRANSPORT === "listen";
const transport = listen
  ? undefined
  : (process.env.WSX_TRANSPORT || undefined) as ServeTransport | undefined;
const start = listen ? (await import("../../src/adapters/bun_listen.ts")).serveListen : serve;
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
