/**
 * Reads into buffers the engine picks, on Node.js sockets: the rest of a large payload
 * goes from the kernel straight into the message's own buffer, everything else into one
 * scratch buffer, copied out at once.
 *
 * Node.js reads every chunk into a new `ArrayBuffer` of 64 KiB, so a 64 KiB message cost
 * two of them (the chunks it spans, then the message they are copied into), and V8 starts
 * a full collection each time the bytes of `ArrayBuffer`s grow 64 MiB past their level
 * at the last one. Read straight into its own buffer, a large message costs one, and no
 * copy.
 *
 * A `net.Socket` made with the `onread` option reads into the buffers its callbacks give
 * ([docs](https://nodejs.org/api/net.html#socketconnectoptions-connectlistener)); an
 * accepted socket is not made by us, so the fields that option sets are set on it, with
 * its handle's `useUserBuffer`, as the constructor would have. The socket stays the one
 * the application holds (`ws.raw`), with its `bytesRead`, timeouts, `pause` and `end`,
 * and it still emits `data`: each read, as a view of the payload's buffer where the bytes
 * landed (the parser, filling that buffer, unmasks them where they lie) or a copy of the
 * scratch buffer. Sockets without those fields or a native handle (TLS, Deno's and Bun's
 * `node:net`, a stream handed in by a test) are left alone.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import type { FrameReader } from "./frame_reader.ts";

// A split payload with at least this many bytes still to come is read straight into its
// buffer: below it, a read of its own costs more than the copy it saves.
const DIRECT_MIN = 16384;
// After a large payload the next read takes a frame header and no more, so that a large
// next payload is read straight into its own buffer too (14: the longest client header).
const HEAD = 14;
const SCRATCH = 65536;

// Reads are synchronous and each is copied out before the next: one scratch buffer
// serves every socket.
const scratch: Uint8Array = Buffer.allocUnsafeSlow(SCRATCH);
const head: Uint8Array = scratch.subarray(0, HEAD);

// One connection's reading: its parser (made and dropped by the connection as it goes)
// and whether the last read went straight into a large payload.
interface Reading {
  readonly parser: () => FrameReader | null;
  afterLarge: boolean;
}
const kReading: unique symbol = Symbol("wsx.rfc6455.reading");
type ReadingSocket = Duplex & { [kReading]?: Reading };

// The reading whose bytes were just taken: Node.js asks for the next buffer right after,
// with no `this`.
let current: Reading | undefined;

// Set as the socket's onread callbacks; `this` of `read` is the socket.
function read(this: ReadingSocket, n: number, buf: Uint8Array): void {
  current = this[kReading];
  const chunk = buf.buffer === scratch.buffer
    ? copyOut(n)
    : new Uint8Array(buf.buffer, buf.byteOffset, n);
  this.emit("data", chunk);
}

function next(): Uint8Array {
  const reading = current;
  current = undefined;
  if (reading === undefined) return scratch;
  // Right after a large payload, even a small rest of the next one (a read that came
  // short) is read on its own: the read after it starts at a frame's header.
  const parser = reading.parser(), after = reading.afterLarge;
  const room = parser === null ? null : parser.directRoom(after ? 1 : DIRECT_MIN);
  if (room !== null) return reading.afterLarge = true, room;
  reading.afterLarge = false;
  return after ? head : scratch;
}

// The parser keeps views of its chunks: the bytes read leave the scratch buffer at once.
function copyOut(n: number): Uint8Array {
  // Up to 64 bytes V8 keeps a typed array on its heap: cheaper than a Buffer's memory.
  const copy = n <= 64 ? new Uint8Array(n) : Buffer.allocUnsafeSlow(n);
  copy.set(n === SCRATCH ? scratch : new Uint8Array(scratch.buffer, 0, n));
  return copy;
}

interface Keys {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}
let keys: Keys | undefined;

// The fields `net.Socket`'s constructor sets from `onread`, found by their names once.
function keysOf(socket: object): Keys | undefined {
  if (keys !== undefined && Object.hasOwn(socket, keys.generator)) return keys;
  const named = new Map<string | undefined, symbol>();
  for (const s of Object.getOwnPropertySymbols(socket)) named.set(s.description, s);
  const buffer = named.get("kBuffer"), callback = named.get("kBufferCb");
  const generator = named.get("kBufferGen");
  if (buffer === undefined || callback === undefined || generator === undefined) return;
  return keys = { buffer, callback, generator };
}

type Handle = { useUserBuffer?: (buf: Uint8Array) => void };

// The socket's handle's `useUserBuffer`, when this socket can read into our buffers.
function userBuffers(socket: Duplex): Handle["useUserBuffer"] | undefined {
  const use = (socket as { _handle?: Handle | null })._handle?.useUserBuffer;
  // Node's own handle (C++): a JavaScript one (Deno's) may not take the next buffers.
  if (typeof use !== "function" || !String(use).includes("[native code]")) return;
  return (socket as { encrypted?: boolean }).encrypted === true ? undefined : use;
}

/**
 * Once `parser` waits for a large payload's rest, makes the socket read into buffers of
 * ours from then on: that rest straight into the payload's buffer, and so on for the
 * connection's later payloads (see the module's doc).
 *
 * @param socket The connection's socket, read through its `data` events.
 * @param parser The parser that just took a chunk.
 * @param parserOf The connection's parser at any later time, or null while it has none.
 * @returns 1 when the socket now reads into our buffers, -1 when it never can, 0 when
 * `parser` waits for no large payload.
 * @example
 * ```ts
 * import { Socket } from "node:net";
 * import { FrameParser } from "./parser.ts";
 * import { readDirectly } from "./socket_reads.ts";
 * const sink = { message() {}, ping() {}, pong() {}, close() {}, error() {} };
 * const parser = new FrameParser(sink, { limits: { maxMsgSize: 1024 } });
 * console.log(readDirectly(new Socket(), parser, () => parser)); // 0
 * ```
 */
export function readDirectly(
  socket: Duplex,
  parser: FrameReader,
  parserOf: () => FrameReader | null,
): number {
  // (A frame made here for the rest of the payload is the one the parser fills anyway.)
  const room = parser.directRoom(DIRECT_MIN);
  if (room === null || socket.readableLength > 0) return 0;
  const use = userBuffers(socket), k = keysOf(socket);
  const fields = socket as unknown as Record<symbol, unknown>;
  if (use === undefined || k === undefined || fields[k.generator] !== null) return -1;
  use.call((socket as { _handle?: Handle })._handle, room);
  (socket as ReadingSocket)[kReading] = { parser: parserOf, afterLarge: true };
  fields[k.buffer] = room;
  fields[k.callback] = read;
  fields[k.generator] = next;
  return 1;
}
