/**
 * RedisEngine under Redis faults in a wsx server on Node.js, Bun and Deno (the fixture
 * server, default engine timings): Redis stopped with SIGSTOP while the server floods,
 * killed and restarted while another process publishes, and closing the server's
 * subscriber over its output buffer. The server counts gaps within one subscription; a
 * lost subscription is reported with its topics, and the resubscribe starts anew.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { after, before, describe, test } from "node:test";
import { RedisEngine } from "../../src/pubsub/redis.ts";
import { Client, RedisServer, type Runtime, ServerProcess, sleep, waitFor } from "./_harness.ts";
import { burstEnvelope, publishBurst, withTinyPubsubBuffer } from "./_overflow.ts";

type Loss = { kind: string; count: number; origin?: string; topic?: string; topics?: string[] };
type Stats = {
  stats: {
    pendingPublishes: number;
    acknowledged: number;
    dropped: number;
    possiblyLost: number;
  };
  losses: Loss[];
  mostPending: number;
};

const LIMIT = 1 << 20;

const sum = (losses: Loss[], ...kinds: string[]) =>
  losses.filter((l) => kinds.includes(l.kind)).reduce((n, l) => n + l.count, 0);

/** How many numbers from the first to the last one did not arrive. */
function missing(got: number[]): number {
  return Math.max(...got) - Math.min(...got) + 1 - new Set(got).size;
}

/**
 * One lost subscription naming `topic` (among the server's others); gaps that add up to the numbers missing within
 * the deliveries `before` it and `after` it; none for the numbers lost in between (there
 * must be some: the test shows that they are not counted as gaps).
 */
function assertLossesAcross(losses: Loss[], before: number[], after: number[], topic: string) {
  const lost = losses.filter((l) => l.kind === "subscription-lost");
  assert.equal(lost.length, 1, "one lost subscription");
  assert.ok(lost[0].topics?.includes(topic), `${JSON.stringify(lost[0].topics)} names ${topic}`);
  const between = Math.min(...after) - Math.max(...before) - 1;
  assert.ok(between > 0, `messages were lost between the subscriptions (${between})`);
  assert.ok(losses.filter((l) => l.kind === "gap").every((l) => l.topic === topic));
  assert.equal(
    sum(losses, "gap"),
    missing(before) + missing(after),
    "gaps within each subscription",
  );
}

for (const runtime of ["node", "bun", "deno"] as Runtime[]) {
  describe(`RedisEngine in a ${runtime} server against a failing Redis`, {
    timeout: 120_000,
  }, () => {
    let redis: RedisServer;
    let server: ServerProcess;
    const clients: Client[] = [];
    let other: RedisEngine | undefined;
    before(async () => {
      redis = await RedisServer.start();
      server = await ServerProcess.start(runtime, {
        REDIS_URL: redis.url,
        WSX_REDIS_DEFAULTS: "1",
        WSX_MAX_PENDING: String(LIMIT),
      });
    });
    after(async () => {
      redis?.signal("SIGCONT");
      for (const client of clients) client.close();
      await other?.close();
      await server?.stop();
      await redis?.stop();
    });

    const stats = async () => await server.get("/stats") as unknown as Stats;
    const connect = async () => {
      const client = await Client.connect(server.url());
      clients.push(client);
      return client;
    };

    test("SIGSTOP while it publishes 2,500 msg/s of 4 KiB: bounded, reported, settled", async (t) => {
      const [flooder, counter] = [await connect(), await connect()];
      // 3 s: past the rebuild of the publishing connection (2 to 2.25 s after SIGSTOP).
      flooder.ws.send("flood f 3000");
      await sleep(500);
      redis.signal("SIGSTOP");
      try {
        await hung(flooder, counter, t);
      } catch (error) {
        if (!server.running) throw new Error(`The server exited:\n${server.stderr}`);
        throw error;
      } finally {
        redis.signal("SIGCONT");
      }
    });

    async function hung(flooder: Client, counter: Client, t: { diagnostic(s: string): void }) {
      await sleep(500);
      const t0 = performance.now();
      const counted = await counter.ask("ccount");
      const countMs = performance.now() - t0;
      assert.match(counted, /^ccount:error:.*did not answer within 2000 ms/);
      assert.ok(countMs < 3000, `clusterCount took ${countMs} ms`);
      const n = Number((await flooder.next(10_000)).data.toString().slice(6));
      // Every publish settles while Redis is still stopped.
      const settled = await waitFor(
        async () => {
          const s = await stats();
          return s.stats.pendingPublishes === 0 ? s : undefined;
        },
        3000,
        "publishes to settle",
      );
      const { acknowledged, dropped, possiblyLost } = settled.stats;
      t.diagnostic(JSON.stringify({ n, ...settled.stats, mostPending: settled.mostPending }));
      assert.equal(acknowledged + dropped + possiblyLost, n);
      assert.ok(settled.mostPending <= LIMIT, `${settled.mostPending} bytes pending`);
      assert.ok(dropped > 0);
      await sleep(1100);
      const { losses } = await stats();
      assert.equal(sum(losses, "over-limit", "not-connected"), dropped);
      assert.equal(sum(losses, "possibly-lost"), possiblyLost);
    }

    test("Redis killed and restarted: delivery resumes within 250 ms of Redis accepting", async (t) => {
      const receiver = await connect();
      assert.equal(await receiver.ask("sub f"), "sub:true");
      await redis.waitNumsub("wsx:f", 1);
      const arrivals: [number, number][] = [];
      receiver.ws.on("message", (data: Buffer) => {
        arrivals.push([performance.now(), Number(data.toString().split("|")[0])]);
      });
      other = new RedisEngine({ url: redis.url, onError: () => {} });
      await other.start(() => {});
      let n = 0;
      let publishing = true;
      const loop = (async () => {
        while (publishing) {
          other!.publish({ topic: "f", data: `${++n}|`, isText: true, origin: "proc-f" });
          await sleep(2);
        }
      })();
      await sleep(300);
      const lostBefore = (await stats()).losses.length;
      await redis.kill();
      // Long enough for the backoff to reach its cap (20 + 40 + 80 + 100 ms at most).
      await sleep(800);
      // The subscription is reported lost by now: what arrived so far came through it.
      await waitFor(
        async () =>
          (await stats()).losses.slice(lostBefore).some((l) => l.kind === "subscription-lost") ||
          undefined,
        3000,
        "the lost subscription",
      );
      const before = arrivals.length;
      const accepted = await redis.startTimed();
      const [first] = await waitFor(() => arrivals[before], 5000, "a delivery after restart");
      publishing = false;
      await loop;
      const resumeMs = first - accepted;
      t.diagnostic(`delivery resumed ${resumeMs.toFixed(1)} ms after Redis accepted`);
      assert.ok(resumeMs < 250, `resumed after ${resumeMs} ms`);
      await sleep(1100);
      const got = arrivals.map(([, i]) => i);
      assert.equal(new Set(got).size, got.length, "nothing delivered twice");
      const losses = (await stats()).losses.slice(lostBefore);
      assertLossesAcross(losses, got.slice(0, before), got.slice(before), "f");
    });

    test("Redis closes its subscriber over the output buffer: the lost subscription is reported with its topic", async () => {
      const receiver = await connect();
      assert.equal(await receiver.ask("sub o"), "sub:true");
      await redis.waitNumsub("wsx:o", 1);
      const client = redis.client();
      await withTinyPubsubBuffer(client, async () => {
        const envelope = (seq: number) => burstEnvelope("o", seq);
        await client.publish("wsx:o", envelope(1));
        assert.match((await receiver.next()).data.toString(), /^1\|/);
        const lostBefore = (await stats()).losses.length;
        await publishBurst(client, "wsx:o", "o", 2, 400);
        await waitFor(
          async () =>
            (await stats()).losses.slice(lostBefore).some((l) => l.kind === "subscription-lost") ||
            undefined,
          5000,
          "the lost subscription",
        );
        await redis.waitNumsub("wsx:o", 1);
        await client.publish("wsx:o", envelope(402));
        const got = [1];
        for (;;) {
          const i = Number((await receiver.next()).data.toString().split("|")[0]);
          got.push(i);
          if (i === 402) break;
        }
        await sleep(1100);
        assert.ok(got.length < 402, "Redis dropped part of the burst");
        const losses = (await stats()).losses.slice(lostBefore);
        assertLossesAcross(losses, got.slice(0, -1), [402], "o");
        assert.equal(sum(losses, "gap"), 0, "Redis cut the burst's tail: no gap within");
      });
    });
  });
}
