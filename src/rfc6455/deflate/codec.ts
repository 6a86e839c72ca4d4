/**
 * permessage-deflate on the runtimes' `node:zlib` (Node.js, and Deno's and Bun's
 * `node:zlib`, which behave the same here): synchronous compression and inflation of
 * whole messages on process-wide zlib streams reset between messages (`shared.ts`), so
 * no zlib state is kept between messages and none is made per message.
 *
 * @module
 */

import { constants, createInflateRaw } from "node:zlib";
import type { RawInflate } from "./inflater.ts";
import { sharedDeflater, sharedInflater, type ZlibInternals } from "./shared.ts";
import type { InflateStep } from "./stream_inflate.ts";

/**
 * Inflates raw DEFLATE data ending on a sync flush, on the shared inflater: zlib is
 * never given output room past the limit, so a bomb costs no more than the limit.
 *
 * @param input The compressed bytes, `00 00 ff ff` included.
 * @param maxOutput The largest output allowed.
 * @returns The bytes, `"too-big"` or `"corrupt"`.
 * @example
 * ```ts
 * import { rawInflate } from "./codec.ts";
 * const hello = new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff]);
 * console.log(new TextDecoder().decode(rawInflate(hello, 100) as Uint8Array)); // "Hello"
 * ```
 */
export const rawInflate: RawInflate = (
  input: Uint8Array,
  maxOutput: number,
): Uint8Array | "too-big" | "corrupt" => {
  return sharedInflater().run(input, Math.max(1, maxOutput));
};

/**
 * Opens an incremental raw inflater for one streamed message (`stream_inflate.ts`): a
 * `node:zlib` `InflateRaw` whose handle is driven synchronously, so each call writes at
 * most the output room it is given.
 *
 * @returns The inflater; close it when the message ends.
 * @example
 * ```ts
 * import { openInflate } from "./codec.ts";
 * const step = openInflate();
 * const out = new Uint8Array(16);
 * const hello = new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff]);
 * step.write(hello, 0, hello.length, out, 0, 16);
 * console.log(step.read, step.wrote); // 11 5
 * step.close();
 * ```
 */
export function openInflate(): InflateStep {
  // The stream's own output buffer is never used: the smallest zlib allows.
  const stream = createInflateRaw({ chunkSize: constants.Z_MIN_CHUNK }) as unknown as ZlibInternals;
  const handle = stream._handle!, state = stream._writeState;
  let failed = false;
  // Replaces the stream's own handler, which would destroy it and emit 'error' later.
  handle.onerror = () => void (failed = true);
  stream.on("error", () => {});
  const step = {
    read: 0,
    wrote: 0,
    write(
      input: Uint8Array,
      start: number,
      end: number,
      out: Uint8Array,
      at: number,
      room: number,
    ) {
      handle.writeSync(constants.Z_SYNC_FLUSH, input, start, end - start, out, at, room);
      step.read = end - start - state[1];
      step.wrote = room - state[0];
      return !failed;
    },
    close: () => stream.close(),
  };
  return step;
}

/**
 * How a message is compressed: level, memLevel and window, agreed once per connection.
 *
 * @example
 * ```ts
 * import type { DeflateSettings } from "./codec.ts";
 * const s: DeflateSettings = { level: 1, memLevel: 8, windowBits: 15 };
 * ```
 */
export interface DeflateSettings {
  /** The zlib level, 0 to 9. */
  readonly level: number;
  /** The zlib memLevel, 1 to 9. */
  readonly memLevel: number;
  /** The window, 9 to 15 bits. */
  readonly windowBits: number;
}

/**
 * Compresses one message on its own (no context taken over from earlier messages),
 * flushed to a block boundary with the trailing `00 00 ff ff` removed
 * ([RFC 7692 section 7.2.1](https://www.rfc-editor.org/rfc/rfc7692#section-7.2.1)).
 *
 * @param data The message payload.
 * @param settings Level, memLevel and window.
 * @param history With server context takeover: the last bytes of the earlier compressed
 * messages, at most the window. @default {undefined}
 * @returns The payload of a frame with RSV1 set.
 * @example
 * ```ts
 * import { deflateMessage } from "./codec.ts";
 * const out = deflateMessage(new TextEncoder().encode("Hello"), { level: 6, memLevel: 8, windowBits: 15 });
 * console.log(out); // Uint8Array [242, 72, 205, 201, 201, 7, 0]
 * ```
 */
export function deflateMessage(
  data: Uint8Array,
  settings: DeflateSettings,
  history?: Uint8Array,
): Uint8Array {
  // zlib's state is sized by the window and memLevel (about 300 KiB at 15 and 8), and
  // reset clears its hash table: a window no larger than the message (plus zlib's
  // 262-byte lookahead) compresses it exactly as well, with less to clear.
  // With server context takeover, the earlier messages (the peer's inflate window) are
  // compressed first and their output dropped, ending on a sync flush's byte boundary:
  // the message can then refer back into them, as a kept compressor would. zlib takes a
  // dictionary only when a stream is made (reset re-applies that same one), so a
  // dictionary would need a new stream per message.
  const n = data.byteLength, seen = history?.byteLength ?? 0;
  const windowBits = Math.min(
    settings.windowBits,
    Math.max(9, Math.ceil(Math.log2(n + seen + 262))),
  );
  const memLevel = Math.min(settings.memLevel, Math.max(1, windowBits - 7));
  const out = sharedDeflater(settings.level, windowBits, memLevel)
    .run(data, Number.MAX_SAFE_INTEGER, seen > 0 ? history : undefined);
  if (typeof out === "string") throw new Error(`Cannot compress message: ${out}`);
  const end = out.length;
  const trailer = end >= 4 && out[end - 4] === 0 && out[end - 3] === 0 &&
    out[end - 2] === 0xff && out[end - 1] === 0xff;
  return trailer ? out.subarray(0, end - 4) : out;
}
