/**
 * RedisEngine in one Node.js process against a real redis-server: a plain ioredis
 * client plays the other processes.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { after, before, describe, test } from "node:test";
import { PROCESS_ID, type PubSubMessage } from "../../src/core/topics.ts";
import { decodeEnvelope, encodeEnvelope, readEnvelope } from "../../src/pubsub/_envelope.ts";
import { RedisEngine, type RedisEngineOptions, RedisLossError } from "../../src/pubsub/redis.ts";
import { freePort, RedisServer, sleep, waitFor } from "./_harness.ts";

describe("RedisEngine", { timeout: 60_000 }, () => {
  let redis: RedisServer;
  const engines: RedisEngine[] = [];
  before(async () => redis = await RedisServer.start());
  after(async () => {
    await Promise.all(engines.map((engine) => engine.close()));
    await redis?.stop();
  });

  /** A started engine, its deliveries and its errors. */
  async function started(options: RedisEngineOptions = {}) {
    const delivered: PubSubMessage[] = [];
    const errors: Error[] = [];
    const engine = new RedisEngine({
      url: redis.url,
      reconnectMaxDelayMs: 100,
      countIntervalMs: 100,
      onError: (error) => errors.push(error),
      ...options,
    });
    engines.push(engine);
    await engine.start((message) => delivered.push(message));
    return { engine, delivered, errors };
  }

  test("start fails after connectTimeoutMs when no Redis listens, naming the URL", async () => {
    const errors: Error[] = [];
    const url = `redis://127.0.0.1:${await freePort()}`;
    const engine = new RedisEngine({ url, connectTimeoutMs: 300, onError: (e) => errors.push(e) });
    const t0 = Date.now();
    await assert.rejects(
      engine.start(() => {}),
      new RegExp(`Cannot connect to Redis at "${url}/?": not ready after 300 ms`),
    );
    assert.ok(Date.now() - t0 < 3000);
    assert.ok(errors.some((e) => /ECONNREFUSED/.test(e.message)), "the refusals went to onError");
  });

  test("publish delivers in this process at once and sends one envelope through Redis", async () => {
    const { engine, delivered } = await started({ prefix: "p1:" });
    const listener = redis.client().duplicate();
    const heard: Buffer[] = [];
    listener.on("messageBuffer", (_channel: Buffer, bytes: Buffer) => heard.push(bytes));
    await listener.subscribe("p1:news");
    const message = { topic: "news", data: "hello", isText: true, origin: PROCESS_ID, exclude: 3 };
    engine.publish(message);
    assert.deepEqual(delivered, [message], "delivered synchronously, before any round trip");
    await waitFor(() => heard[0], 5000, "the envelope");
    assert.deepEqual(decodeEnvelope(heard[0], "news"), message);
    await sleep(200);
    assert.equal(delivered.length, 1, "its own message is not delivered twice");
    listener.disconnect();
  });

  test("delivers what other processes publish, binary intact, on subscribed topics only", async () => {
    const { engine, delivered } = await started({ prefix: "p2:" });
    await engine.subscribe("news");
    assert.equal(await redis.numsub("p2:news"), 1, "subscribed once Redis confirmed");
    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => i & 255);
    const other = {
      topic: "news",
      data: bytes,
      isText: false,
      origin: "another-process",
      exclude: 9,
    };
    await redis.client().publish("p2:news", encodeEnvelope(other));
    await redis.client().publish("p2:sport", encodeEnvelope({ ...other, topic: "sport" }));
    await waitFor(() => delivered[0], 5000, "the delivery");
    await sleep(200);
    assert.equal(delivered.length, 1, "topic isolation");
    assert.equal(delivered[0].topic, "news");
    assert.equal(delivered[0].origin, "another-process");
    assert.equal(delivered[0].exclude, 9);
    assert.deepEqual([...delivered[0].data as Uint8Array], [...bytes]);
  });

  test("publishes are numbered per topic (envelope version 2); envelopeVersion 1 writes version 1", async () => {
    const { engine } = await started({ prefix: "n:" });
    const { engine: old } = await started({ prefix: "n:", envelopeVersion: 1 });
    const listener = redis.client().duplicate();
    const heard: { topic: string; seq: number | undefined; version: number }[] = [];
    listener.on("messageBuffer", (channel: Buffer, bytes: Buffer) => {
      const topic = channel.toString().slice(2);
      heard.push({ topic, seq: readEnvelope(bytes, topic).seq, version: bytes[0] });
    });
    await listener.subscribe("n:a", "n:b");
    for (const topic of ["a", "a", "b", "a"]) {
      engine.publish({ topic, data: "x", isText: true, origin: PROCESS_ID });
    }
    old.publish({ topic: "a", data: "x", isText: true, origin: PROCESS_ID });
    await waitFor(() => heard[4], 5000, "five envelopes");
    assert.deepEqual(heard, [
      { topic: "a", seq: 1, version: 2 },
      { topic: "a", seq: 2, version: 2 },
      { topic: "b", seq: 1, version: 2 },
      { topic: "a", seq: 3, version: 2 },
      { topic: "a", seq: undefined, version: 1 },
    ]);
    listener.disconnect();
  });

  test("a receiver reports a gap with origin, topic and count; subscribing again starts a new baseline", async () => {
    const { engine, delivered, errors } = await started({ prefix: "g:" });
    await engine.subscribe("t");
    const send = (seq: number | undefined, origin = "other") =>
      redis.client().publish(
        "g:t",
        encodeEnvelope({ topic: "t", data: String(seq), isText: true, origin }, seq),
      );
    for (const seq of [7, 8, 11, 12]) await send(seq);
    await send(undefined); // an older wsx: no numbers, delivered, never a gap
    await send(3, "third"); // another origin: its own baseline
    await waitFor(() => delivered[5], 5000, "six deliveries");
    const gaps = errors.filter((e): e is RedisLossError => e instanceof RedisLossError);
    assert.equal(gaps.length, 1, gaps.map((e) => e.message).join("\n"));
    assert.equal(gaps[0].message, 'Missed 2 messages on topic "t" from process other');
    assert.deepEqual([gaps[0].kind, gaps[0].count, gaps[0].origin, gaps[0].topic], [
      "gap",
      2,
      "other",
      "t",
    ]);
    assert.equal(engine.stats.missed, 2);
    await engine.unsubscribe("t");
    await engine.subscribe("t");
    await send(40);
    await waitFor(() => delivered[6], 5000, "the delivery after subscribing again");
    assert.equal(engine.stats.missed, 2, "no gap across an unsubscribe");
  });

  test("Redis closing the subscriber is reported with its topics; the resubscribe starts a new baseline", async () => {
    const { engine, delivered, errors } = await started({ prefix: "rb:" });
    await engine.subscribe("t");
    await engine.subscribe("u");
    const send = (topic: string, seq: number) =>
      redis.client().publish(
        `rb:${topic}`,
        encodeEnvelope({ topic, data: `${topic}${seq}`, isText: true, origin: "other" }, seq),
      );
    await send("t", 1);
    await send("u", 1);
    await waitFor(() => delivered[1], 5000, "two deliveries");
    // What Redis does to a subscriber over its output buffer: it closes the connection.
    await redis.client().call("CLIENT", "KILL", "TYPE", "pubsub");
    const [lost] = await waitFor(
      () => {
        const found = errors.filter((e) => e instanceof RedisLossError);
        return found.length > 0 ? found as RedisLossError[] : undefined;
      },
      5000,
      "the lost subscription",
    );
    assert.equal(lost.kind, "subscription-lost");
    assert.deepEqual(lost.topics, ["t", "u"]);
    assert.equal(
      lost.message,
      'Lost the Redis subscription to topics "t", "u" (the connection ended): messages on them ' +
        "may have been lost, from the last one received until it is subscribed again",
    );
    await redis.waitNumsub("rb:t", 1);
    await redis.waitNumsub("rb:u", 1);
    // Messages 2 to 9 were published while this process was not subscribed.
    await send("t", 10);
    await send("u", 10);
    await send("t", 12);
    await waitFor(() => delivered[4], 5000, "three deliveries after the resubscribe");
    const losses = errors.filter((e): e is RedisLossError => e instanceof RedisLossError);
    assert.deepEqual(
      losses.map((e) => [e.kind, e.count, e.topic]),
      [["subscription-lost", 0, undefined], ["gap", 1, "t"]],
      "10 is a new baseline; only 11 is a gap",
    );
    assert.deepEqual(
      { missed: engine.stats.missed, subscriptionsLost: engine.stats.subscriptionsLost },
      { missed: 1, subscriptionsLost: 1 },
    );
  });

  test("subscribe and unsubscribe map topics to prefixed channels", async () => {
    const { engine } = await started({ prefix: "app:" });
    await engine.subscribe("room/1");
    await engine.subscribe("room 2");
    assert.deepEqual((await redis.client().pubsub("CHANNELS", "app:*") as string[]).sort(), [
      "app:room 2",
      "app:room/1",
    ]);
    await engine.unsubscribe("room/1");
    assert.deepEqual(await redis.client().pubsub("CHANNELS", "app:*"), ["app:room 2"]);
  });

  test("a message that is not an envelope is reported, not delivered", async () => {
    const { engine, delivered, errors } = await started({ prefix: "p3:" });
    await engine.subscribe("t");
    await redis.client().publish("p3:t", "garbage");
    await waitFor(() => errors[0], 5000, "the report");
    assert.match(errors[0].message, /Cannot decode a pub\/sub message/);
    assert.equal(delivered.length, 0);
  });

  test("count() adds the live counts other processes wrote and leaves out expired ones", async () => {
    const { engine } = await started({ prefix: "p4:" });
    const [seconds] = await redis.client().time();
    const now = Number(seconds) * 1000;
    await redis.client().hset(
      "p4:count",
      "live-a",
      `5:${now + 60_000}`,
      "live-b",
      `2:${now + 60_000}`,
    );
    await redis.client().hset("p4:count", "gone", `100:${now - 1000}`);
    assert.equal(await engine.count(), 7, "0 here, 5 + 2 elsewhere");
    await waitFor(
      async () => (await redis.client().hexists("p4:count", "gone")) === 0 ? true : undefined,
      5000,
      "the expired field to be dropped",
    );
    assert.match(await redis.client().hget("p4:count", PROCESS_ID) ?? "", /^0:\d+$/);
    await engine.close();
    assert.equal(
      await redis.client().hexists("p4:count", PROCESS_ID),
      0,
      "close removes its field",
    );
    await engine.close(); // twice is fine
  });

  test("after Redis restarts it subscribes again; publishes while down are reported lost", async () => {
    const { engine, delivered, errors } = await started({ prefix: "p5:" });
    await engine.subscribe("r");
    await redis.kill();
    await waitFor(
      () => errors.find((e) => /ECONNREFUSED|ECONNRESET|closed/.test(e.message)),
      5000,
      "the outage",
    );
    engine.publish({ topic: "r", data: "while down", isText: true, origin: PROCESS_ID });
    assert.equal(delivered.length, 1, "this process's subscribers still get it");
    assert.ok(errors.some((e) => /message is lost for other processes/.test(e.message)));
    await assert.rejects(engine.count(), /Redis is not connected/);
    await redis.start();
    await redis.waitNumsub("p5:r", 1);
    await redis.client().publish(
      "p5:r",
      encodeEnvelope({ topic: "r", data: "back", isText: true, origin: "other" }),
    );
    await waitFor(() => delivered[1], 5000, "a delivery after the restart");
    assert.equal(delivered[1].data, "back");
    await waitFor(
      async () => (await redis.client().hexists("p5:count", PROCESS_ID)) || undefined,
      5000,
      "the count",
    );
    assert.equal(await engine.count(), 0);
  });
});
