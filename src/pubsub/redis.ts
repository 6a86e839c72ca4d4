/**
 * A pub/sub engine on Redis, so that `publish()` reaches the subscribers of every
 * process (and machine) sharing one Redis server, and `clusterCount()` counts their
 * connections. Built on the `ioredis` client; runs on Node.js, Bun and Deno.
 *
 * Delivery is **at most once**. A message is delivered at once to the subscribers of
 * the process that published it, and sent through Redis to the others; a message
 * published while Redis is unreachable, or while a process is reconnecting, is lost for
 * the other processes (the loss is reported through `onError`), and Redis itself drops
 * messages for subscribers that read too slowly (`client-output-buffer-limit pubsub`).
 * Each receiver gets one publisher's messages in the order they were published; there
 * is no order between publishers. After Redis restarts the engine reconnects and
 * subscribes again by itself.
 *
 * @example Every process of a cluster shares one Redis
 * ```ts ignore
 * import { setPubSubEngine, Websocket } from "@wsx/wsx";
 * import { serve } from "@wsx/wsx/node";
 * import { RedisEngine } from "@wsx/wsx/redis";
 *
 * await setPubSubEngine(new RedisEngine({ url: "redis://127.0.0.1:6379" }));
 * await serve({
 *   port: 8080,
 *   processes: 4,
 *   onRequest: (req) =>
 *     Websocket.upgrade(req, {
 *       onOpen: (ws) => ws.subscribe("chat"),
 *       onMessage: (ws, data) => ws.publish("chat", data),
 *     }),
 * });
 * ```
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import { count as localCount } from "../core/each.ts";
import { type Deliver, PROCESS_ID, type PubSubEngine, type PubSubMessage } from "../core/topics.ts";
import { READ_COUNT_SCRIPT, WRITE_COUNT_SCRIPT } from "./_count.ts";
import { decodeEnvelope, encodeEnvelope } from "./_envelope.ts";
import {
  bounded,
  CLOSE_WAIT_MS,
  createClient,
  quit,
  unrefTimer,
  whenReady,
} from "./_redis_client.ts";
import {
  type CheckedRedisOptions,
  checkRedisOptions,
  type RedisEngineOptions,
  reportOnce,
} from "./_redis_options.ts";

export type { RedisEngineOptions } from "./_redis_options.ts";
export type { Deliver, PubSubEngine, PubSubMessage } from "../core/topics.ts";

/** Channels per SUBSCRIBE command when subscribing again after a reconnection. */
const RESUBSCRIBE_BATCH = 1000;

/**
 * The Redis pub/sub engine: one connection publishes, one listens in subscriber mode;
 * topic `t` is the channel `prefix + t`.
 *
 * @example Install it, publish, count
 * ```ts ignore
 * import { clusterCount, publish, setPubSubEngine } from "@wsx/wsx";
 * import { RedisEngine } from "@wsx/wsx/redis";
 *
 * await setPubSubEngine(new RedisEngine({ url: "redis://127.0.0.1:6379", prefix: "chat:" }));
 * publish("news", "hello, every process");
 * console.log(await clusterCount()); // open connections in every process
 * ```
 */
export class RedisEngine implements PubSubEngine {
  readonly #options: CheckedRedisOptions;
  readonly #resetReports: () => void;
  readonly #topics = new Set<string>();
  readonly #countKey: string;
  #deliver: Deliver = () => {};
  #pub: Redis | undefined;
  #sub: Redis | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Checks the options; nothing connects before {@linkcode RedisEngine.start}.
   *
   * @param options Where Redis is, the prefix, the error hook and timings.
   * @throws {TypeError} An option of the wrong type (the message names it).
   * @throws {RangeError} An option out of range (the message names it).
   */
  constructor(options: RedisEngineOptions = {}) {
    const once = reportOnce();
    this.#options = checkRedisOptions(options, once.report);
    this.#resetReports = options.onError ? () => {} : once.reset;
    this.#countKey = `${this.#options.prefix}count`;
  }

  /** The prefix of the engine's channels and keys. */
  get prefix(): string {
    return this.#options.prefix;
  }

  /**
   * Connects both connections and waits until they are ready (`setPubSubEngine` calls
   * it).
   *
   * @param deliver Where messages for this process go.
   * @throws {Error} When Redis is not ready within `connectTimeoutMs` (both connections
   * are released then).
   */
  async start(deliver: Deliver): Promise<void> {
    if (this.#pub || this.#closing) throw new Error("Cannot start a RedisEngine twice");
    this.#deliver = deliver;
    const pub = this.#pub = this.#client("wsx-pub", true);
    const sub = this.#sub = this.#client("wsx-sub", false);
    pub.on("ready", () => {
      this.#resetReports();
      this.#writeCount();
    });
    sub.on("ready", () => this.#resubscribe());
    sub.on("messageBuffer", (channel: Buffer, message: Buffer) => this.#receive(channel, message));
    try {
      await Promise.all([whenReady(pub, this.#options), whenReady(sub, this.#options)]);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#timer = setInterval(() => this.#writeCount(), this.#options.countIntervalMs);
    unrefTimer(this.#timer);
  }

  /**
   * Delivers to this process's subscribers at once and sends the message through Redis
   * to the other processes; when Redis is unreachable the message is lost for them and
   * `onError` hears of it.
   *
   * @param message The message.
   */
  publish(message: PubSubMessage): void {
    this.#deliver(message);
    const pub = this.#pub;
    if (pub?.status !== "ready") {
      return this.#report(
        new Error(
          "Cannot publish to Redis: not connected, the message is lost for other processes",
        ),
      );
    }
    pub.publish(this.#options.prefix + message.topic, encodeEnvelope(message)).catch((error) =>
      this.#report(error)
    );
  }

  /**
   * Subscribes this process to a topic's channel (again by itself after a reconnection).
   *
   * @param topic The topic.
   * @returns A promise that settles once Redis confirmed, or at once while disconnected;
   * it never rejects (errors go to `onError`).
   */
  subscribe(topic: string): Promise<void> {
    this.#topics.add(topic);
    return this.#send((sub) => sub.subscribe(this.#options.prefix + topic));
  }

  /**
   * Unsubscribes this process from a topic's channel.
   *
   * @param topic The topic.
   * @returns A promise that settles once Redis confirmed; it never rejects.
   */
  unsubscribe(topic: string): Promise<void> {
    this.#topics.delete(topic);
    return this.#send((sub) => sub.unsubscribe(this.#options.prefix + topic));
  }

  /**
   * Open connections in every live process sharing this Redis and prefix: this
   * process's own count now, plus what the others wrote within their time to live.
   *
   * @returns The count.
   * @throws {Error} When Redis is unreachable.
   */
  async count(): Promise<number> {
    const pub = this.#pub;
    if (pub?.status !== "ready") {
      throw new Error("Cannot count connections across processes: Redis is not connected");
    }
    const others = await pub.eval(READ_COUNT_SCRIPT, 1, this.#countKey, PROCESS_ID);
    return Number(others) + localCount();
  }

  /**
   * Removes this process's count, unsubscribes and closes both connections.
   *
   * @returns A promise that resolves when both connections are closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      const pub = this.#pub;
      if (pub?.status === "ready") {
        await bounded(pub.hdel(this.#countKey, PROCESS_ID), CLOSE_WAIT_MS).catch(() => {});
      }
      await Promise.all([quit(pub), quit(this.#sub)]);
    })();
    return this.#closing;
  }

  #client(name: string, publisher: boolean): Redis {
    const client = createClient(name, this.#options, publisher);
    client.on("error", (error: Error) => this.#report(error));
    client.connect().catch(() => {}); // failures arrive as "error" events too
    return client;
  }

  #receive(channel: Buffer, bytes: Buffer): void {
    const name = channel.toString("utf8");
    const prefix = this.#options.prefix;
    if (!name.startsWith(prefix)) return;
    try {
      const message = decodeEnvelope(bytes, name.slice(prefix.length));
      // This process delivered its own messages when they were published.
      if (message.origin !== PROCESS_ID) this.#deliver(message);
    } catch (error) {
      this.#report(error);
    }
  }

  #resubscribe(): void {
    const channels = [...this.#topics].map((topic) => this.#options.prefix + topic);
    for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
      const batch = channels.slice(i, i + RESUBSCRIBE_BATCH);
      this.#send((sub) => sub.subscribe(...batch));
    }
  }

  #send(command: (sub: Redis) => Promise<unknown>): Promise<void> {
    const sub = this.#sub;
    // While disconnected the topic set is enough: #resubscribe runs on "ready".
    if (sub?.status !== "ready") return Promise.resolve();
    try {
      return command(sub).then(() => {}, (error) => this.#report(error));
    } catch (error) {
      this.#report(error);
      return Promise.resolve();
    }
  }

  #writeCount(): void {
    const pub = this.#pub;
    if (pub?.status !== "ready") return;
    const ttl = String(this.#options.countIntervalMs * 3);
    pub.eval(WRITE_COUNT_SCRIPT, 1, this.#countKey, PROCESS_ID, String(localCount()), ttl)
      .catch((error) => this.#report(error));
  }

  #report(error: unknown): void {
    try {
      this.#options.onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // An error hook that throws must not take the server down.
    }
  }
}
