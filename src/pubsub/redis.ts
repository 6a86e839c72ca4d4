/**
 * A pub/sub engine on Redis, so that `publish()` reaches the subscribers of every
 * process (and machine) sharing one Redis server, and `clusterCount()` counts their
 * connections. Built on the `ioredis` client; runs on Node.js, Bun and Deno.
 *
 * Delivery is **at most once**, and loss is never silent. A message is delivered at once
 * to the subscribers of the process that published it, and sent through Redis to the
 * others. A publish that cannot be sent (Redis unreachable, or `maxPendingBytes`
 * unacknowledged) is dropped, and one that was sent but not acknowledged when its
 * connection failed may be lost; both are reported through `onError` as a
 * {@linkcode RedisLossError} with the count. Each process numbers its messages per topic,
 * so a receiver reports which origin it missed how many messages from, on which topic,
 * counting from a new baseline after each subscribe and each resubscribe; a lost
 * subscription (the connection failed, or Redis closed a subscriber that read too
 * slowly, `client-output-buffer-limit pubsub`) is reported with its topics, since the
 * messages of the outage are not counted as gaps. A hung Redis (stopped, its
 * connection open) is found within `timeoutMs` and its connections rebuilt; nothing is
 * ever sent twice. Each receiver gets one publisher's messages in the order they were
 * published; there is no order between publishers. After Redis restarts the engine
 * reconnects (within about `reconnectMaxDelayMs`) and subscribes again by itself.
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

import { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import { count as localCount } from "../core/each.ts";
import { type Deliver, PROCESS_ID, type PubSubEngine, type PubSubMessage } from "../core/topics.ts";
import { READ_COUNT_SCRIPT, WRITE_COUNT_SCRIPT } from "./_count.ts";
import { encodeEnvelope, readEnvelope } from "./_envelope.ts";
import { Numbering } from "./_gaps.ts";
import { Losses, type RedisEngineStats } from "./_loss.ts";
import {
  bounded,
  CLOSE_WAIT_MS,
  createClient,
  dropConnection,
  quit,
  unrefTimer,
  whenReady,
  withDeadline,
} from "./_redis_client.ts";
import {
  type CheckedRedisOptions,
  checkRedisOptions,
  type RedisEngineOptions,
  reportOnce,
} from "./_redis_options.ts";
import { Subscription } from "./_subscription.ts";
import { Watch } from "./_watch.ts";

export type { RedisEngineOptions } from "./_redis_options.ts";
export { RedisLossError } from "./_loss.ts";
export type { RedisEngineStats, RedisLossDetails, RedisLossKind } from "./_loss.ts";
export type { Deliver, PubSubEngine, PubSubMessage } from "../core/topics.ts";

/** Channels per SUBSCRIBE command when subscribing again after a reconnection. */
const RESUBSCRIBE_BATCH = 1000;
/** A loss of one kind is reported at once, the next ones summed over this window, in ms. */
const LOSS_WINDOW_MS = 1000;

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
  readonly #countKey: string;
  readonly #losses: Losses;
  readonly #subscription: Subscription;
  readonly #numbering = new Numbering();
  readonly #pubWatch = new Watch();
  readonly #subWatch = new Watch();
  // Why a connection was rebuilt, until it is ready again.
  readonly #hung = new Map<Redis, string>();
  #acknowledged = 0;
  #deliver: Deliver = () => {};
  #pub: Redis | undefined;
  #sub: Redis | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #closing: Promise<void> | undefined;

  /**
   * Checks the options; nothing connects before {@linkcode RedisEngine.start}.
   *
   * @param options Where Redis is, the prefix, the error hook, limits and timings.
   * @throws {TypeError} An option of the wrong type (the message names it).
   * @throws {RangeError} An option out of range (the message names it).
   */
  constructor(options: RedisEngineOptions = {}) {
    const once = reportOnce();
    this.#options = checkRedisOptions(options, once.report);
    this.#resetReports = options.onError ? () => {} : once.reset;
    this.#countKey = `${this.#options.prefix}count`;
    this.#losses = new Losses((error) => this.#report(error), LOSS_WINDOW_MS);
    this.#subscription = new Subscription(this.#losses);
  }

  /** The prefix of the engine's channels and keys. */
  get prefix(): string {
    return this.#options.prefix;
  }

  /** What the engine has sent, dropped and missed so far. */
  get stats(): RedisEngineStats {
    return {
      pendingBytes: this.#pubWatch.bytes,
      pendingPublishes: this.#pubWatch.publishes,
      acknowledged: this.#acknowledged,
      ...this.#losses.counts,
    };
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
    const pub = this.#pub = this.#client("wsx-pub", true, this.#pubWatch);
    const sub = this.#sub = this.#client("wsx-sub", false, this.#subWatch);
    pub.on("ready", () => {
      this.#resetReports();
      this.#writeCount();
    });
    sub.on("ready", () => this.#resubscribe());
    sub.on("close", () => {
      this.#subscription.end(this.#hung.get(sub) ?? "the connection ended", !!this.#closing);
    });
    sub.on("messageBuffer", (channel: Buffer, message: Buffer) => this.#receive(channel, message));
    try {
      await Promise.all([whenReady(pub, this.#options), whenReady(sub, this.#options)]);
    } catch (error) {
      await this.close();
      throw error;
    }
    const { countIntervalMs, timeoutMs } = this.#options;
    this.#timers = [
      setInterval(() => this.#writeCount(), countIntervalMs),
      // Checked every eighth of timeoutMs: a hung connection is rebuilt within 1.125 times it.
      setInterval(() => this.#watch(), Math.max(25, Math.floor(timeoutMs / 8))),
    ];
    for (const timer of this.#timers) unrefTimer(timer);
  }

  /**
   * Delivers to this process's subscribers at once and sends the message through Redis
   * to the other processes; when it cannot be sent (Redis unreachable, `maxPendingBytes`
   * reached) it is lost for them and `onError` hears of it.
   *
   * @param message The message.
   */
  publish(message: PubSubMessage): void {
    this.#deliver(message);
    // Numbered even when dropped: receivers see the gap.
    const seq = this.#numbering.next(message.topic);
    const pub = this.#pub;
    const limit = this.#options.maxPendingBytes;
    if (pub?.status !== "ready") return this.#losses.dropped("not-connected", 0, limit);
    const { prefix, envelopeVersion } = this.#options;
    const channel = prefix + message.topic;
    const envelope = encodeEnvelope(message, envelopeVersion === 2 ? seq : undefined);
    const size = envelope.length + Buffer.byteLength(channel, "utf8");
    if (this.#pubWatch.bytes + size > limit) return this.#losses.dropped("over-limit", size, limit);
    this.#pubWatch.track(pub.publish(channel, envelope), size).then(
      () => void this.#acknowledged++,
      (error) => this.#losses.possiblyLost(size, this.#hung.get(pub) ?? messageOf(error)),
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
    this.#subscription.add(topic);
    return this.#send((sub) => sub.subscribe(this.#options.prefix + topic));
  }

  /**
   * Unsubscribes this process from a topic's channel.
   *
   * @param topic The topic.
   * @returns A promise that settles once Redis confirmed; it never rejects.
   */
  unsubscribe(topic: string): Promise<void> {
    this.#subscription.remove(topic);
    return this.#send((sub) => sub.unsubscribe(this.#options.prefix + topic));
  }

  /**
   * Open connections in every live process sharing this Redis and prefix: this
   * process's own count now, plus what the others wrote within their time to live.
   *
   * @returns The count.
   * @throws {Error} When Redis is unreachable, or has not answered within `timeoutMs`.
   */
  async count(): Promise<number> {
    const pub = this.#pub;
    if (pub?.status !== "ready") {
      throw new Error("Cannot count connections across processes: Redis is not connected");
    }
    const { timeoutMs } = this.#options;
    const others = await withDeadline(
      this.#pubWatch.track(pub.eval(READ_COUNT_SCRIPT, 1, this.#countKey, PROCESS_ID)),
      timeoutMs,
      `Redis did not answer within ${timeoutMs} ms`,
    ).catch((error) => {
      const why = this.#hung.get(pub) ?? messageOf(error);
      throw new Error(`Cannot count connections across processes: ${why}`);
    });
    return Number(others) + localCount();
  }

  /**
   * Removes this process's count, unsubscribes and closes both connections.
   *
   * @returns A promise that resolves when both connections are closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      const pub = this.#pub;
      if (pub?.status === "ready") {
        await bounded(pub.hdel(this.#countKey, PROCESS_ID), CLOSE_WAIT_MS).catch(() => {});
      }
      await Promise.all([quit(pub), quit(this.#sub)]);
      this.#losses.flush();
    })();
    return this.#closing;
  }

  #client(name: string, publisher: boolean, watch: Watch): Redis {
    const client = createClient(name, this.#options, publisher);
    // One report per distinct error until the connection is ready again: reconnecting
    // every ~100 ms must not repeat the same refusal ten times a second.
    let last = "";
    client.on("error", (error: Error) => {
      if (error.message === last) return;
      last = error.message;
      this.#report(error);
    });
    client.on("ready", () => {
      last = "";
      this.#hung.delete(client);
      watch.reset();
    });
    client.connect().catch(() => {}); // failures arrive as "error" events too
    return client;
  }

  #receive(channel: Buffer, bytes: Buffer): void {
    this.#subWatch.heard();
    const name = channel.toString("utf8");
    const prefix = this.#options.prefix;
    if (!name.startsWith(prefix)) return;
    try {
      const { message, seq } = readEnvelope(bytes, name.slice(prefix.length));
      // This process delivered its own messages when they were published.
      if (message.origin === PROCESS_ID) return;
      if (seq !== undefined) this.#subscription.see(message.origin, message.topic, seq, Date.now());
      this.#deliver(message);
    } catch (error) {
      this.#report(error);
    }
  }

  // Pings idle connections and rebuilds hung ones; forgets silent origins.
  #watch(): void {
    const now = Date.now();
    for (
      const [client, watch] of [[this.#pub, this.#pubWatch], [this.#sub, this.#subWatch]] as const
    ) {
      if (client?.status !== "ready") continue;
      const state = watch.state(now, this.#options.timeoutMs);
      if (state === "ping") watch.track(client.ping()).catch(() => {});
      else if (state === "hung") this.#rebuild(client);
    }
    this.#subscription.sweep(now);
  }

  #rebuild(client: Redis): void {
    const why = `Redis did not answer within ${this.#options.timeoutMs} ms`;
    this.#hung.set(client, why);
    this.#report(new Error(`${why}: rebuilding the ${client.options.connectionName} connection`));
    dropConnection(client);
  }

  #resubscribe(): void {
    const channels = this.#subscription.begin().map((topic) => this.#options.prefix + topic);
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
      return this.#subWatch.track(command(sub)).then(() => {}, (error) => this.#report(error));
    } catch (error) {
      this.#report(error);
      return Promise.resolve();
    }
  }

  #writeCount(): void {
    const pub = this.#pub;
    if (pub?.status !== "ready") return;
    const ttl = String(this.#options.countIntervalMs * 3);
    this.#pubWatch.track(
      pub.eval(WRITE_COUNT_SCRIPT, 1, this.#countKey, PROCESS_ID, String(localCount()), ttl),
    ).catch((error) => {
      // A connection being rebuilt was reported already; its next writes fail alike.
      if (!this.#hung.has(pub)) this.#report(error);
    });
  }

  #report(error: unknown): void {
    try {
      this.#options.onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // An error hook that throws must not take the server down.
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
