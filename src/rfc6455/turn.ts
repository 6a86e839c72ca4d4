/**
 * Work put off to the end of the event loop's turn: the Node.js engine sends what the
 * handlers answered to every chunk read in one turn after all of that turn's reads.
 *
 * Why: on loopback and in virtual machines the costliest part of a small write is waking
 * the peer that waits for it. Replies written between reads wake a sleeping client once
 * per message; written back to back after the reads, they reach a client that is already
 * awake, and the server's own next wait finds many requests ready. The wait is bounded:
 * once the first item of a turn has waited `budgetMs` (slow handlers, a long turn),
 * {@linkcode TurnQueue.due} runs the queue before the next chunk is handled. Pure: the
 * scheduler and clock are given (`setImmediate` on Node.js, which runs after the poll phase of the same
 * turn, https://nodejs.org/en/learn/asynchronous-work/event-loop-timers-and-nexttick).
 *
 * @module
 */

/**
 * How a {@linkcode TurnQueue} schedules and bounds its runs.
 *
 * @example Node.js
 * ```ts
 * import type { TurnOptions } from "./turn.ts";
 * const options: TurnOptions = { schedule: setImmediate, now: () => performance.now(), budgetMs: 1 };
 * ```
 */
export interface TurnOptions {
  /** Runs a function at the end of the current turn. */
  readonly schedule: (run: () => void) => unknown;
  /** A clock in milliseconds. */
  readonly now: () => number;
  /** How long the oldest item may wait before {@linkcode TurnQueue.due} runs the queue. */
  readonly budgetMs: number;
}

/**
 * A queue of items run once at the end of the turn they were added in.
 *
 * @example Two items, one scheduled run
 * ```ts
 * import { TurnQueue } from "./turn.ts";
 * const seen: string[] = [];
 * const turn = new TurnQueue<string>((item) => void seen.push(item), {
 *   schedule: (run) => setTimeout(run, 0),
 *   now: () => performance.now(),
 *   budgetMs: 1,
 * });
 * turn.add("a");
 * turn.add("b");
 * setTimeout(() => console.log(seen), 10); // ["a", "b"]
 * ```
 */
export class TurnQueue<T> {
  #run: (item: T) => void;
  #opts: TurnOptions;
  #items: T[] = [];
  #spare: T[] = [];
  #scheduled = false;
  #since = 0; // when the work that made the oldest waiting item began
  #lastRun = 0; // how many items the last run had

  /**
   * Creates an empty queue.
   *
   * @param run Called once for each item added, in the order added. An exception it
   * throws is dropped, so that one item cannot keep the others from running.
   * @param options The scheduler, the clock and the wait budget.
   */
  constructor(run: (item: T) => void, options: TurnOptions) {
    this.#run = run;
    this.#opts = options;
  }

  /** Items waiting. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * Whether work done now may skip the wait: nothing waits yet in this turn and the last
   * run had at most one item. The wait only pays when a turn reads many connections, and
   * a loaded turn is followed by loaded ones; a lone connection's reply can leave at once,
   * in the callback that read its request (`socket_link.ts` decides which connection).
   */
  get lone(): boolean {
    return this.#items.length === 0 && this.#lastRun <= 1;
  }

  /**
   * Adds an item; the first one of a turn schedules the run.
   *
   * @param item Passed to `run`.
   * @param startedAt When the work that made it began (what {@linkcode TurnQueue.due}
   * returned before it), for the budget. @default {now}
   */
  add(item: T, startedAt: number = this.#opts.now()): void {
    if (this.#items.push(item) === 1) this.#since = startedAt;
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#opts.schedule(this.#flush);
  }

  /**
   * Call before work that makes items (the next chunk's handlers): when the oldest item
   * has waited the budget, what waits runs now, so that a slow turn does not hold the
   * replies already made. The batch that follows gets a budget of its own.
   *
   * @returns The time now, for {@linkcode TurnQueue.add}.
   */
  due(): number {
    const now = this.#opts.now();
    if (this.#items.length > 0 && now - this.#since >= this.#opts.budgetMs) this.#drain();
    return now;
  }

  #flush = (): void => {
    this.#scheduled = false;
    this.#drain();
  };

  // Items added while running (a run that writes and so reads again) wait for the next
  // run rather than growing this one without end.
  #drain(): void {
    const items = this.#items;
    this.#items = this.#spare;
    this.#lastRun = items.length;
    for (let i = 0; i < items.length; i++) {
      try {
        this.#run(items[i]);
      } catch {
        // See the constructor: dropped.
      }
    }
    items.length = 0;
    this.#spare = items;
  }
}
