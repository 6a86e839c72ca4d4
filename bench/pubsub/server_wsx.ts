/**
 * The wsx side of the pub/sub benchmark, on Node.js: receivers connect to `/` (or to
 * `/sub`, which subscribes them to the topic "bench"), and stdin lines make it send:
 *
 *   broadcast M B   M messages with broadcast(), B of them per event-loop turn
 *   publish M B     M messages with publish("bench"), B per turn
 *
 * Each prints one JSON line when its loop is done. With `REDIS_URL` the topics go
 * through a RedisEngine.
 *
 * @module
 */

import { createInterface } from "node:readline";
import { broadcast, publish, setPubSubEngine, Websocket } from "../../mod.ts";
import { serve } from "../../src/adapters/node.ts";
import { RedisEngine } from "../../src/pubsub/redis.ts";
import { MESSAGE } from "./message.mjs";

// Idle receivers between rounds must not be pinged or closed.
Websocket.timeout = 0;
Websocket.maxBufferedBytes = 256 * 1024 * 1024;

if (process.env.REDIS_URL) {
  await setPubSubEngine(new RedisEngine({ url: process.env.REDIS_URL }));
}

const server = await serve({
  port: 0,
  hostname: "127.0.0.1",
  onRequest: (request) =>
    Websocket.upgrade(request, {
      onOpen: new URL(request.url).pathname === "/sub"
        ? (ws) => void ws.subscribe("bench")
        : undefined,
    }),
});

/** Runs `send` M times, B per event-loop turn, then reports. */
function run(name: string, total: number, perTurn: number, send: () => void): void {
  const t0 = performance.now();
  let done = 0;
  const turn = () => {
    for (let i = 0; i < perTurn && done < total; i++, done++) send();
    if (done < total) return void setImmediate(turn);
    const ms = performance.now() - t0;
    console.log(JSON.stringify({ event: "sent", name, total, ms, open: server.stats.open }));
  };
  turn();
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, m = "1", b = "1"] = line.split(" ");
  const total = Number(m);
  const perTurn = Number(b);
  if (command === "broadcast") run(command, total, perTurn, () => broadcast(null, MESSAGE));
  else if (command === "publish") run(command, total, perTurn, () => publish("bench", MESSAGE));
  else if (command === "quit") process.exit(0);
}).on("close", () => process.exit(0));

console.log(JSON.stringify({ event: "ready", server: "wsx", port: server.port, pid: process.pid }));
