/**
 * How the Redis engine reports lost messages: one error class that carries the kind and
 * the count, and a reporter that tells the first loss at once and sums the rest over a
 * window, so that a long outage gives one report a second, not one per message, and
 * every lost message is counted exactly once.
 *
 * @module
 */

import { unrefTimer } from "./_redis_client.ts";

/**
 * What was lost:
 * - `"not-connected"`: publishes dropped because the connection to Redis was down;
 * - `"over-limit"`: publishes dropped because `maxPendingBytes` were unacknowledged;
 * - `"possibly-lost"`: publishes sent but not acknowledged when the connection failed
 *   (Redis may or may not have delivered them; they are never sent again);
 * - `"gap"`: a receiver missed messages of one origin on one topic (sequence gap);
 * - `"subscription-lost"`: the subscriber's connection ended (it failed, or Redis closed
 *   it, for example over `client-output-buffer-limit pubsub`): messages on its topics may
 *   have been lost from the last one received until the engine has subscribed again
 *   (how many is unknown; gaps count anew from there).
 *
 * @example
 * ```ts
 * import type { RedisLossKind } from "./_loss.ts";
 * const kind: RedisLossKind = "gap";
 * ```
 */
export type RedisLossKind =
  | "not-connected"
  | "over-limit"
  | "possibly-lost"
  | "gap"
  | "subscription-lost";

/** The details of a loss. */
export interface RedisLossDetails {
  /** What was lost. */
  readonly kind: RedisLossKind;
  /** How many messages (0 when unknown: `"subscription-lost"`). */
  readonly count: number;
  /** Their envelope bytes, where the publisher knows them. */
  readonly bytes?: number;
  /** The topic, for `"gap"`. */
  readonly topic?: string;
  /** The publishing process (its `PROCESS_ID`), for `"gap"`. */
  readonly origin?: string;
  /** Every topic the lost subscription held, for `"subscription-lost"`. */
  readonly topics?: readonly string[];
}

/**
 * The error `RedisEngine` passes to `onError` when messages are (or may be) lost.
 *
 * @example Sum what was dropped
 * ```ts
 * import { RedisLossError } from "./_loss.ts";
 * let dropped = 0;
 * const onError = (error: Error) => {
 *   if (error instanceof RedisLossError && error.kind === "over-limit") dropped += error.count;
 * };
 * onError(new RedisLossError("Dropped", { kind: "over-limit", count: 3 }));
 * console.log(dropped); // 3
 * ```
 */
export class RedisLossError extends Error {
  /** What was lost. */
  readonly kind: RedisLossKind;
  /** How many messages (0 when unknown). */
  readonly count: number;
  /** Their envelope bytes, where known. */
  readonly bytes: number | undefined;
  /** The topic, for a gap. */
  readonly topic: string | undefined;
  /** The publishing process, for a gap. */
  readonly origin: string | undefined;
  /** Every topic the lost subscription held, for a lost subscription. */
  readonly topics: readonly string[] | undefined;

  /**
   * Builds the error (the engine does; an application only reads it).
   *
   * @param message The text.
   * @param details What was lost, how many.
   */
  constructor(message: string, details: RedisLossDetails) {
    super(message);
    this.name = "RedisLossError";
    this.kind = details.kind;
    this.count = details.count;
    this.bytes = details.bytes;
    this.topic = details.topic;
    this.origin = details.origin;
    this.topics = details.topics;
  }
}

/** Builds the error of `count` losses (and their bytes) of one key. */
export type LossMessage = (count: number, bytes: number) => RedisLossError;

interface Pending {
  count: number;
  bytes: number;
  readonly build: LossMessage;
}

/** Distinct keys summed per window; further keys share one entry. */
const MAX_KEYS = 256;

/**
 * Reports losses: the first of a key at once, the next ones summed and reported when
 * the window ends (`windowMs`), so each key reports at most once per window.
 */
export class LossReporter {
  readonly #report: (error: Error) => void;
  readonly #windowMs: number;
  readonly #open = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(report: (error: Error) => void, windowMs: number) {
    this.#report = report;
    this.#windowMs = windowMs;
  }

  /**
   * Counts `count` losses under `key`; past `MAX_KEYS` distinct keys in a window they are
   * summed under one key, reported with `overflow`.
   */
  add(key: string, count: number, bytes: number, build: LossMessage, overflow = build): void {
    if (!this.#open.has(key) && this.#open.size < MAX_KEYS) {
      this.#open.add(key);
      this.#arm();
      return this.#report(build(count, bytes));
    }
    if (!this.#pending.has(key) && this.#pending.size >= MAX_KEYS) {
      key = "\0overflow";
      build = overflow;
    }
    const entry = this.#pending.get(key);
    if (entry) {
      entry.count += count;
      entry.bytes += bytes;
    } else this.#pending.set(key, { count, bytes, build });
  }

  /** Reports what is summed now and stops the window. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#open.clear();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { count, bytes, build } of pending) this.#report(build(count, bytes));
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const keys = [...this.#pending.keys()];
      this.flush();
      // A key that lost again within the window stays open for one more.
      for (const key of keys) this.#open.add(key);
      if (keys.length > 0) this.#arm();
    }, this.#windowMs);
    unrefTimer(this.#timer);
  }
}

/**
 * What a `RedisEngine` has sent, dropped and missed since it started.
 *
 * @example
 * ```ts ignore
 * const { pendingBytes, dropped } = engine.stats;
 * ```
 */
export interface RedisEngineStats {
  /** Bytes of publishes sent and not acknowledged yet (at most `maxPendingBytes`). */
  readonly pendingBytes: number;
  /** Publishes sent and not acknowledged yet. */
  readonly pendingPublishes: number;
  /** Publishes Redis acknowledged. */
  readonly acknowledged: number;
  /** Publishes dropped before sending (not connected, or over `maxPendingBytes`). */
  readonly dropped: number;
  /** Publishes sent but not acknowledged when their connection failed. */
  readonly possiblyLost: number;
  /** Messages of other processes this process missed (sequence gaps). */
  readonly missed: number;
  /** Times the subscription was lost (the subscriber's connection failed). */
  readonly subscriptionsLost: number;
}

/** The losses of one engine: counted, and reported through `report`. */
export class Losses {
  /** The totals since the engine started. */
  readonly counts = { dropped: 0, possiblyLost: 0, missed: 0, subscriptionsLost: 0 };
  readonly #report: (error: Error) => void;
  readonly #reporter: LossReporter;

  constructor(report: (error: Error) => void, windowMs: number) {
    this.#report = report;
    this.#reporter = new LossReporter(report, windowMs);
  }

  /** A publish dropped before it was sent. */
  dropped(kind: "not-connected" | "over-limit", bytes: number, limit: number): void {
    this.counts.dropped++;
    this.#reporter.add(kind, 1, bytes, (count, bytes) => {
      const what = count === 1 ? "the message is" : `${count} messages are`;
      const why = kind === "not-connected"
        ? "not connected"
        : `over "maxPendingBytes" (${limit} bytes sent and not acknowledged)`;
      return new RedisLossError(
        `Cannot publish to Redis: ${why}, ${what} lost for other processes`,
        { kind, count, bytes },
      );
    });
  }

  /** A publish sent and rejected (its connection failed before Redis acknowledged it). */
  possiblyLost(bytes: number, cause: string): void {
    this.counts.possiblyLost++;
    this.#reporter.add("possibly-lost", 1, bytes, (count, bytes) =>
      new RedisLossError(
        `Publishing to Redis failed: ${plural(count, "message")} sent and not acknowledged, ` +
          `possibly lost for other processes (${cause})`,
        { kind: "possibly-lost", count, bytes },
      ));
  }

  /** `count` messages of `origin` on `topic` never arrived. */
  missed(origin: string, topic: string, count: number): void {
    this.counts.missed += count;
    this.#reporter.add(
      `gap\0${origin}\0${topic}`,
      count,
      0,
      (count) =>
        new RedisLossError(
          `Missed ${plural(count, "message")} on topic "${topic}" from process ${origin}`,
          { kind: "gap", count, topic, origin },
        ),
      (count) =>
        new RedisLossError(
          `Missed ${plural(count, "message")} on several topics or from several processes`,
          { kind: "gap", count },
        ),
    );
  }

  /** The subscriber's connection ended while it held `topics` (a fresh array, kept). */
  subscriptionLost(why: string, topics: readonly string[]): void {
    this.counts.subscriptionsLost++;
    const it = topics.length === 1 ? "it" : "them";
    this.#report(
      new RedisLossError(
        `Lost the Redis subscription to ${listTopics(topics)} (${why}): messages on ${it} ` +
          "may have been lost, from the last one received until it is subscribed again",
        { kind: "subscription-lost", count: 0, topics: Object.freeze(topics) },
      ),
    );
  }

  /** Reports what is summed now. */
  flush(): void {
    this.#reporter.flush();
  }
}

/** Topics named in a message; the error's `topics` holds them all. */
const NAMED_TOPICS = 3;

function listTopics(topics: readonly string[]): string {
  const named = topics.slice(0, NAMED_TOPICS).map((topic) => JSON.stringify(topic)).join(", ");
  const more = topics.length - NAMED_TOPICS;
  return `${topics.length === 1 ? "topic" : "topics"} ${named}${
    more > 0 ? ` and ${more} more` : ""
  }`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
