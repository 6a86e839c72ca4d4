/**
 * The server of the pub/sub tests, the same file on Deno, Bun and Node: a wsx server
 * whose topics go through a `RedisEngine` (`REDIS_URL`), on `WSX_PROCESSES` processes
 * (default 1), with the transport `WSX_TRANSPORT` (the runtime's default). The first process prints `READY {"port":N,...}` once every process
 * listens; every process prints `SHUTDOWN {...}` when its server has shut down.
 *
 * `/ws` upgrades; its text commands: `sub t`, `unsub t`, `pub t text`, `pubbin t` (every
 * byte value, 1024 bytes), `who` (this process), `count`, `ccount` (cluster-wide, or
 * `ccount:error:<message>`), `flood t ms` (publishes 2,500 messages of 4 KiB a second
 * for `ms`, numbered `"<n>|"`, then answers `flood:<n>`).
 * HTTP: `/who`, `/ccount`, `/stats` (the engine's stats, its losses, the most bytes ever
 * pending), `/shutdown`.
 *
 * `WSX_REDIS_DEFAULTS=1` leaves the engine's timings at their defaults;
 * `WSX_MAX_PENDING` sets `maxPendingBytes`.
 *
 * @module
 */

import {
  clusterCount,
  count,
  InProcessEngine,
  setErrorReporter,
  setPubSubEngine,
  Websocket,
  type WebSocketConnection,
} from "../../mod.ts";
import { RedisEngine, RedisLossError } from "../../src/pubsub/redis.ts";
import { serve } from "../../src/serve.ts";

const env = (name: string) =>
  (globalThis as { process?: { env: Record<string, string> } }).process?.env[name];
const print = (line: string) => console.log(line);
const pid = (globalThis as { process?: { pid: number } }).process?.pid ?? 0;

setErrorReporter(() => {});
const errors: string[] = [];
const losses: {
  kind: string;
  count: number;
  origin?: string;
  topic?: string;
  topics?: readonly string[];
}[] = [];
const defaults = env("WSX_REDIS_DEFAULTS") === "1";
const maxPending = env("WSX_MAX_PENDING");
const engine = new RedisEngine({
  url: env("REDIS_URL"),
  countIntervalMs: Number(env("WSX_COUNT_MS") ?? 200),
  ...(defaults ? {} : { reconnectMaxDelayMs: 200 }),
  ...(maxPending ? { maxPendingBytes: Number(maxPending) } : {}),
  onError: (error) => {
    errors.push(error.message);
    if (error instanceof RedisLossError) {
      const { kind, count, origin, topic, topics } = error;
      losses.push({ kind, count, origin, topic, topics });
    }
  },
});
await setPubSubEngine(engine);
let mostPending = 0;

const KIB4 = "x".repeat(4096 - 12);

// 25 messages every 10 ms (2,500 a second) for `ms`; the most pending bytes are noted.
async function flood(ws: WebSocketConnection, topic: string, ms: number): Promise<void> {
  let n = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (let i = 0; i < 25; i++) ws.publish(topic, `${++n}|${KIB4}`);
    mostPending = Math.max(mostPending, engine.stats.pendingBytes);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  ws.write(`flood:${n}`);
}

/** 1024 bytes, every byte value four times: binary payloads must pass intact. */
const BINARY = Uint8Array.from({ length: 1024 }, (_, i) => i & 255);

async function command(ws: WebSocketConnection, text: string): Promise<void> {
  const [name, arg = "", ...rest] = text.split(" ");
  switch (name) {
    case "sub":
      return void ws.write(`sub:${ws.subscribe(arg)}`);
    case "unsub":
      return void ws.write(`unsub:${ws.unsubscribe(arg)}`);
    case "pub":
      return void ws.publish(arg, rest.join(" "));
    case "pubbin":
      return void ws.publish(arg, BINARY);
    case "who":
      return void ws.write(`who:${pid}`);
    case "count":
      return void ws.write(`count:${count()}`);
    case "ccount":
      return void ws.write(
        `ccount:${await clusterCount().catch((e: Error) => `error:${e.message}`)}`,
      );
    case "flood":
      return void flood(ws, arg, Number(rest[0]));
  }
  ws.write(`unknown:${name}`);
}

const server = await serve({
  port: Number(env("PORT") ?? 0),
  hostname: "127.0.0.1",
  processes: Number(env("WSX_PROCESSES") ?? 1),
  transport: (env("WSX_TRANSPORT") || undefined) as "engine" | "native" | undefined,
  shutdownOnSignals: { timeoutMs: 2000 },
  async onRequest(request) {
    const url = new URL(request.url);
    const json = (body: unknown) => Response.json(body);
    switch (url.pathname) {
      case "/ws":
        return Websocket.upgrade(request, {
          onMessage: (ws, data) => command(ws, String(data)),
        });
      case "/who":
        return json({ pid, role: server.process.role, index: server.process.index, errors });
      case "/ccount":
        return json({ count: await clusterCount(), local: count() });
      case "/stats":
        return json({ stats: engine.stats, losses, mostPending });
      case "/shutdown":
        stop();
        return json({ ok: true });
    }
    return new Response("Not Found", { status: 404 });
  },
});

// Shuts down (every process, from the first), then lets Redis go so the process can end.
function stop(): void {
  server.shutdown({ timeoutMs: 2000 }).then(async () => {
    await setPubSubEngine(new InProcessEngine());
    print(`SHUTDOWN ${JSON.stringify({ pid, role: server.process.role })}`);
  });
}

if (server.process.role !== "worker") {
  print(`READY ${JSON.stringify({ port: server.port, pid, role: server.process.role })}`);
}
