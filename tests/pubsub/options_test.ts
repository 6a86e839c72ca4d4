import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkServeOptions } from "../../src/core/server.ts";
import { reportOnce } from "../../src/pubsub/_redis_options.ts";
import { parseWorker, workerFrom } from "../../src/cluster/worker.ts";
import { RedisEngine, type RedisEngineOptions } from "../../src/pubsub/redis.ts";

const onRequest = () => new Response("");

describe("RedisEngine options", () => {
  const BAD: ReadonlyArray<[unknown, ErrorConstructor, RegExp]> = [
    [{ url: 6379 }, TypeError, /"url": expected a string, got number/],
    [
      { url: "http://127.0.0.1:6379" },
      TypeError,
      /"url": expected a redis:\/\/ or rediss:\/\/ URL/,
    ],
    [{ url: "not a url" }, TypeError, /"url"/],
    [{ prefix: 1 }, TypeError, /"prefix": expected a string/],
    [{ prefix: "p".repeat(257) }, RangeError, /"prefix": expected at most 256 characters/],
    [{ onError: "log" }, TypeError, /"onError": expected a function/],
    [{ countIntervalMs: "2000" }, TypeError, /"countIntervalMs": expected a number/],
    [
      { countIntervalMs: 99 },
      RangeError,
      /"countIntervalMs": expected an integer from 100 to 60000, got 99/,
    ],
    [{ countIntervalMs: 1.5e3 + 0.5 }, RangeError, /"countIntervalMs"/],
    [{ connectTimeoutMs: 0 }, RangeError, /"connectTimeoutMs": expected an integer from 100/],
    [
      { reconnectMaxDelayMs: 60_001 },
      RangeError,
      /"reconnectMaxDelayMs": expected an integer from 10 to 60000/,
    ],
    [{ maxPendingBytes: "1mb" }, TypeError, /"maxPendingBytes": expected a number of bytes/],
    [
      { maxPendingBytes: 1023 },
      RangeError,
      /"maxPendingBytes": expected an integer from 1024 to 2147483648, got 1023/,
    ],
    [{ timeoutMs: 99 }, RangeError, /"timeoutMs": expected an integer from 100 to 60000, got 99/],
    [{ envelopeVersion: 3 }, RangeError, /"envelopeVersion": expected 1 or 2, got 3/],
    [{ envelopeVersion: "2" }, RangeError, /"envelopeVersion": expected 1 or 2, got string/],
    [null, TypeError, /expected an object/],
  ];
  for (const [options, type, message] of BAD) {
    test(`refuses ${JSON.stringify(options)} with a ${type.name} naming the option`, () => {
      assert.throws(() => new RedisEngine(options as RedisEngineOptions), (error: Error) => {
        assert.ok(error instanceof type, `${error.name}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test("accepts the defaults and a full set, without connecting", () => {
    assert.equal(new RedisEngine().prefix, "wsx:");
    const engine = new RedisEngine({
      url: "rediss://user:secret@redis.example:6380/2",
      prefix: "",
      onError: () => {},
      countIntervalMs: 100,
      connectTimeoutMs: 100,
      reconnectMaxDelayMs: 10,
      maxPendingBytes: 2 ** 31,
      timeoutMs: 60_000,
      envelopeVersion: 1,
    });
    assert.equal(engine.prefix, "");
  });

  test("the default error report prints each distinct error once until reset", (t) => {
    const printed: unknown[] = [];
    t.mock.method(console, "error", (line: unknown) => printed.push(line));
    const once = reportOnce();
    once.report(new Error("connect ECONNREFUSED"));
    once.report(new Error("connect ECONNREFUSED"));
    once.report(new TypeError("other"));
    assert.deepEqual(printed, [
      "wsx redis: Error: connect ECONNREFUSED",
      "wsx redis: TypeError: other",
    ]);
    once.reset();
    once.report(new Error("connect ECONNREFUSED"));
    assert.equal(printed.length, 3);
  });
});

describe("serve() processes option", () => {
  for (const processes of [0, 257, 1.5, -1, Number.NaN, "2"]) {
    test(`refuses processes ${JSON.stringify(processes)} with a RangeError naming it`, () => {
      assert.throws(
        () => checkServeOptions({ onRequest, processes: processes as number }),
        (error: Error) =>
          error instanceof RangeError &&
          /"processes": expected an integer from 1 to 256/.test(error.message),
      );
    });
  }

  test("defaults to 1 and takes 1 to 256", () => {
    assert.equal(checkServeOptions({ onRequest }).processes, 1);
    assert.equal(checkServeOptions({ onRequest, processes: 256 }).processes, 256);
  });

  test("a worker reads its place and removes the mark from its environment", () => {
    const env = new Map([["WSX_WORKER", "2/4/8080/39000/tok"]]);
    const access = { get: (n: string) => env.get(n), delete: (n: string) => void env.delete(n) };
    assert.deepEqual(workerFrom(access, 4), {
      role: "worker",
      index: 2,
      processes: 4,
      port: 8080,
      control: 39000,
      token: "tok",
    });
    assert.equal(env.has("WSX_WORKER"), false);
    assert.equal(workerFrom(access, 4), undefined, "the first process has no mark");
  });

  test("a worker mark that does not match the option is refused", () => {
    assert.throws(() => parseWorker("1/2", 4), /does not match "processes": 4/);
    assert.throws(() => parseWorker("0/4", 4), /does not match/);
    assert.throws(() => parseWorker("5/4", 4), /does not match/);
    assert.throws(() => parseWorker("garbage", 4), /does not match/);
  });
});
