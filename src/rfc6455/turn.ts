/**
 * Work put off to the end of the event loop's turn: the Node.js engine sends what the
 * handlers answered to every chunk read in one turn after all of that turn's reads.
 *
 * Why: on loopback and in virtual machines the costliest part of a small write is waking
 * the peer that waits for it. Replies written between reads wake a sleeping client once
 * per message; written back to back after the reads, they reach a client that is already
 * awake, and the server's own next wait finds many requests ready. A turn's reads take
 * microseconds, so a reply waits no longer than the rest of the reads already due. Pure:
 * the scheduler is given (`setImmediate` on Node.js, which runs after the poll phase of
 * the same turn, https://nodejs.org/en/learn/asynchronous-work/event-loop-timers-and-nexttick).
 *
 * @module
 */

/**
 * A queue of items run once at the end of the turn they were added in.
 *
 * @example Two items, one scheduled run
 * ```ts
 * import { TurnQueue } from "./turn.ts";
 * const seen: string[] = [];
 * const turn = new TurnQueue<string>((item) => void seen.push(item), (run) => setTimeout(run, 0));
 * turn.add("a");
 * turn.add("b");
 * setTimeout(() => console.log(seen), 10); // ["a", "b"]
 * ```
 */
export class TurnQueue<T> {
  #run: (item: T) => void;
  #schedule: (run: () => void) => unknown;
  #items: T[] = [];
  #spare: T[] = [];
  #scheduled = false;

  /**
   * Creates an empty queue.
   *
   * @param run Called once for each item added, in the order added. An exception it
   * throws is dropped, so that one item cannot keep the others from running.
   * @param schedule Runs a function at the end of the current turn.
   */
  constructor(run: (item: T) => void, schedule: (run: () => void) => unknown) {
    this.#run = run;
    this.#schedule = schedule;
  }

  /** Items waiting for the end of the turn. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * Adds an item; the first one of a turn schedules the run.
   *
   * @param item Passed to `run` at the end of the turn.
   */
  add(item: T): void {
    this.#items.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(this.#flush);
  }

  // Items added while running (a run that writes and so reads again) wait for the next
  // scheduled run rather than growing this one without end.
  #flush = (): void => {
    const items = this.#items;
    this.#items = this.#spare;
    this.#scheduled = false;
    for (let i = 0; i < items.length; i++) {
      try {
        this.#run(items[i]);
      } catch {
        // See the constructor: dropped.
      }
    }
    items.length = 0;
    this.#spare = items;
  };
}
