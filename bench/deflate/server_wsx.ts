// The wsx engine with permessage-deflate (BENCH_PMD: JSON options, default `true`).
import process from "node:process";
import { broadcast, type UpgradeSettings, Websocket } from "../../mod.ts";
import { serve } from "../../src/adapters/node.ts";
import { control } from "./_control.mjs";
import { message } from "./_message.mjs";

Websocket.maxBufferedBytes = 64 * 1024 * 1024;
Websocket.perMessageDeflate = JSON.parse(process.env.BENCH_PMD ?? "true");
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
  count: () => server.stats.open,
  broadcast: (i: number) => broadcast(null, message(i)),
});
