/**
 * Frames encoded once for many connections (broadcast and publish): written into the
 * shared output slab, then taken by reference by each receiver's outbox
 * (`Outbox.shared`), so a burst of broadcasts leaves as one contiguous write per
 * receiver. Pure.
 *
 * @module
 */

import {
  COPY_LIMIT,
  encodeFrame,
  OPCODE,
  pureUtf8Write,
  textFrameCapacity,
  writeHeader,
  writeTextFrame,
} from "./encoder.ts";
import type { OutboxOptions } from "./outbox.ts";
import type { SlabFrame } from "./slab.ts";

/**
 * Encodes a data frame once into the shared slab, for `Outbox.shared` on any
 * number of connections.
 *
 * @param options The options every outbox of the slab shares.
 * @param opcode `OPCODE.text` or `OPCODE.binary`.
 * @param data The payload: a string is written as UTF-8 (with `OPCODE.text`).
 * @returns Where the frame lies.
 * @example Encode a text frame once
 * ```ts
 * import { encodeShared } from "./shared_frame.ts";
 * import { OPCODE } from "./encoder.ts";
 * import { OutputSlab } from "./slab.ts";
 * const frame = encodeShared({ slab: new OutputSlab() }, OPCODE.text, "hi");
 * console.log(frame.buffer.subarray(frame.start, frame.end)); // Uint8Array [129, 2, 104, 105]
 * ```
 */
export function encodeShared(
  options: OutboxOptions,
  opcode: number,
  data: string | Uint8Array,
): SlabFrame {
  const slab = options.slab;
  if (typeof data === "string") {
    slab.reserve(textFrameCapacity(data));
    const at = slab.tail;
    const end = writeTextFrame(slab.buffer, at, data, options.utf8Write ?? pureUtf8Write);
    slab.commit(end);
    return { buffer: slab.buffer, start: at, end };
  }
  const n = data.byteLength;
  slab.reserve(n + 10);
  const at = slab.tail, out = slab.buffer, body = writeHeader(out, at, opcode, n);
  out.set(data, body);
  slab.commit(body + n);
  return { buffer: out, start: at, end: body + n };
}

const textEncoder = new TextEncoder();

/**
 * Encodes a message once for many connections (broadcast and publish): into the shared
 * slab when small (a short text as UTF-8 directly), else as a header and the payload by
 * reference (`encodeFrame`).
 *
 * @param options The options every outbox of the slab shares.
 * @param data The message.
 * @param isText A text frame when true.
 * @returns The frame, for `Outbox.shared` (a {@linkcode SlabFrame}) or `Outbox.frame`.
 * @example A short text lands in the slab
 * ```ts
 * import { encodeForMany } from "./shared_frame.ts";
 * import { OutputSlab } from "./slab.ts";
 * console.log(Array.isArray(encodeForMany({ slab: new OutputSlab() }, "hi", true))); // false
 * ```
 */
export function encodeForMany(
  options: OutboxOptions,
  data: string | Uint8Array,
  isText: boolean,
): SlabFrame | Uint8Array[] {
  const opcode = isText ? OPCODE.text : OPCODE.binary;
  if (typeof data === "string") {
    if (isText && data.length * 3 <= COPY_LIMIT) return encodeShared(options, opcode, data);
    data = options.encodeUtf8?.(data) ?? textEncoder.encode(data);
  }
  if (data.byteLength <= COPY_LIMIT) return encodeShared(options, opcode, data);
  return encodeFrame(opcode, data);
}
