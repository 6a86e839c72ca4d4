/**
 * The buffer of a payload split across chunks: how big it starts and how it grows.
 * Pure: no runtime APIs.
 *
 * @module
 */

import { headerLength } from "./encoder.ts";

// A split payload's buffer is allocated whole up to this size (the default maxMsgSize);
// above it the buffer grows with the bytes that arrive, not with the length the header
// claims, so a lying header cannot make us allocate more than twice what it sent.
const EAGER_CAPACITY = 262_144;
const zeroed = (size: number): Uint8Array => new Uint8Array(size);

/**
 * Returns a buffer for a split frame's payload with room for at least `min` payload bytes,
 * behind zeroed room for our own header (`reply.ts`), holding the `got` bytes of `old`:
 * `old` itself when it has that room.
 *
 * @param old The frame's buffer so far, or null for its first part.
 * @param length The payload length the header claims.
 * @param got The payload bytes already in `old`.
 * @param min The payload bytes the buffer must hold now.
 * @param allocate Allocates without zeroing when the runtime can. @default {new Uint8Array}
 * @returns The buffer to write the next part into.
 *
 * @example A 300-byte frame's first 100 bytes
 * ```ts
 * import { growFrame } from "./frame_buffer.ts";
 * console.log(growFrame(null, 300, 0, 100).length); // 304: 4 bytes of header room
 * ```
 */
export function growFrame(
  old: Uint8Array | null,
  length: number,
  got: number,
  min: number,
  allocate: (size: number) => Uint8Array = zeroed,
): Uint8Array {
  const room = headerLength(length);
  if (old !== null && old.length - room >= min) return old;
  // A frame up to EAGER_CAPACITY gets its whole length at once (one allocation, no
  // copies); beyond that the buffer doubles, so a claimed length reserves no more than
  // about twice what has arrived.
  const wanted = Math.max(min, old === null ? EAGER_CAPACITY : (old.length - room) * 2);
  const next = allocate(room + Math.min(length, wanted));
  // The header room is seen (through the view's `buffer`) before a reply fills it.
  next.fill(0, 0, room);
  if (old !== null) next.set(old.subarray(room, room + got), room);
  return next;
}

/**
 * The free part of a split frame's buffer from {@linkcode growFrame}: where its next
 * payload bytes go, at most as many as are still to come.
 *
 * @param frame The frame's buffer.
 * @param length The payload length the header claims.
 * @param got The payload bytes already in `frame`.
 * @returns A view of `frame`.
 *
 * @example A 300-byte frame's buffer after 100 bytes
 * ```ts
 * import { growFrame, roomOf } from "./frame_buffer.ts";
 * console.log(roomOf(growFrame(null, 300, 0, 100), 300, 100).length); // 200
 * ```
 */
export function roomOf(frame: Uint8Array, length: number, got: number): Uint8Array {
  const at = headerLength(length) + got, size = Math.min(frame.length - at, length - got);
  return new Uint8Array(frame.buffer, frame.byteOffset + at, size);
}
