/**
 * The bytes an HTTP/1.1 connection received and has not read yet (a head still
 * arriving, the start of a pipelined request). A head trickled in a byte at a time must
 * cost what its bytes cost: each chunk is copied in once, into room that grows by
 * doubling, never by copying everything held on every chunk.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);

/**
 * Bytes received, in order, read from the front.
 *
 * @example
 * ```ts
 * import { InputBuffer } from "./http1_buffer.ts";
 * const input = new InputBuffer();
 * input.push(new Uint8Array([1, 2]));
 * input.push(new Uint8Array([3]));
 * input.consume(1);
 * console.log(input.bytes); // Uint8Array [2, 3]
 * ```
 */
export class InputBuffer {
  // The room; the bytes held are [#start, #end). Its bytes before #start may have been
  // handed out (a request body's views), so they are never written again: room that
  // runs out is replaced, not compacted.
  #room: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  #view: Uint8Array = EMPTY;

  /** The bytes held (a view, valid until the next push or consume). */
  get bytes(): Uint8Array {
    return this.#view;
  }

  /** How many bytes are held. */
  get length(): number {
    return this.#end - this.#start;
  }

  /**
   * Appends a copy of `chunk` (a runtime may reuse the memory of the chunks it hands out).
   *
   * @param chunk The bytes received.
   */
  push(chunk: Uint8Array): void {
    const held = this.#end - this.#start;
    if (held === 0) {
      // The common case: nothing held, the chunk is copied as it is.
      this.#room = new Uint8Array(chunk);
      this.#start = 0;
      this.#end = chunk.length;
    } else if (this.#end + chunk.length <= this.#room.length) {
      this.#room.set(chunk, this.#end);
      this.#end += chunk.length;
    } else {
      const room = new Uint8Array(Math.max(held + chunk.length, held * 2));
      room.set(this.#room.subarray(this.#start, this.#end));
      room.set(chunk, held);
      this.#room = room;
      this.#start = 0;
      this.#end = held + chunk.length;
    }
    this.#view = this.#room.subarray(this.#start, this.#end);
  }

  /**
   * Drops bytes from the front.
   *
   * @param count How many (at most {@linkcode InputBuffer.length}).
   */
  consume(count: number): void {
    if (count <= 0) return;
    this.#start = Math.min(this.#end, this.#start + count);
    if (this.#start === this.#end) return this.clear();
    this.#view = this.#room.subarray(this.#start, this.#end);
  }

  /** Drops everything held. */
  clear(): void {
    this.#room = this.#view = EMPTY;
    this.#start = this.#end = 0;
  }
}
