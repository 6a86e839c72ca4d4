/**
 * The subscriber side of `RedisEngine`: the topics this process holds, the numbers seen
 * on them, and the report when the subscription is lost. One subscription lasts from
 * the moment its connection is ready (the engine subscribes to every topic then) until
 * that connection ends: gaps are counted within it, from a new baseline at its start,
 * and its end is reported with its topics, since what is missed between two
 * subscriptions cannot be counted.
 *
 * @module
 */

import { GapTracker } from "./_gaps.ts";
import type { Losses } from "./_loss.ts";

/** The topics of one process, and the gaps and losses of its subscriptions. */
export class Subscription {
  readonly #topics = new Set<string>();
  readonly #gaps = new GapTracker();
  readonly #losses: Losses;
  #active = false;

  constructor(losses: Losses) {
    this.#losses = losses;
  }

  /** Holds `topic` (a new baseline for it). */
  add(topic: string): void {
    this.#topics.add(topic);
    this.#gaps.forgetTopic(topic);
  }

  /** Lets `topic` go. */
  remove(topic: string): void {
    this.#topics.delete(topic);
    this.#gaps.forgetTopic(topic);
  }

  /**
   * A subscription begins: its connection is ready. Gaps start from a new baseline, so
   * that the messages missed since the last one (reported with its loss) are not counted
   * again, along with those published before this process subscribed again.
   *
   * @returns Every topic, to subscribe to.
   */
  begin(): string[] {
    this.#gaps.clear();
    this.#active = true;
    return [...this.#topics];
  }

  /**
   * The subscription's connection ended: reported (once) when it held topics, unless the
   * engine is closing.
   */
  end(why: string, closing: boolean): void {
    if (!this.#active) return;
    this.#active = false;
    if (!closing && this.#topics.size > 0) this.#losses.subscriptionLost(why, [...this.#topics]);
  }

  /** Notes message `seq` of `origin` on `topic`; a gap before it is reported. */
  see(origin: string, topic: string, seq: number, now: number): void {
    const missed = this.#gaps.see(origin, topic, seq, now);
    if (missed > 0) this.#losses.missed(origin, topic, missed);
  }

  /** Forgets the origins silent for long. */
  sweep(now: number): void {
    this.#gaps.sweep(now);
  }
}
