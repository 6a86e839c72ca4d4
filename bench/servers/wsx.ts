/**
 * The wsx echo server on Node.js: wsx's own RFC 6455 engine behind `node:http`.
 *
 * @module
 */

import { type UpgradeSettings, Websocket } from "../../mod.ts";
import { serve } from "../../src/adapters/node.ts";
import { control } from "./_control.ts";

// The pipelined 64 KiB scenario keeps up to 64 messages (4 MiB) in flight per
// connection; the default 4 MiB backlog cap would close connections with 1008 where
// `ws` (which has no cap) just buffers. Echo servers here must not differ in policy.
Websocket.maxBufferedBytes = 64 * 1024 * 1024;
Websocket.maxMsgSize = 1024 * 1024;

// One settings object for every connection, as an application would write it: wsx keeps
// the object it is given, so a literal per request would cost an object and a closure
// per idle connection.
const echo: UpgradeSettings<undefined> = {
  onMessage: (ws, data, isText) => ws.write(data, isText),
};

const server = await serve({
  port: 0,
  hostname: "127.0.0.1",
  onRequest: (req) => Websocket.upgrade(req, echo),
});

control({
  port: server.port,
  info: { server: "wsx" },
  connections: () => server.stats.open,
  stop: () => server.shutdown({ timeoutMs: 1000 }),
});
