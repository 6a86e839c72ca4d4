/**
 * The seed's `each`: run a task for every open connection of the process, in time-sliced
 * batches so that even 100,000 connections never block the event loop for long.
 *
 * @module
 */

import type { WebSocketConnection } from "./connection.ts";
import type { Member } from "./member.ts";
import { registry } from "./registry.ts";
import { reportError } from "./report.ts";

/** Longest stretch of tasks between two yields to the event loop, in ms. */
const SLICE_MS = 4;

/**
 * Runs `task(target, arg)` for every open connection except `originator` (every one when
 * it is `null`), asynchronously and in batches. `onFinish(originator, arg)` runs exactly
 * once afterwards, also when there is no target or a task throws. A connection that
 * closes before its turn is skipped. Canonical; `Websocket.each` is the seed's name.
 *
 * @typeParam A The type of the argument.
 * @param originator The connection to leave out, or `null`.
 * @param task Called for each target.
 * @param arg Passed to `task` and `onFinish`.
 * @param onFinish Called once when every task ran.
 * @returns A promise of the number of tasks run.
 * @example Broadcast to everyone else
 * ```ts
 * import { each } from "./each.ts";
 * import type { WebSocketConnection } from "./connection.ts";
 * declare const sender: WebSocketConnection;
 * await each(sender, (ws, text) => ws.write(text), "hello");
 * ```
 */
export function each<A>(
  originator: WebSocketConnection<unknown> | null,
  task: (target: WebSocketConnection<unknown>, arg: A) => void,
  arg: A,
  onFinish?: (originator: WebSocketConnection<unknown> | null, arg: A) => void,
): Promise<number> {
  const targets = registry.snapshot();
  let index = 0;
  let ran = 0;
  return new Promise((resolve) => {
    const finish = () => {
      try {
        onFinish?.(originator, arg);
      } catch (error) {
        reportError(error, "each onFinish");
      }
      resolve(ran);
    };
    const slice = () => {
      const start = Date.now();
      while (index < targets.length) {
        const target: Member = targets[index++];
        if (target.handle === originator || target.readyState !== "open") continue;
        ran++;
        try {
          task(target.handle, arg);
        } catch (error) {
          reportError(error, "each task");
        }
        if ((index & 63) === 0 && Date.now() - start >= SLICE_MS) {
          setTimeout(slice, 0);
          return;
        }
      }
      finish();
    };
    // Always asynchronous, as in the seed, even with nothing to visit.
    setTimeout(slice, 0);
  });
}

/**
 * The number of open connections in the process. Canonical; `Websocket.count` is the
 * seed's name.
 *
 * @returns The count.
 * @example
 * ```ts
 * import { count } from "./each.ts";
 * console.log(count());
 * ```
 */
export function count(): number {
  return registry.count();
}
