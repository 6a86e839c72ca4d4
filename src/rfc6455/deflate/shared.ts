/**
 * Process-wide raw zlib streams, reset between messages: one inflater, and one deflater
 * per parameter set (level, window, memLevel), driven synchronously through their
 * native handle like `openInflate` in `codec.ts`. Every one-shot `zlib.*Sync` call makes
 * a new zlib object whose native state (up to a few hundred KiB) lives until V8 collects
 * its wrapper; reusing a handle allocates nothing per message but the result.
 *
 * Sharing one handle is safe because the engine is single-threaded and every use below
 * runs to completion synchronously (reset, write, copy out) before returning: no other
 * message can interleave with it.
 *
 * @module
 */

import { constants, createDeflateRaw, createInflateRaw } from "node:zlib";

// What is used of a zlib stream: its native handle, which works synchronously into an
// output buffer of our size and reports through `_writeState` (available output,
// available input). Node.js's own `zlib.*Sync` functions drive it this way, and Deno's
// and Bun's `node:zlib` implement it alike; the stream's public API is asynchronous.
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  // Called during `writeSync` on invalid data, on all three runtimes.
  onerror: (message: string, errno: number) => void;
}

/**
 * The parts of a `node:zlib` stream that are driven synchronously.
 *
 * @example
 * ```ts
 * import { createInflateRaw } from "node:zlib";
 * import type { ZlibInternals } from "./shared.ts";
 * const z = createInflateRaw() as unknown as ZlibInternals;
 * z.close();
 * ```
 */
export interface ZlibInternals {
  readonly _handle: ZlibHandle | null;
  readonly _writeState: Uint32Array;
  reset(): void;
  close(): void;
  on(event: "error", listener: () => void): unknown;
}

/**
 * A zlib stream run synchronously, message after message.
 *
 * @example
 * ```ts
 * import { sharedInflater } from "./shared.ts";
 * const hello = new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff]);
 * console.log(sharedInflater().run(hello, 100)); // Uint8Array [72, 101, 108, 108, 111]
 * ```
 */
export class SyncZlib {
  #stream: ZlibInternals;
  #handle: ZlibHandle;
  #failed = false;

  /**
   * Takes over a stream's handle.
   *
   * @param stream A raw deflate or inflate stream of `node:zlib`.
   */
  constructor(stream: ZlibInternals) {
    this.#stream = stream;
    this.#handle = stream._handle!;
    // Replaces the stream's own handler, which would destroy it and emit 'error' later.
    this.#handle.onerror = () => void (this.#failed = true);
    stream.on("error", () => {});
  }

  /**
   * Resets the stream, then runs `input` through it with a sync flush.
   *
   * @param input The whole input of one message.
   * @param max The most output bytes allowed.
   * @param prime For a deflater: bytes to run through first, output dropped, so that
   * `input` can refer back into them (server context takeover). @default {undefined}
   * @returns The output, copied out exactly; `"too-big"` as soon as it would pass
   * `max` (no more than `max + 1` bytes of output room is ever given); `"corrupt"`.
   */
  run(input: Uint8Array, max: number, prime?: Uint8Array): Uint8Array | "too-big" | "corrupt" {
    this.#stream.reset();
    this.#failed = false;
    if (prime !== undefined) this.#skip(prime);
    const state = this.#stream._writeState;
    const parts: Uint8Array[] = [];
    let read = 0, total = 0;
    for (;;) {
      const room = Math.min(scratch.length, max + 1 - total);
      this.#handle.writeSync(
        constants.Z_SYNC_FLUSH,
        input,
        read,
        input.length - read,
        scratch,
        0,
        room,
      );
      if (this.#failed) return "corrupt";
      const wrote = room - state[0];
      read = input.length - state[1];
      total += wrote;
      if (total > max) return "too-big";
      if (wrote > 0) parts.push(scratch.slice(0, wrote));
      // Output room left over: zlib has nothing more to give for this input.
      if (state[0] !== 0) return joined(parts, total);
    }
  }

  // Runs `input` through with a sync flush and drops the output: a deflater then
  // holds it as its window, as if it were a dictionary.
  #skip(input: Uint8Array): void {
    const state = this.#stream._writeState;
    let read = 0;
    do {
      const left = input.length - read;
      this.#handle.writeSync(constants.Z_SYNC_FLUSH, input, read, left, scratch, 0, scratch.length);
      read = input.length - state[1];
    } while (state[0] === 0);
  }
}

// Output is written here first, then copied out at its exact size: safe to share for
// the same reason as the handles (nothing keeps it across a call).
const scratch = new Uint8Array(16384);

function joined(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

let inflater: SyncZlib | null = null;
const deflaters = new Map<number, SyncZlib>();

/**
 * The process-wide raw inflater (15-bit window, which inflates any smaller window).
 *
 * @returns The shared inflater.
 * @example
 * ```ts
 * import { sharedInflater } from "./shared.ts";
 * console.log(sharedInflater().run(new Uint8Array([0x00, 0x00, 0x00, 0xff, 0xff]), 10)); // Uint8Array []
 * ```
 */
export function sharedInflater(): SyncZlib {
  inflater ??= new SyncZlib(
    createInflateRaw({ chunkSize: constants.Z_MIN_CHUNK }) as unknown as ZlibInternals,
  );
  return inflater;
}

/**
 * The process-wide raw deflater of one parameter set.
 *
 * @param level The zlib level, 0 to 9.
 * @param windowBits The window, 9 to 15 bits.
 * @param memLevel The zlib memLevel, 1 to 9.
 * @returns The shared deflater.
 * @example
 * ```ts
 * import { sharedDeflater } from "./shared.ts";
 * console.log(sharedDeflater(1, 9, 2).run(new TextEncoder().encode("Hello"), 100));
 * ```
 */
export function sharedDeflater(level: number, windowBits: number, memLevel: number): SyncZlib {
  const key = level * 256 + windowBits * 16 + memLevel;
  let z = deflaters.get(key);
  if (z === undefined) {
    const stream = createDeflateRaw({
      level,
      windowBits,
      memLevel,
      chunkSize: constants.Z_MIN_CHUNK,
    });
    z = new SyncZlib(stream as unknown as ZlibInternals);
    deflaters.set(key, z);
  }
  return z;
}
