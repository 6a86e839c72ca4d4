/**
 * Gaps: each publisher numbers its messages per topic (`Numbering`, envelope version 2),
 * and a receiver that sees a number jump knows how many of that origin's messages on that
 * topic it missed (`GapTracker`). The receiver's state is one map per origin, bounded in
 * origins, in topics per origin and in (origin, topic) pairs overall; an origin not heard
 * from for `ORIGIN_IDLE_MS` is forgotten (its next message starts a new baseline), and so
 * is everything when the subscription starts anew.
 *
 * @module
 */

/** Origins followed at once; the longest-silent is forgotten first past it. */
export const MAX_ORIGINS = 1024;
/** Topics followed per origin; the oldest is forgotten first past it. */
export const MAX_TOPICS_PER_ORIGIN = 10_000;
/**
 * (origin, topic) pairs followed in all; past it the longest-silent origin loses its
 * oldest topic, so that many origins times many topics stays bounded too.
 */
export const MAX_PAIRS = 1 << 20;
/** An origin silent for this long is forgotten, in ms. */
export const ORIGIN_IDLE_MS = 60_000;
/** Topics a publisher numbers; past it the oldest restarts at 1 (a new baseline). */
export const MAX_NUMBERED_TOPICS = 100_000;

/** The publisher's side: the next number of each topic (uint32, wrapping). */
export class Numbering {
  readonly #last = new Map<string, number>();

  /** The number of the next message on `topic`. */
  next(topic: string): number {
    const seq = ((this.#last.get(topic) ?? 0) + 1) >>> 0;
    if (seq === 1 && this.#last.size >= MAX_NUMBERED_TOPICS) {
      this.#last.delete(this.#last.keys().next().value!);
    }
    this.#last.set(topic, seq);
    return seq;
  }
}

interface Origin {
  heard: number;
  readonly topics: Map<string, number>;
}

/** The bounds of a `GapTracker` (the module's constants by default). */
export interface GapLimits {
  readonly origins?: number;
  readonly topicsPerOrigin?: number;
  readonly pairs?: number;
}

/** Sequence numbers seen, per origin and topic. */
export class GapTracker {
  // Map order is the order origins were last heard from (re-inserted on each message).
  readonly #origins = new Map<string, Origin>();
  readonly #maxOrigins: number;
  readonly #maxTopics: number;
  readonly #maxPairs: number;
  #pairs = 0;

  constructor(limits: GapLimits = {}) {
    this.#maxOrigins = limits.origins ?? MAX_ORIGINS;
    this.#maxTopics = limits.topicsPerOrigin ?? MAX_TOPICS_PER_ORIGIN;
    this.#maxPairs = Math.max(limits.pairs ?? MAX_PAIRS, this.#maxTopics + 1);
  }

  /** How many origins are followed. */
  get size(): number {
    return this.#origins.size;
  }

  /** How many (origin, topic) pairs are followed. */
  get pairs(): number {
    return this.#pairs;
  }

  /**
   * Notes message `seq` of `origin` on `topic`.
   *
   * @returns How many messages were missed just before it (0 for none, or for the first
   * message after a baseline: a new topic, a forgotten origin, a counter that restarted).
   */
  see(origin: string, topic: string, seq: number, now: number): number {
    const entry = this.#touch(origin, now);
    const last = entry.topics.get(topic);
    if (last === undefined) this.#makeRoom(entry);
    entry.topics.set(topic, seq);
    if (last === undefined) return 0;
    const step = (seq - last) >>> 0; // uint32 arithmetic: the counter wraps
    // A step back (or none) is a restarted counter or a repeat: a new baseline.
    return step === 0 || step > 0x7fffffff ? 0 : step - 1;
  }

  /** Starts a new baseline for a topic (subscribed or unsubscribed again). */
  forgetTopic(topic: string): void {
    for (const [origin, entry] of this.#origins) {
      if (!entry.topics.delete(topic)) continue;
      this.#pairs--;
      if (entry.topics.size === 0) this.#origins.delete(origin);
    }
  }

  /** Starts a new baseline for everything (the subscription itself starts anew). */
  clear(): void {
    this.#origins.clear();
    this.#pairs = 0;
  }

  /** Forgets the origins silent since before `now - ORIGIN_IDLE_MS`. */
  sweep(now: number): void {
    for (const [origin, entry] of this.#origins) {
      // Oldest first: the first one heard from recently ends the sweep.
      if (now - entry.heard < ORIGIN_IDLE_MS) return;
      this.#forgetOrigin(origin);
    }
  }

  // The origin's entry, now the most recently heard from (the last in map order).
  #touch(origin: string, now: number): Origin {
    let entry = this.#origins.get(origin);
    if (entry) this.#origins.delete(origin);
    else {
      if (this.#origins.size >= this.#maxOrigins) {
        this.#forgetOrigin(this.#origins.keys().next().value!);
      }
      entry = { heard: now, topics: new Map() };
    }
    entry.heard = now;
    this.#origins.set(origin, entry);
    return entry;
  }

  // Room for one more topic of `entry`. Only `entry` may be empty (it is being noted),
  // and it is the last in map order, so the first origin has a topic to give up unless
  // `entry` is the only one, whose topics alone never pass the pairs bound.
  #makeRoom(entry: Origin): void {
    this.#pairs++;
    if (entry.topics.size >= this.#maxTopics) return this.#forgetOldestTopic(entry);
    if (this.#pairs <= this.#maxPairs) return;
    const [origin, oldest] = this.#origins.entries().next().value!;
    this.#forgetOldestTopic(oldest);
    if (oldest.topics.size === 0) this.#origins.delete(origin);
  }

  #forgetOrigin(origin: string): void {
    this.#pairs -= this.#origins.get(origin)?.topics.size ?? 0;
    this.#origins.delete(origin);
  }

  #forgetOldestTopic(entry: Origin): void {
    entry.topics.delete(entry.topics.keys().next().value!);
    this.#pairs--;
  }
}
