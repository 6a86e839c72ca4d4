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
  /** Longest pause between two reconnection attempts, in ms (10 to 60000). @default {2000} */
  readonly reconnectMaxDelayMs?: number;
}

/** The options with defaults applied. */
export interface CheckedRedisOptions {
  readonly url: string;
  readonly prefix: string;
  readonly onError: (error: Error) => void;
  readonly countIntervalMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMaxDelayMs: number;
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number) {
  const v = value ?? fallback;
  if (typeof v !== "number") {
    throw new TypeError(`Invalid "${name}": expected a number of milliseconds, got ${typeof v}`);
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
      2000,
      10,
      60_000,
    ),
  });
}
