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
 * retried commands, so that nothing is delivered twice (at most once); it reconnects
 * for ever with a capped exponential backoff, and leaves resubscribing to the engine.
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
    autoResubscribe: false,
    // Publishes issued in one tick leave in one write.
    enableAutoPipelining: publisher,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), max),
  });
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
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
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
