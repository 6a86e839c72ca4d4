/**
 * The shared output slab: one large buffer that many connections encode their frames
 * into, each a contiguous region handed to the socket as a view. A new slab replaces a
 * full one; the old one lives as long as a pending write still points into it, like
 * Node's own `Buffer` pool. Pure.
 *
 * @module
 */

/**
 * Allocates a buffer of `size` bytes; on Node.js, `Buffer.allocUnsafeSlow` so regions are
 * `Buffer` views a socket writes without conversion.
 *
 * @example Allocate plain Uint8Arrays
 * ```ts
 * import type { Allocate } from "./slab.ts";
 * const alloc: Allocate = (size) => new Uint8Array(size);
 * ```
 */
export type Allocate = (size: number) => Uint8Array;

/**
 * The slab size used when none is given: large enough that allocating a new slab is rare
 * next to the frames written into it.
 *
 * @example Read the default size
 * ```ts
 * import { DEFAULT_SLAB_SIZE } from "./slab.ts";
 * console.log(DEFAULT_SLAB_SIZE); // 65536
 * ```
 */
export const DEFAULT_SLAB_SIZE = 65536;

const EMPTY = new Uint8Array(0);

/**
 * A bump allocator for outgoing frames. Bytes below {@linkcode OutputSlab.tail} belong
 * to someone and are never written again; a writer reserves room at the tail, writes,
 * then commits the new tail.
 *
 * @example Write two bytes at the tail
 * ```ts
 * import { OutputSlab } from "./slab.ts";
 * const slab = new OutputSlab(1024);
 * slab.reserve(2);
 * const at = slab.tail;
 * slab.buffer[at] = 0x89;
 * slab.buffer[at + 1] = 0;
 * slab.commit(at + 2);
 * console.log(slab.buffer.subarray(at, slab.tail)); // Uint8Array [137, 0]
 * ```
 */
export class OutputSlab {
  #buffer: Uint8Array = EMPTY;
  #tail = 0;
  #size: number;
  #alloc: Allocate;

  /**
   * Creates a slab; its first buffer is allocated on first use.
   *
   * @param size The size of each slab in bytes. @default {65536}
   * @param alloc How to allocate a slab. @default {(n) => new Uint8Array(n)}
   */
  constructor(size: number = DEFAULT_SLAB_SIZE, alloc: Allocate = (n) => new Uint8Array(n)) {
    this.#size = size;
    this.#alloc = alloc;
  }

  /** The current slab; allocated on first {@linkcode OutputSlab.reserve}. */
  get buffer(): Uint8Array {
    return this.#buffer;
  }

  /** The first free byte of the current slab. */
  get tail(): number {
    return this.#tail;
  }

  /**
   * Makes sure `n` bytes are free at the tail, starting a new slab when they are not.
   *
   * @param n The bytes about to be written.
   * @returns `true` when a new slab was started (the tail moved back to 0).
   */
  reserve(n: number): boolean {
    if (this.#buffer.length - this.#tail >= n) return false;
    this.#buffer = this.#alloc(Math.max(this.#size, n));
    this.#tail = 0;
    return true;
  }

  /**
   * Moves the tail past bytes just written.
   *
   * @param end The offset just after the last byte written.
   */
  commit(end: number): void {
    this.#tail = end;
  }
}

/**
 * A frame encoded once into the shared slab for many connections: its bytes are
 * `buffer[start..end)` and are never written again.
 *
 * Written by `encodeShared` (shared_frame.ts), sent by reference by `Outbox.shared`.
 *
 * @example Encode once, send to two outboxes
 * ```ts
 * import { encodeShared } from "./shared_frame.ts";
 * import { OPCODE } from "./encoder.ts";
 * import { OutputSlab, type SlabFrame } from "./slab.ts";
 * const options = { slab: new OutputSlab() };
 * const frame: SlabFrame = encodeShared(options, OPCODE.binary, new Uint8Array([1, 2]));
 * console.log(frame.end - frame.start); // 4
 * ```
 */
export interface SlabFrame {
  /** The slab the frame was written into. */
  readonly buffer: Uint8Array;
  /** The offset of the frame's first byte. */
  readonly start: number;
  /** The offset just after its last byte. */
  readonly end: number;
}
