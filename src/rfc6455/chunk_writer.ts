/**
 * What an outbox writes to and what all outboxes share: the narrow part of a Node.js
 * `Duplex` the engine uses, and the slab with its UTF-8 encoders. Pure.
 *
 * @module
 */

import type { Utf8Write } from "./encoder.ts";
import type { OutputSlab } from "./slab.ts";

/**
 * Where an outbox writes: the part of a Node.js `Duplex` it uses.
 *
 * @example A writer that collects chunks
 * ```ts
 * import type { ChunkWriter } from "./chunk_writer.ts";
 * const chunks: Uint8Array[] = [];
 * const writer: ChunkWriter = {
 *   destroyed: false, cork() {}, uncork() {},
 *   write: (chunk) => (chunks.push(chunk), true),
 * };
 * ```
 */
export interface ChunkWriter {
  /** Once true, nothing more is written. */
  readonly destroyed: boolean;
  /** Writes one chunk, keeping a reference to it; `false` asks the caller to slow down. */
  write(chunk: Uint8Array): boolean;
  /** Starts gathering writes into one. */
  cork(): void;
  /** Sends what was gathered since {@linkcode ChunkWriter.cork}. */
  uncork(): void;
}

/**
 * What every outbox shares: the slab and the UTF-8 encoders.
 *
 * @example Portable options
 * ```ts
 * import type { OutboxOptions } from "./chunk_writer.ts";
 * import { OutputSlab } from "./slab.ts";
 * const options: OutboxOptions = { slab: new OutputSlab() };
 * ```
 */
export interface OutboxOptions {
  /** The slab frames are encoded into. */
  readonly slab: OutputSlab;
  /** Writes a string into the slab. @default {pureUtf8Write} */
  readonly utf8Write?: Utf8Write;
  /** Encodes a long string on its own. @default {TextEncoder#encode} */
  readonly encodeUtf8?: (text: string) => Uint8Array;
  /**
   * Told each time the writer refuses more (a write returned `false`), before the outbox
   * waits for `Outbox#drained`: where the writer's drain is listened for only
   * from then on.
   */
  readonly refused?: (writer: ChunkWriter) => void;
}
