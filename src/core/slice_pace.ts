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
 * const options: PaceOptions = { sliceMs: 1, holdMs: 3 };
 * ```
 */
export interface PaceOptions {
  /** The longest one slice of visits may run. @default {1} */
  readonly sliceMs?: number;
  /** The longest a slice and the work it leaves for the loop's next turn may run. @default {3} */
  readonly holdMs?: number;
}

// Microtasks that visits queue (the engine writes a turn's frames in one) run at least
// this often within a slice, so that the slice's budget covers them.
const FLUSH_EVERY = 16;

// A sweep's first slice is this short: what its visits leave for the loop is not known
// before one turn has shown it.
const FIRST_SLICE_VISITS = 8;

const clockMs = (): number => performance.now();

/**
 * The pace of one sweep. The wheel calls {@linkcode SlicePace.visited} after each visit,
 * lets microtasks run when it returns `true`, asks {@linkcode SlicePace.over}, and if the
 * slice is over yields the loop between {@linkcode SlicePace.pause} and
 * {@linkcode SlicePace.resume}.
 *
 * @example
 * ```ts
 * import { SlicePace } from "./slice_pace.ts";
 * const pace = new SlicePace({ sliceMs: 1, holdMs: 3 });
 * for (let i = 0; i < 100; i++) {
 *   // ...one visit...
 *   if (pace.visited() && pace.over()) {
 *     pace.pause();
 *     await new Promise((resolve) => setTimeout(resolve, 0));
 *     pace.resume();
 *   }
 * }
 * ```
 */
export class SlicePace {
  readonly #sliceMs: number;
  readonly #holdMs: number;
  #started = clockMs();
  #visits = 0;
  #cap = FIRST_SLICE_VISITS;
  #pausedAt = 0;
  #sliceTook = 0;

  /** @param options The budgets. */
  constructor(options: PaceOptions = {}) {
    this.#sliceMs = options.sliceMs ?? 1;
    this.#holdMs = Math.max(options.holdMs ?? 3, this.#sliceMs);
  }

  /**
   * Counts one visit.
   *
   * @returns Whether to let microtasks run and then ask {@linkcode SlicePace.over}.
   */
  visited(): boolean {
    const visits = ++this.#visits;
    return visits % FLUSH_EVERY === 0 || visits >= this.#cap ||
      clockMs() - this.#started >= this.#sliceMs;
  }

  /** Whether this slice has used its budget: time, or the visits its aftermath allows. */
  over(): boolean {
    return this.#visits >= this.#cap || clockMs() - this.#started >= this.#sliceMs;
  }

  /** The slice ends: the loop gets a turn now. */
  pause(): void {
    this.#pausedAt = clockMs();
    this.#sliceTook = this.#pausedAt - this.#started;
  }

  /** The loop's turn is over: a new slice begins, with its visits capped by the last one's aftermath. */
  resume(): void {
    const now = clockMs();
    const visits = this.#visits;
    if (visits > 0) {
      // What one visit cost, in its slice and in the turn after it (all of that turn,
      // as the loop's other work cannot be told apart from the aftermath: the cap errs
      // on the short side); the cap keeps both within the hold budget.
      const perVisit = (this.#sliceTook + now - this.#pausedAt) / visits;
      this.#cap = Math.max(1, Math.floor(this.#holdMs / perVisit));
    }
    this.#visits = 0;
    this.#started = now;
  }
}
