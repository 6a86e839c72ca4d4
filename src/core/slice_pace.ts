/**
 * How long a {@linkcode Wheel}'s slices of visits may run. A slice is held to a time
 * budget, checked after every visit; and because what a visit sets off can run after
 * the slice (a destroyed socket's close callbacks, in the loop's turn between slices),
 * the pace also caps the visits of the next slice so that a slice and its aftermath
 * together stay within a hold budget: what the event loop may be kept from other work.
 *
 * @module
 */

/**
 * Budgets of a {@linkcode SlicePace}, in milliseconds.
 *
 * @example
 * ```ts
 * import type { PaceOptions } from "./slice_pace.ts";
 * const options: PaceOptions = { sliceMs: 1, holdMs: 2.5 };
 * ```
 */
export interface PaceOptions {
  /** The longest one slice of visits may run. @default {1} */
  readonly sliceMs?: number;
  /** The longest a slice and the work it leaves for the loop's next turn may run. @default {2.5} */
  readonly holdMs?: number;
}

// Microtasks that visits queue (the engine writes a turn's frames in one) run at least
// this often within a slice, so that the slice's budget covers them.
const FLUSH_EVERY = 16;

// A sweep's first slice has this share of the slice budget: what its visits leave for the
// loop is not known before one turn has shown it.
const FIRST_SLICE_SHARE = 0.25;

const clockMs = (): number => performance.now();

/**
 * The pace of a wheel's sweeps. At the start of a sweep the wheel calls
 * {@linkcode SlicePace.begin}; after each visit {@linkcode SlicePace.visited}, letting
 * microtasks run when it returns `true`, then {@linkcode SlicePace.over}; and when the
 * slice is over it yields the loop between {@linkcode SlicePace.pause} and
 * {@linkcode SlicePace.resume}. The shortest turn it has seen stands for what yielding
 * costs by itself (a timer's minimum delay): only the time beyond it counts as aftermath.
 *
 * @example
 * ```ts
 * import { SlicePace } from "./slice_pace.ts";
 * const pace = new SlicePace({ sliceMs: 1, holdMs: 2.5 });
 * const defer = (fn: () => void) => void setTimeout(fn, 0);
 * const yieldLoop = () => new Promise<void>((resolve) => defer(resolve));
 * pace.begin();
 * for (let i = 0; i < 100; i++) {
 *   // ...one visit...
 *   if (pace.visited() && pace.over()) {
 *     pace.pause();
 *     await yieldLoop();
 *     pace.resume();
 *   }
 * }
 * ```
 */
export class SlicePace {
  readonly #sliceMs: number;
  readonly #holdMs: number;
  #started = 0;
  #visits = 0;
  #cap = Infinity;
  #budgetMs: number;
  #pausedAt = 0;
  #sliceTook = 0;
  // The shortest turn seen between two slices: what yielding costs with no aftermath
  // (a timer's minimum delay, the loop's own work), not counted against the visits.
  #quiet = Infinity;

  /** @param options The budgets. */
  constructor(options: PaceOptions = {}) {
    this.#sliceMs = options.sliceMs ?? 1;
    this.#holdMs = Math.max(options.holdMs ?? 2.5, this.#sliceMs);
    this.#budgetMs = this.#sliceMs;
  }

  /** A sweep starts: its first slice is short, as what its visits leave is not known yet. */
  begin(): void {
    this.#visits = 0;
    this.#cap = Infinity;
    this.#budgetMs = this.#sliceMs * FIRST_SLICE_SHARE;
    this.#started = clockMs();
  }

  /**
   * Counts one visit.
   *
   * @returns Whether to let microtasks run and then ask {@linkcode SlicePace.over}.
   */
  visited(): boolean {
    const visits = ++this.#visits;
    return visits % FLUSH_EVERY === 0 || visits >= this.#cap ||
      clockMs() - this.#started >= this.#budgetMs;
  }

  /** Whether this slice has used its budget: time, or the visits its aftermath allows. */
  over(): boolean {
    return this.#visits >= this.#cap || clockMs() - this.#started >= this.#budgetMs;
  }

  /** The slice ends: the loop gets a turn now. */
  pause(): void {
    this.#pausedAt = clockMs();
    this.#sliceTook = this.#pausedAt - this.#started;
  }

  /** The loop's turn is over: a new slice begins, its visits capped by the last one's aftermath. */
  resume(): void {
    const now = clockMs();
    const gap = now - this.#pausedAt;
    const visits = this.#visits;
    if (gap < this.#quiet) this.#quiet = gap;
    if (visits > 0) {
      // What one visit cost, in its slice and in the turn after it beyond a quiet turn
      // (the loop's other work cannot be told apart from the aftermath: the cap errs on
      // the short side). The cap at most doubles from one slice to the next, so that a
      // turn whose aftermath hid within a timer's delay does not open the gates, and at
      // most quarters, so that one turn the scheduler stretched does not stall the sweep.
      // Whatever the turns cost, a slice keeps the visits that fill a quarter of its budget:
      // on a loop busy with other connections every turn looks like aftermath, and a sweep
      // of one visit a turn would leave deadlines behind without bound.
      const perVisit = (this.#sliceTook + Math.max(0, gap - this.#quiet)) / visits;
      const fits = perVisit > 0 ? this.#holdMs / perVisit : Infinity;
      const floor = this.#sliceTook > 0
        ? (visits * this.#sliceMs * FIRST_SLICE_SHARE) / this.#sliceTook
        : visits;
      const cap = Math.min(Math.max(fits, visits / 4, floor), visits * 2);
      this.#cap = Math.max(1, Math.floor(cap));
    }
    this.#visits = 0;
    this.#budgetMs = this.#sliceMs;
    this.#started = now;
  }
}
