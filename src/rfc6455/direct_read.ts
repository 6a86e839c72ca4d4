/**
 * Direct reads for large payloads on Node.js: the socket reads the rest of a payload
 * split across chunks straight into that message's own buffer, instead of Node.js
 * allocating a 64 KiB chunk per read that the parser then copies from.
 *
 * Node.js reads into buffers the application gives when a socket is made with the
 * `onread` option (https://nodejs.org/api/net.html#socketconnectoptions-connectlistener);
 * an accepted socket is not, so the upgraded socket's handle is moved to a new
 * `net.Socket` made with `onread`, once, the first time a connection's parser waits for
 * a large payload. Connections that only carry small messages are never moved and read
 * as before. Reads that are not a large payload's rest go to one scratch buffer shared by
 * every moved socket and are copied out (only that read's bytes): the parser keeps views
 * of its chunks, so a buffer it was given is never written again.
 *
 * What is moved must be a plain Node.js TCP socket, not written to or read from right
 * now: anything else (TLS, Deno's and Bun's `node:net`, bytes waiting in the socket)
 * keeps its `data` events.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Socket } from "node:net";
import type { Duplex } from "node:stream";

// Only payload rests at least this long are read directly: below it, a read per frame
// costs more than the copy it saves.
export const DIRECT_MIN = 16384;
// A moved socket's other reads: up to this much, or after a large payload's rest (the
// next is likely a header and the start of another large payload, which is better read
// directly than through the scratch buffer) only this much.
const SCRATCH_SIZE = 16384;
const AFTER_DIRECT = 1024;

/** The handle of a `net.Socket`: the parts this file relies on. */
interface TcpHandle {
  readonly reading?: boolean;
  useUserBuffer?(buffer: Uint8Array): void;
  readStart?(): number;
}

type NodeSocket = Duplex & {
  _handle?: TcpHandle | null;
  _server?: unknown;
  server?: unknown;
  encrypted?: boolean;
  connecting?: boolean;
  writableCorked?: number;
};

/** Where a moved socket's reads go: one per connection. */
export interface DirectReader {
  /** Where the next read goes, when it is the rest of a large payload; else null. */
  directRoom(): Uint8Array | null;
  /** `n` bytes were read into the last room {@linkcode DirectReader.directRoom} gave. */
  directRead(n: number): void;
  /** `chunk` was read (a copy of the scratch buffer's bytes). */
  chunkRead(chunk: Uint8Array): void;
}

const kReader: unique symbol = Symbol("wsx.rfc6455.directReader");
const kRoom: unique symbol = Symbol("wsx.rfc6455.directRoom");
type MovedSocket = Socket & { [kReader]?: DirectReader; [kRoom]?: Uint8Array | null };

let scratch: Buffer | null = null;
// The socket whose read was just handled: Node.js asks for its next buffer right after
// (`bufGen()` is called without `this`, and one closure per connection would cost memory
// on every idle connection).
let last: MovedSocket | null = null;

function nextBuffer(): Uint8Array {
  const socket = last;
  last = null;
  const buf = scratch ??= Buffer.allocUnsafeSlow(SCRATCH_SIZE);
  if (socket === null) return buf;
  const room = socket[kReader]?.directRoom() ?? null;
  const wasDirect = socket[kRoom] != null;
  socket[kRoom] = room;
  return room ?? (wasDirect ? buf.subarray(0, AFTER_DIRECT) : buf);
}

function onRead(this: MovedSocket, n: number, buf: Uint8Array): void {
  const reader = this[kReader];
  last = this;
  if (reader === undefined) return;
  if (buf === this[kRoom]) return reader.directRead(n);
  // A copy of exactly what was read, as Node.js would have allocated it.
  const chunk = Buffer.allocUnsafeSlow(n);
  chunk.set(buf.subarray(0, n));
  reader.chunkRead(chunk);
}

/**
 * Whether {@linkcode moveForDirectReads} can move this socket now.
 *
 * @param socket An upgraded socket.
 * @returns `true` for a plain Node.js TCP socket with nothing in flight.
 * @example
 * ```ts
 * import { Socket } from "node:net";
 * import { canReadDirectly } from "./direct_read.ts";
 * console.log(canReadDirectly(new Socket())); // false: not connected
 * ```
 */
export function canReadDirectly(socket: Duplex): boolean {
  if (!(socket instanceof Socket)) return false;
  const s = socket as NodeSocket, handle = s._handle;
  return (
    handle != null && typeof handle.useUserBuffer === "function" && s.encrypted !== true &&
    !s.connecting && !s.destroyed && s.readableLength === 0 && s.writableLength === 0 &&
    !s.readableEnded && (s.writableCorked ?? 0) === 0 &&
    typeof (globalThis as { Bun?: unknown }).Bun === "undefined" &&
    typeof (globalThis as { Deno?: unknown }).Deno === "undefined"
  );
}

/**
 * Moves a socket's handle to a new `net.Socket` whose reads go to `reader`. The old
 * socket, which the application may hold (`upgrade`'s socket, a `connection` listener's),
 * stays its handle on the connection: destroying it destroys the new one, and it closes
 * (or times out) when the new one does.
 *
 * @param socket A socket for which {@linkcode canReadDirectly} is true.
 * @param reader Where reads go from now on.
 * @returns The new socket, reading.
 * @example
 * ```ts
 * import type { Socket } from "node:net";
 * import { canReadDirectly, moveForDirectReads } from "./direct_read.ts";
 * declare const socket: Socket;
 * const reader = { directRoom: () => null, directRead() {}, chunkRead() {} };
 * if (canReadDirectly(socket)) moveForDirectReads(socket, reader);
 * ```
 */
export function moveForDirectReads(socket: Duplex, reader: DirectReader): Duplex {
  const old = socket as NodeSocket & Socket;
  const handle = old._handle!, server = old._server, timeout = old.timeout ?? 0;
  // Read while the handle is there: both are cached for later readers of the old socket.
  void old.remoteAddress, old.localAddress;
  if (timeout > 0) old.setTimeout(0);
  // The old socket must neither close the handle nor count itself out of its server.
  old._handle = null;
  old._server = null;
  const moved: MovedSocket = new Socket(
    {
      handle,
      onread: { buffer: nextBuffer, callback: onRead },
    } as ConstructorParameters<typeof Socket>[0],
  );
  moved[kReader] = reader;
  moved[kRoom] = null;
  const m = moved as unknown as NodeSocket;
  m._server = server;
  m.server = server;
  (old as unknown as Destroyable)._destroy = (err, done) => {
    moved.destroy(err ?? undefined);
    done(err);
  };
  moved.once("close", () => old.destroy());
  if (timeout > 0) {
    moved.setTimeout(timeout);
    moved.on("timeout", () => old.emit("timeout"));
  }
  return moved;
}

interface Destroyable {
  _destroy(err: Error | null, done: (err: Error | null) => void): void;
}
