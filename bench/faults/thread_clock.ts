/**
 * The main thread's time on a core and waiting for one (Linux schedstat), read without
 * allocating: a probe that reads it every millisecond with `readFileSync` made a 64 KiB
 * buffer each time (a /proc file has no size), 64 MB a second of external memory that
 * set off V8's full collections every half second in an idle server: the probe's own
 * holds, not the server's.
 *
 * @module
 */

import { openSync, readSync } from "node:fs";
import process from "node:process";

const fd = openSync(`/proc/self/task/${process.pid}/schedstat`, "r");
const bytes = new Uint8Array(128);

/**
 * The main thread's CPU time and run delay (time runnable but waiting for a core), in
 * ms since it started.
 *
 * @returns Both figures.
 * @example
 * ```ts
 * import { mainThread } from "./thread_clock.ts";
 * const { cpu, wait } = mainThread();
 * console.log(cpu, wait);
 * ```
 */
export function mainThread(): { cpu: number; wait: number } {
  const length = readSync(fd, bytes, 0, bytes.length, 0);
  // "<cpu ns> <wait ns> <slices>\n": two decimal numbers, parsed in place.
  let cpu = 0, wait = 0, field = 0;
  for (let i = 0; i < length && field < 2; i++) {
    const c = bytes[i];
    if (c === 0x20) field++;
    else if (field === 0) cpu = cpu * 10 + (c - 0x30);
    else wait = wait * 10 + (c - 0x30);
  }
  return { cpu: cpu / 1e6, wait: wait / 1e6 };
}

/**
 * The time (`performance.now()`) and the main thread's run delay read together: the
 * delay is read before and after the time, again until both reads agree, so that no
 * wait for a core falls between them. A probe that read the time and then the delay
 * (after another syscall, `getrusage`, whose return is where the kernel preempts a
 * thread woken work wants off the core) counted a preemption there as a hold of its
 * interval and its wait in the next interval: 5-10 ms "holds" on a busy machine with
 * no wait in them (seen on Bun by `perf sched`-style tracing; bench/README "bunhb").
 *
 * @returns The time and the run delay, in ms.
 * @example
 * ```ts
 * import { nowAndWait } from "./thread_clock.ts";
 * const { now, wait } = nowAndWait();
 * console.log(now, wait);
 * ```
 */
export function nowAndWait(): { now: number; wait: number } {
  let wait = mainThread().wait;
  for (let i = 0; i < 4; i++) {
    const now = performance.now();
    const after = mainThread().wait;
    if (after === wait) return { now, wait };
    wait = after;
  }
  return { now: performance.now(), wait };
}
