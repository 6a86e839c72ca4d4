/**
 * Gaps at the receiver: each publisher numbers its messages per topic (envelope version
 * 2), and a receiver that sees a number jump knows how many of that origin's messages on
 * that topic it missed. The state is one map per origin, bounded in origins and topics,
 * and an origin not heard from for `ORIGIN_IDLE_MS` is forgotten (its next message
 * starts a new baseline).
 *
 * @module
 */

/** Origins followed at once; the longest-silent is forgotten first past it. */
export const MAX_ORIGINS = 1024;
/** Topics followed per origin; the oldest is forgotten first past it. */
export const MAX_TOPICS_PER_ORIGIN = 10_000;
/** An origin silent for this long is forgotten, in ms. */
export const ORIGIN_IDLE_MS = 60_000;

interface Origin {
  heard: number;
  readonly topics: Map<string, number>;
}

/** Sequence numbers seen, per origin and topic. */
export class GapTracker {
  // Map order is the order origins were last heard from (re-inserted on each message).
  readonly #origins = new Map<string, Origin>();

  /** How many origins are followed. */
  get size(): number {
    return this.#origins.size;
  }

  /**
   * Notes message `seq` of `origin` on `topic`.
   *
   * @returns How many messages were missed just before it (0 for none, or for the first
   * message after a baseline: a new topic, a forgotten origin, a counter that restarted).
   */
  see(origin: string, topic: string, seq: number, now: number): number {
    let entry = this.#origins.get(origin);
    if (entry) this.#origins.delete(origin);
    else {
      if (this.#origins.size >= MAX_ORIGINS) {
        this.#origins.delete(this.#origins.keys().next().value!);
      }
      entry = { heard: now, topics: new Map() };
    }
    entry.heard = now;
    this.#origins.set(origin, entry);
    const topics = entry.topics;
    const last = topics.get(topic);
    if (last === undefined && topics.size >= MAX_TOPICS_PER_ORIGIN) {
      topics.delete(topics.keys().next().value!);
    }
    topics.set(topic, seq);
    if (last === undefined) return 0;
    const step = (seq - last) >>> 0; // uint32 arithmetic: the counter wraps
    // A step back (or none) is a restarted counter or a repeat: a new baseline.
    return step === 0 || step > 0x7fffffff ? 0 : step - 1;
  }

  /** Starts a new baseline for a topic (subscribed or unsubscribed again). */
  forgetTopic(topic: string): void {
    for (const entry of this.#origins.values()) entry.topics.delete(topic);
  }

  /** Forgets the origins silent since before `now - ORIGIN_IDLE_MS`. */
  sweep(now: number): void {
    for (const [origin, entry] of this.#origins) {
      // Oldest first: the first one heard from recently ends the sweep.
      if (now - entry.heard < ORIGIN_IDLE_MS) return;
      this.#origins.delete(origin);
    }
  }
}
