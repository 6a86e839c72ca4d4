/**
 * The options of `RedisEngine`, checked once: defaults, then `TypeError` (wrong type)
 * or `RangeError` (out of range) naming the option.
 *
 * @module
 */

/**
 * Options of `RedisEngine`.
 *
 * @example
 * ```ts
 * import type { RedisEngineOptions } from "./redis.ts";
 * const options: RedisEngineOptions = { url: "redis://127.0.0.1:6379", prefix: "chat:" };
 * ```
 */
export interface RedisEngineOptions {
  /** Where Redis listens: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. @default {"redis://127.0.0.1:6379"} */
  readonly url?: string;
  /** Prepended to every channel (`prefix + topic`) and key of the engine. @default {"wsx:"} */
  readonly prefix?: string;
  /**
   * Called with every error of the engine (lost connection, failed publish, bad
   * message); it never throws into wsx. @default {console.error, once per distinct
   * error until the connection is back}
   */
  readonly onError?: (error: Error) => void;
  /** How often this process writes its connection count to Redis, in ms (100 to 60000). @default {2000} */
  readonly countIntervalMs?: number;
  /** How long `start()` waits for Redis before it fails, in ms (100 to 600000). @default {10000} */
  readonly connectTimeoutMs?: number;
  /**
   * Longest pause between two reconnection attempts, in ms (10 to 60000); each pause is
   * drawn between half of it and all of it, so that processes do not reconnect in step.
   * @default {100}
   */
  readonly reconnectMaxDelayMs?: number;
  /**
   * Most bytes of publishes sent to Redis and not yet acknowledged (1024 to 2^31); a
   * publish beyond it is dropped and reported through `onError`, so that a slow or hung
   * Redis never makes the process buffer without bound. @default {16777216}
   */
  readonly maxPendingBytes?: number;
  /**
   * How long Redis may leave a command unanswered, in ms (100 to 60000): past it the
   * connection counts as hung and is rebuilt (its unacknowledged publishes are reported as
   * possibly lost), and `clusterCount()` rejects. An idle connection is pinged every half
   * of it. @default {2000}
   */
  readonly timeoutMs?: number;
  /**
   * The envelope version this process writes (1 or 2). Version 2 numbers each process's
   * messages per topic, so that receivers report gaps; every reader accepts both. Write 1
   * only while processes of a wsx that reads version 1 alone still run. @default {2}
   */
  readonly envelopeVersion?: 1 | 2;
}

/** The options with defaults applied. */
export interface CheckedRedisOptions {
  readonly url: string;
  readonly prefix: string;
  readonly onError: (error: Error) => void;
  readonly countIntervalMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly maxPendingBytes: number;
  readonly timeoutMs: number;
  readonly envelopeVersion: 1 | 2;
}

function integer(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  unit = "milliseconds",
): number {
  const v = value ?? fallback;
  if (typeof v !== "number") {
    throw new TypeError(`Invalid "${name}": expected a number of ${unit}, got ${typeof v}`);
  }
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`Invalid "${name}": expected an integer from ${min} to ${max}, got ${v}`);
  }
  return v;
}

function checkUrl(value: unknown): string {
  const url = value ?? "redis://127.0.0.1:6379";
  if (typeof url !== "string") {
    throw new TypeError(`Invalid "url": expected a string, got ${typeof url}`);
  }
  let protocol = "";
  try {
    protocol = new URL(url).protocol;
  } catch {
    // Reported below.
  }
  if (protocol !== "redis:" && protocol !== "rediss:") {
    throw new TypeError(`Invalid "url": expected a redis:// or rediss:// URL, got "${url}"`);
  }
  return url;
}

function checkVersion(value: unknown): 1 | 2 {
  const v = value ?? 2;
  if (v !== 1 && v !== 2) {
    const got = typeof v === "number" ? String(v) : typeof v;
    throw new RangeError(`Invalid "envelopeVersion": expected 1 or 2, got ${got}`);
  }
  return v;
}

/**
 * A reporter that writes each distinct error once (by name and message) until
 * `reset()`, so that a Redis outage logs one line, not one per reconnection attempt.
 */
export function reportOnce(): { report: (error: Error) => void; reset: () => void } {
  const seen = new Set<string>();
  return {
    report(error) {
      const key = `${error.name}: ${error.message}`;
      if (seen.has(key) || seen.size >= 64) return;
      seen.add(key);
      console.error(`wsx redis: ${key}`);
    },
    reset: () => seen.clear(),
  };
}

/**
 * Checks the options and applies the defaults.
 *
 * @param options The options.
 * @param fallbackReporter The `onError` to use when none is given.
 * @returns The checked options, frozen.
 */
export function checkRedisOptions(
  options: RedisEngineOptions,
  fallbackReporter: (error: Error) => void,
): CheckedRedisOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Invalid RedisEngine options: expected an object");
  }
  const prefix = options.prefix ?? "wsx:";
  if (typeof prefix !== "string") {
    throw new TypeError(`Invalid "prefix": expected a string, got ${typeof prefix}`);
  }
  if (prefix.length > 256) {
    throw new RangeError(`Invalid "prefix": expected at most 256 characters, got ${prefix.length}`);
  }
  const onError = options.onError ?? fallbackReporter;
  if (typeof onError !== "function") {
    throw new TypeError(`Invalid "onError": expected a function, got ${typeof onError}`);
  }
  return Object.freeze({
    url: checkUrl(options.url),
    prefix,
    onError,
    countIntervalMs: integer("countIntervalMs", options.countIntervalMs, 2000, 100, 60_000),
    connectTimeoutMs: integer("connectTimeoutMs", options.connectTimeoutMs, 10_000, 100, 600_000),
    reconnectMaxDelayMs: integer(
      "reconnectMaxDelayMs",
      options.reconnectMaxDelayMs,
      100,
      10,
      60_000,
    ),
    maxPendingBytes: integer(
      "maxPendingBytes",
      options.maxPendingBytes,
      16 << 20,
      1024,
      2 ** 31,
      "bytes",
    ),
    timeoutMs: integer("timeoutMs", options.timeoutMs, 2000, 100, 60_000),
    envelopeVersion: checkVersion(options.envelopeVersion),
  });
}
