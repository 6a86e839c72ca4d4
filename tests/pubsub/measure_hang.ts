/**
 * Measures a hung Redis (not part of the test suite): a fixture server on the runtime
 * given (`node`, `bun` or `deno`) publishes 2,500 messages of 4 KiB a second through the
 * Redis engine with its default settings while Redis is stopped (SIGSTOP) for 10 s, and
 * a Node.js fixture server receives. Prints the publisher's RSS (Linux `/proc`) before,
 * at most during the stop, and after; its engine stats; and what the receiver got and
 * reported.
 *
 * Run: `node --import tsx tests/pubsub/measure_hang.ts bun`
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import process from "node:process";
import { Client, RedisServer, type Runtime, ServerProcess, sleep } from "./_harness.ts";

const runtime = (process.argv[2] ?? "node") as Runtime;
const STOP_MS = 10_000;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024);
}

const redis = await RedisServer.start();
const env = { REDIS_URL: redis.url, WSX_REDIS_DEFAULTS: "1" };
const [publisher, receiver] = await Promise.all([
  ServerProcess.start(runtime, env),
  ServerProcess.start("node", env),
]);
try {
  const listener = await Client.connect(receiver.url());
  await listener.ask("sub m");
  await redis.waitNumsub("wsx:m", 1);
  const got = new Set<number>();
  listener.ws.on("message", (data: Buffer) => got.add(Number(data.toString().split("|")[0])));
  const flooder = await Client.connect(publisher.url());
  const before = rssMiB(publisher.pid);
  flooder.ws.send(`flood m ${STOP_MS + 4000}`);
  await sleep(2000);
  redis.signal("SIGSTOP");
  let during = before;
  const end = Date.now() + STOP_MS;
  while (Date.now() < end) {
    during = Math.max(during, rssMiB(publisher.pid));
    await sleep(100);
  }
  const stopped = await publisher.get("/stats");
  redis.signal("SIGCONT");
  const published = Number((await flooder.next(30_000)).data.toString().slice(6));
  await sleep(3000);
  const after = rssMiB(publisher.pid);
  const { stats, mostPending } = await publisher.get("/stats");
  const { losses } = await receiver.get("/stats") as { losses: { kind: string; count: number }[] };
  const sum = (kind: string) =>
    losses.filter((l) => l.kind === kind).reduce((n, l) => n + l.count, 0);
  const max = Math.max(...got);
  console.log(JSON.stringify(
    {
      runtime,
      rssMiB: { before, maxDuringStop: during, threeSecondsAfter: after },
      publisher: { published, ...stats as object, mostPending },
      publisherAtEndOfStop: (stopped as { stats: unknown }).stats,
      receiver: {
        delivered: got.size,
        missingUpToLast: max - got.size,
        gapsReported: sum("gap"),
        subscriptionsLost: losses.filter((l) => l.kind === "subscription-lost").length,
      },
    },
    null,
    2,
  ));
  listener.close();
  flooder.close();
} finally {
  redis.signal("SIGCONT");
  await Promise.all([publisher.stop(), receiver.stop()]);
  await redis.stop();
}
