/**
 * The `ioredis` connections of `RedisEngine`: how they are configured, how the engine
 * waits for them and lets them go.
 *
 * @module
 */

import { Redis } from "ioredis";
import type { CheckedRedisOptions } from "./_redis_options.ts";

/** How long closing waits for Redis to acknowledge, in ms. */
export const CLOSE_WAIT_MS = 1000;

/**
 * A connection that is not connected yet (call `connect()`): no offline queue and no
 * retried or resent commands, so that nothing is delivered twice (at most once); it
 * reconnects for ever with a short exponential backoff, capped and jittered (so that
 * delivery resumes soon after Redis is back, and processes do not reconnect in step),
 * and leaves resubscribing to the engine.
 */
export function createClient(
  name: string,
  options: CheckedRedisOptions,
  publisher: boolean,
): Redis {
  const max = options.reconnectMaxDelayMs;
  return new Redis(options.url, {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: options.connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    // Publishes issued in one tick leave in one write. Scripts stay out: a pipeline with
    // one waits for SCRIPT EXISTS before it writes anything, holding the publishes back.
    enableAutoPipelining: publisher,
    autoPipeliningIgnoredCommands: ["eval", "evalsha", "script"],
    retryStrategy: (times) => backoff(times, max),
  });
}

/** The pause before reconnection attempt `times` (from 1): 20, 40, 80 ms... up to `max`, each drawn from its upper half. */
export function backoff(times: number, max: number): number {
  const ceiling = Math.min(max, 10 * 2 ** Math.min(times, 16));
  return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
}

/**
 * Drops a connection at once, even when the peer reads nothing (`quit` and `disconnect`
 * wait for the socket to drain first); ioredis then rejects what it waited for and
 * reconnects.
 */
export function dropConnection(client: Redis): void {
  (client as { stream?: { destroy(): void } }).stream?.destroy();
}

/** The promise's outcome, or a rejection with `message` after `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return settleWithin(promise, ms, () => Promise.reject(new Error(message)));
}

/** Resolves when the connection is ready; rejects after `connectTimeoutMs`. */
export function whenReady(client: Redis, options: CheckedRedisOptions): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off("ready", done);
      reject(
        new Error(
          `Cannot connect to Redis at "${
            redact(options.url)
          }": not ready after ${options.connectTimeoutMs} ms`,
        ),
      );
    }, options.connectTimeoutMs);
    client.once("ready", done);
  });
}

// The URL without its password, for messages.
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

/** The promise's outcome, or undefined after `ms`. */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return settleWithin<T | undefined>(promise, ms, () => Promise.resolve(undefined));
}

// The promise's outcome, or what `late` gives if it has not settled after `ms`.
function settleWithin<T>(promise: Promise<T>, ms: number, late: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => timer = setTimeout(() => resolve(late()), ms));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Closes a connection politely if it can, and stops its reconnecting in any case. */
export async function quit(client: Redis | undefined): Promise<void> {
  if (!client || client.status === "end") return;
  if (client.status === "ready") await bounded(client.quit(), CLOSE_WAIT_MS).catch(() => {});
  client.disconnect();
}

/** Lets a timer not keep the process alive: Node.js and Bun unref objects, Deno ids. */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
  } else if (typeof timer === "number") {
    (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer);
  }
}
