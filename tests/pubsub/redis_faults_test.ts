/**
 * RedisEngine when Redis misbehaves, against a real redis-server: stopped (SIGSTOP: a
 * hung server whose connections stay open), killed and restarted, and closing a
 * subscriber that reads too slowly. Two engines in one process stand for two processes:
 * the publisher's messages carry an origin of their own, so the receiver takes them as
 * another process's.
 *
 * The receiver counts gaps within one subscription: each lost subscription is reported
 * with its topics, and the resubscribe starts a new baseline, so the messages lost in
 * between are not gaps. The tests therefore note for each delivery how many
 * subscriptions were lost before it (its "subscription"), and compare the gaps reported
 * with the numbers missing within each subscription. Closing an engine reports what its
 * loss window has summed so far, so the tests close the engines instead of waiting for
 * the window to end.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, before, describe, test } from "node:test";
import type { PubSubMessage } from "../../src/core/topics.ts";
import { encodeEnvelope } from "../../src/pubsub/_envelope.ts";
import {
  RedisEngine,
  type RedisEngineOptions,
  RedisLossError,
  type RedisLossKind,
} from "../../src/pubsub/redis.ts";
import { RedisServer, sleep, waitFor } from "./_harness.ts";
import { burstEnvelope, publishBurst, withTinyPubsubBuffer } from "./_overflow.ts";

const KIB4 = "x".repeat(4096 - 12);

describe("RedisEngine against a failing Redis", { timeout: 90_000 }, () => {
  let redis: RedisServer;
  const engines: RedisEngine[] = [];
  before(async () => redis = await RedisServer.start());
  after(async () => {
    redis?.signal("SIGCONT");
    await Promise.all(engines.map((engine) => engine.close()));
    await redis?.stop();
  });

  /**
   * A started engine with the default timings, its deliveries, and its errors; for each
   * delivery, when it came and how many subscriptions had been lost before it.
   */
  async function started(options: RedisEngineOptions = {}) {
    const delivered: PubSubMessage[] = [];
    const times: number[] = []; // performance.now() of each delivery
    const subscriptions: number[] = [];
    const errors: Error[] = [];
    const errorTimes: number[] = []; // performance.now() of each error
    let lost = 0;
    const engine = new RedisEngine({
      url: redis.url,
      onError: (error) => {
        errors.push(error);
        errorTimes.push(performance.now());
        if (error instanceof RedisLossError && error.kind === "subscription-lost") lost++;
      },
      ...options,
    });
    engines.push(engine);
    await engine.start((message) => {
      delivered.push(message);
      times.push(performance.now());
      subscriptions.push(lost);
    });
    return { engine, delivered, times, subscriptions, errors, errorTimes };
  }

  const losses = (errors: Error[], kind: RedisLossKind) =>
    errors.filter((e): e is RedisLossError => e instanceof RedisLossError && e.kind === kind);
  const sum = (errors: RedisLossError[]) => errors.reduce((n, e) => n + e.count, 0);
  /** The number the test put first in a payload (`"<n>|..."`). */
  const numberOf = (message: PubSubMessage) => Number(String(message.data).split("|")[0]);
  /** The numbers of `origin`'s deliveries. */
  const numbers = (delivered: PubSubMessage[], origin: string) =>
    delivered.filter((m) => m.origin === origin).map(numberOf);
  /** How many numbers from the first to the last delivered one did not arrive. */
  function missing(got: number[]): number {
    if (got.length === 0) return 0;
    const seen = new Set(got);
    return Math.max(...got) - Math.min(...got) + 1 - seen.size;
  }
  /** `origin`'s numbers, one list per subscription (index: subscriptions lost before). */
  function bySubscription(
    delivered: PubSubMessage[],
    subscriptions: number[],
    origin: string,
  ): number[][] {
    const lists: number[][] = [];
    delivered.forEach((message, i) => {
      if (message.origin === origin) (lists[subscriptions[i]] ??= []).push(numberOf(message));
    });
    return lists;
  }
  /**
   * What a receiver must report after a lost subscription: one `"subscription-lost"`
   * naming `topic`, gaps that add up to the numbers missing within each subscription, and
   * no gap for the numbers lost between the two (there must be some: the test shows that
   * they are not counted).
   */
  function assertLossesAcross(
    errors: Error[],
    lists: number[][],
    origin: string,
    topic: string,
  ): void {
    const [lost, ...more] = losses(errors, "subscription-lost");
    assert.equal(more.length, 0, "one lost subscription");
    assert.deepEqual(lost.topics, [topic]);
    assert.match(lost.message, /may have been lost, from the last one received until/);
    assert.equal(lists.length, 2, "deliveries before and after the lost subscription");
    const [before, after] = lists;
    const between = Math.min(...after) - Math.max(...before) - 1;
    assert.ok(between > 0, `messages were lost between the subscriptions (${between})`);
    const gaps = losses(errors, "gap");
    assert.ok(gaps.every((e) => e.origin === origin && e.topic === topic));
    assert.equal(sum(gaps), missing(before) + missing(after), "gaps within each subscription");
  }

  test("pendingBytes counts each unacknowledged publish, envelope and channel in bytes", async () => {
    const { engine: pub } = await started({ prefix: "b\u00e9:" });
    const message = {
      topic: "caf\u00e9 \u{1f600}",
      data: "x".repeat(100),
      isText: true,
      origin: "b",
    };
    redis.signal("SIGSTOP");
    try {
      pub.publish(message);
      pub.publish(message);
      const one = encodeEnvelope(message, 1).length + Buffer.byteLength(`b\u00e9:${message.topic}`);
      assert.deepEqual(
        [pub.stats.pendingPublishes, pub.stats.pendingBytes],
        [2, 2 * one],
        "UTF-8 bytes, not UTF-16 code units",
      );
    } finally {
      redis.signal("SIGCONT");
    }
    await waitFor(() => pub.stats.acknowledged === 2 || undefined, 3000, "the acknowledgements");
    assert.equal(pub.stats.pendingBytes, 0);
  });

  test("a hung Redis: pending bytes stay bounded, drops are reported, publishes and clusterCount settle", async (t) => {
    const limit = 1 << 20;
    const { engine: pub, errors, errorTimes } = await started({
      prefix: "h:",
      maxPendingBytes: limit,
    });
    const { engine: sub, delivered, subscriptions, errors: subErrors } = await started({
      prefix: "h:",
    });
    await sub.subscribe("t");
    let n = 0;
    let maxPending = 0;
    // 2,500 messages of 4 KiB a second: 25 every 10 ms, for `ms` and then while `more()`.
    const publishFor = async (ms: number, more = () => false) => {
      const end = Date.now() + ms;
      while (Date.now() < end || more()) {
        for (let i = 0; i < 25; i++) {
          pub.publish({ topic: "t", data: `${++n}|${KIB4}`, isText: true, origin: "proc-p" });
        }
        maxPending = Math.max(maxPending, pub.stats.pendingBytes);
        await sleep(10);
      }
    };
    await publishFor(500);
    redis.signal("SIGSTOP");
    const t0 = performance.now();
    const counted = pub.count().then(
      () => "resolved",
      (e: Error) => `${e.message} after ${(performance.now() - t0).toFixed(0)} ms`,
    );
    await publishFor(3000);
    const countOutcome = await counted;
    t.diagnostic(`clusterCount: ${countOutcome}`);
    assert.match(countOutcome, /Redis did not answer within 2000 ms after \d+ ms/);
    assert.ok(Number(countOutcome.match(/after (\d+) ms/)![1]) < 3000);
    // Every publish settles while Redis is still stopped: acknowledged, dropped or lost.
    await waitFor(() => pub.stats.pendingPublishes === 0 || undefined, 3000, "publishes to settle");
    const stats = pub.stats;
    const settledMs = performance.now() - t0;
    t.diagnostic(`settled ${settledMs.toFixed(0)} ms after SIGSTOP; max pending ${maxPending} B`);
    t.diagnostic(JSON.stringify({ published: n, ...stats }));
    assert.ok(settledMs < 7000);
    assert.equal(stats.acknowledged + stats.dropped + stats.possiblyLost, n);
    assert.ok(maxPending <= limit, `pending ${maxPending} > ${limit}`);
    assert.ok(stats.dropped > 0 && stats.possiblyLost > 0, JSON.stringify(stats));
    // What was sent since SIGSTOP waited for Redis until the connection was rebuilt, which
    // failed all of it at once: the first "possibly-lost" report is when the oldest settled.
    const oldestMs = errorTimes[errors.indexOf(losses(errors, "possibly-lost")[0])] - t0;
    t.diagnostic(`publishes waiting since SIGSTOP settled ${oldestMs.toFixed(0)} ms after it`);
    assert.ok(oldestMs < 3000, `the oldest publish waited ${oldestMs} ms`);
    await sleep(1100); // the loss window ends: the sums are reported
    const dropped = [...losses(errors, "over-limit"), ...losses(errors, "not-connected")];
    assert.equal(sum(dropped), stats.dropped, "every drop reported, with how many");
    assert.equal(sum(losses(errors, "possibly-lost")), stats.possiblyLost);
    assert.ok(dropped.length < 20, `${dropped.length} reports: summed, not one per message`);
    // The idle subscriber is pinged after 1 s of silence and rebuilt 2 s later.
    await waitFor(() => losses(subErrors, "subscription-lost")[0], 3000, "the idle subscriber");
    assert.equal(losses(subErrors, "subscription-lost").length, 1);
    redis.signal("SIGCONT");
    const before = n;
    const resumed = () => numbers(delivered, "proc-p").some((i) => i > before);
    const sigcont = Date.now();
    // Until deliveries resume (bounded: 3 s), then 300 ms more.
    await publishFor(0, () => !resumed() && Date.now() - sigcont < 3000);
    assert.ok(resumed(), "deliveries resume after SIGCONT");
    await publishFor(300);
    await sleep(100); // what is in flight arrives
    await sub.close(); // it reports what its loss window has summed so far
    const got = numbers(delivered, "proc-p");
    assert.equal(new Set(got).size, got.length, "nothing delivered twice");
    assertLossesAcross(
      subErrors,
      bySubscription(delivered, subscriptions, "proc-p"),
      "proc-p",
      "t",
    );
  });

  test("Redis killed and restarted: delivery resumes within 250 ms of Redis accepting again", async (t) => {
    const { engine: pub, errors: pubErrors } = await started({ prefix: "k:" });
    const { engine: sub, delivered, times, subscriptions, errors } = await started({
      prefix: "k:",
    });
    await sub.subscribe("t");
    let n = 0;
    let publishing = true;
    const loop = (async () => {
      while (publishing) {
        pub.publish({ topic: "t", data: `${++n}|`, isText: true, origin: "proc-k" });
        await sleep(2);
      }
    })();
    await sleep(300);
    await redis.kill();
    // Long enough for the backoff to reach its cap (20 + 40 + 80 + 100 ms at most).
    await sleep(800);
    const before = delivered.length;
    const accepted = await redis.startTimed();
    const first = await waitFor(() => times[before], 5000, "a delivery after the restart");
    publishing = false;
    await loop;
    const resumeMs = first - accepted;
    t.diagnostic(`delivery resumed ${resumeMs.toFixed(1)} ms after Redis accepted`);
    assert.ok(resumeMs < 250, `delivery resumed ${resumeMs.toFixed(0)} ms after Redis accepted`);
    const got = numbers(delivered, "proc-k");
    assert.equal(new Set(got).size, got.length, "nothing delivered twice");
    await waitFor(() => pub.stats.pendingPublishes === 0 || undefined, 3000, "publishes to settle");
    await Promise.all([pub.close(), sub.close()]); // they report what their loss windows summed
    assertLossesAcross(errors, bySubscription(delivered, subscriptions, "proc-k"), "proc-k", "t");
    // Every publish is accounted for: acknowledged, or dropped or possibly lost and reported.
    const { acknowledged, dropped, possiblyLost } = pub.stats;
    t.diagnostic(JSON.stringify({ published: n, acknowledged, dropped, possiblyLost }));
    assert.equal(acknowledged + dropped + possiblyLost, n);
    const lost = [...losses(pubErrors, "not-connected"), ...losses(pubErrors, "over-limit")];
    assert.equal(sum(lost), dropped);
    assert.equal(sum(losses(pubErrors, "possibly-lost")), possiblyLost);
  });

  test("a subscriber Redis closes for its output buffer: the lost subscription is reported with its topic", async (t) => {
    const { engine: sub, delivered, subscriptions, errors } = await started({ prefix: "o:" });
    await sub.subscribe("t");
    const client = redis.client();
    await withTinyPubsubBuffer(client, async () => {
      const envelope = (seq: number) => burstEnvelope("t", seq);
      await client.publish("o:t", envelope(1));
      await waitFor(() => delivered[0], 5000, "the first message");
      // 400 KiB in one script: far past the 64 KiB hard limit before Redis writes a byte.
      await publishBurst(client, "o:t", "t", 2, 400);
      await waitFor(() => losses(errors, "subscription-lost")[0], 5000, "the lost subscription");
      await redis.waitNumsub("o:t", 1);
      await client.publish("o:t", envelope(402));
      await waitFor(() => delivered.find((m) => String(m.data).startsWith("402|")), 5000, "402");
      await sub.close(); // it reports what its loss window has summed so far
      const got = numbers(delivered, "burst");
      assert.ok(got.length < 402, "Redis dropped part of the burst");
      t.diagnostic(`delivered ${got.length} of 402`);
      const lists = bySubscription(delivered, subscriptions, "burst");
      assert.deepEqual(lists[1], [402], "402 came through the new subscription");
      assertLossesAcross(errors, lists, "burst", "t");
      assert.equal(sum(losses(errors, "gap")), 0, "Redis cut the burst's tail: no gap within");
    });
  });
});
