/**
 * `SWEEP_TRACE=1`: what ran in each long hold of `sweep_server.ts`'s loop, measured in
 * the server itself (a noisy machine stretches holds, not the time wsx's own code took
 * in them). It wraps, before wsx loads:
 * - the wheels' slices (`SlicePace`: a slice runs from `begin`/`resume` to `pause`, or
 *   to its last visit when the sweep ends in it), with their visits;
 * - `Duplex.prototype.write` and `destroy` (the engine's sockets on every runtime), and
 *   `EventEmitter.prototype.emit` by event name (the sockets' `close`, `end`, `data`...);
 * - the callbacks of `setImmediate` (the wheels' turns between slices on Node.js and Bun).
 * Each slice that pauses and the turn after it are also timed less the waits for a core
 * (`nowAndWait`), and `lag` writes their longest as a `slices` line ({@linkcode summary}).
 * The probe calls {@linkcode explain} for each hold over `SWEEP_TRACE_MS` (4 ms): it
 * writes one `trace` line to stderr at once (`writeSync`, so that it lands in order
 * among Bun's `BUN_JSC_logGC=1` lines: a collection logged just before a trace line
 * fell in that hold). Spans nest (a write within a slice): each kind is summed apart.
 *
 * @module
 */

import { writeSync } from "node:fs";
import { EventEmitter } from "node:events";
import { Duplex } from "node:stream";
import process from "node:process";
import { mainThread, nowAndWait } from "./thread_clock.ts";

type Span = [kind: string, start: number, end: number, count: number];
let spans: Span[] = [];
const now = () => performance.now();
export const threshold = Number(process.env.SWEEP_TRACE_MS ?? 4);

function timed<A extends unknown[], R>(
  kind: (self: unknown, args: A) => string | null,
  fn: (...args: A) => R,
): (...args: A) => R {
  return function (this: unknown, ...args: A): R {
    const name = kind(this, args);
    if (name === null) return fn.apply(this, args);
    const start = now();
    try {
      return fn.apply(this, args);
    } finally {
      const end = now();
      spans.push([name, start, end, 1]);
      const total = totals[name] ??= [0, 0];
      total[0] += end - start;
      total[1]++;
    }
  };
}

/** Wraps the runtime's parts; call before wsx loads. */
export function traceRuntime(): void {
  const d = Duplex.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  d.write = timed(() => "write", d.write);
  d.destroy = timed(() => "destroy", d.destroy);
  const e = EventEmitter.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  e.emit = timed((self, args) => self instanceof Duplex ? `emit:${String(args[0])}` : null, e.emit);
  const g = globalThis as unknown as Record<string, (fn: () => void, ...a: unknown[]) => unknown>;
  const immediate = g.setImmediate;
  if (typeof immediate === "function") {
    g.setImmediate = (fn: () => void, ...rest: unknown[]) =>
      immediate(timed(() => "immediate", fn), ...rest);
  }
}

/** Wraps the wheels' pace (the `SlicePace` class wsx's wheels use). */
export function tracePace(SlicePace: { prototype: object }): void {
  const p = SlicePace.prototype as Record<string, (...a: unknown[]) => unknown>;
  const close = (self: object, end: number) => {
    const slice = open.get(self);
    if (slice !== undefined && slice.visits > 0) {
      spans.push(["slice", slice.start, end, slice.visits]);
    }
    open.delete(self);
  };
  const start = (fn: (...a: unknown[]) => unknown) =>
    function (this: object, ...args: unknown[]) {
      // A sweep that ended in its last slice never paused: that slice ends at its last visit.
      const last = open.get(this);
      if (last !== undefined) close(this, last.last);
      const at = nowAndWait();
      const before = paused.get(this);
      if (before !== undefined) {
        // The loop's turn between two slices, less its waits for a core: the aftermath.
        const turn = at.now - before.now - (at.wait - before.wait);
        stats.maxTurnMs = Math.max(stats.maxTurnMs, turn);
        stats.maxHoldMs = Math.max(stats.maxHoldMs, before.ms + turn);
        paused.delete(this);
      }
      const result = fn.apply(this, args);
      open.set(this, { start: now(), wait: at.wait, visits: 0, last: now() });
      return result;
    };
  const { begin, resume, pause, visited } = p;
  p.begin = start(begin);
  p.resume = start(resume);
  p.pause = function (this: object, ...args: unknown[]) {
    const slice = open.get(this);
    close(this, now());
    if (slice !== undefined) {
      const at = nowAndWait();
      const ms = at.now - slice.start - (at.wait - slice.wait);
      paused.set(this, { ...at, ms });
      stats.slices++;
      stats.visits += slice.visits;
      stats.maxSliceMs = Math.max(stats.maxSliceMs, ms);
    }
    return pause.apply(this, args);
  };
  p.visited = function (this: object, ...args: unknown[]) {
    const slice = open.get(this);
    if (slice !== undefined) (slice.visits++, slice.last = now());
    return visited.apply(this, args);
  };
}
// The slices under way, by pace: one that ends a sweep never pauses, so it is counted up
// to its last visit.
const open = new Map<object, { start: number; wait: number; visits: number; last: number }>();
// Paused slices: when, the run delay then, and the slice's own time less its waits.
const paused = new Map<object, { now: number; wait: number; ms: number }>();
// Since the last `summary`: slices that paused, their visits, the longest slice, the
// longest turn after one, the longest slice and turn together (the pace's `holdMs`).
// Also the probe's holds as read now (`heldMax`, `heldOver5`) and as the earlier read
// order made them (`oldMax`, `oldOver5`; see `oldOrder`).
const fresh = () => ({
  slices: 0,
  visits: 0,
  maxSliceMs: 0,
  maxTurnMs: 0,
  maxHoldMs: 0,
  heldMax: 0,
  heldOver5: 0,
  oldMax: 0,
  oldOver5: 0,
});
let stats = fresh();
// Since the last `summary`: each kind's ms and count (wall time, waits included).
let totals: Record<string, [number, number]> = {};

/**
 * Writes a `slices` line to stderr: what the wheels' slices took since the last one, and
 * the wrapped calls' total ms and count by kind.
 */
export function summary(): void {
  const line: Record<string, unknown> = Object.fromEntries(
    Object.entries(stats).map(([k, v]) => [k, r(v)]),
  );
  for (const [kind, [ms, n]] of Object.entries(totals)) line[kind] = [r(ms), n];
  writeSync(2, `slices ${JSON.stringify(line)}\n`);
  stats = fresh();
  totals = {};
}

/**
 * Reports a hold: the spans within [from, to] by kind (ms, count), the slices one by
 * one, and the hold less the slices (the loop's other work, the runtime's own).
 *
 * @param from When the hold began (performance.now()).
 * @param to When it ended.
 * @param held The hold (the gap less the waits for a core).
 * @param cpu The process's CPU time in the gap (its helper threads' included).
 */
export function explain(from: number, to: number, held: number, cpu: number): void {
  const list = [...spans];
  for (const s of open.values()) if (s.visits > 0) list.push(["slice", s.start, s.last, s.visits]);
  const byKind: Record<string, [number, number]> = {};
  const slices: [string, number, number, number][] = [];
  for (const [kind, start, end, count] of list) {
    const ms = Math.min(end, to) - Math.max(start, from);
    if (ms <= 0 && !(start >= from && end <= to)) continue;
    const sum = byKind[kind] ??= [0, 0];
    sum[0] += Math.max(0, ms);
    sum[1] += count;
    if (kind !== "write") slices.push([kind, r(start - from), r(end - start), count]);
  }
  const kinds = Object.fromEntries(Object.entries(byKind).map(([k, [ms, n]]) => [k, [r(ms), n]]));
  // wall: the hold's end in seconds of the epoch, to match `perf record -k realtime`.
  const wall = (performance.timeOrigin + to) / 1000;
  const line = {
    at: Date.now(),
    wall,
    t: r(to),
    gap: r(to - from),
    held: r(held),
    cpu: r(cpu),
    kinds,
    spans: slices,
  };
  writeSync(2, `trace ${JSON.stringify(line)}\n`);
}

/** Forgets the spans so far (each ended before the probe's latest tick). */
export function forget(): void {
  if (spans.length > 0) spans = [];
}

const r = (ms: number) => Math.round(ms * 100) / 100;

let oldLast: { now: number; wait: number } | undefined;

/**
 * The hold since the last call as the probe read it before `nowAndWait`: the time, the
 * process's CPU (`getrusage`), then the run delay. Called in the same tick as the probe,
 * just before it, so that both figures cover the same interval.
 *
 * @param cpuMs The probe's CPU reading (a `getrusage` syscall, as before).
 * @returns The hold that read order gives.
 */
export function oldOrder(cpuMs: () => number): number {
  const now = performance.now();
  cpuMs();
  const wait = mainThread().wait;
  const held = oldLast === undefined ? 0 : now - oldLast.now - 1 - (wait - oldLast.wait);
  oldLast = { now, wait };
  return held;
}

/**
 * Counts one tick's hold by both read orders.
 *
 * @param old The hold by the earlier order (`oldOrder`).
 * @param held The hold by `nowAndWait`.
 */
export function compare(old: number, held: number): void {
  stats.oldMax = Math.max(stats.oldMax, old);
  stats.heldMax = Math.max(stats.heldMax, held);
  if (old > 5) stats.oldOver5++;
  if (held > 5) stats.heldOver5++;
}
