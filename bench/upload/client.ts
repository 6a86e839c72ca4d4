/**
 * A raw TCP upload client for the upload test and bench: one binary message of
 * `totalBytes` sent in `fragmentBytes` frames (masked with the zero key, so the client
 * spends nothing on masking), hashed on the client before the clock starts, then the
 * server's text reply (the hex SHA-256 digest) read back. Node.js only; no WebSocket
 * library.
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/** What one upload measured. */
export interface UploadResult {
  /** The digest the client computed. */
  readonly expected: string;
  /** The server's reply. */
  readonly reply: string;
  /** From the first frame written to the reply, in ms. */
  readonly ms: number;
}

function header(opcode: number, fin: boolean, length: number): Uint8Array {
  const ext = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4); // the zero masking key stays zero
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = 0x80 | (ext === 0 ? length : ext === 2 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (ext === 2) view.setUint16(2, length);
  if (ext === 8) view.setBigUint64(2, BigInt(length));
  return out;
}

function open(port: number): Promise<{ socket: Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = Buffer.alloc(0);
    socket.once("error", reject);
    socket.on("data", function onHead(chunk: Buffer) {
      got = Buffer.concat([got, chunk]);
      const end = got.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onHead);
      socket.pause();
      if (!got.subarray(0, 12).toString().includes("101")) reject(new Error(got.toString()));
      else resolve({ socket, rest: got.subarray(end + 4) });
    });
    socket.write(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
        "Sec-WebSocket-Version: 13\r\n\r\n",
    );
  });
}

// Reads one unfragmented text frame from the server.
function readText(socket: Socket, rest: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = rest;
    const check = (): void => {
      if (got.length < 2) return;
      const len = got[1] & 0x7f, at = len === 126 ? 4 : 2;
      const n = len === 126 ? got.readUInt16BE(2) : len;
      if (got.length < at + n) return;
      socket.off("data", onData);
      if ((got[0] & 0x0f) !== 1) {
        reject(new Error(`opcode ${got[0] & 0x0f}: ${got.subarray(at + 2, at + n)}`));
      } else resolve(got.subarray(at, at + n).toString());
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      check();
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error("closed before the reply")));
    socket.resume();
    check();
  });
}

/**
 * Uploads one message and reads the digest back.
 *
 * @param port The server's port on 127.0.0.1.
 * @param totalBytes The message size (a multiple of `fragmentBytes`).
 * @param fragmentBytes The payload of each frame.
 * @returns The digests and the time.
 */
export async function upload(
  port: number,
  totalBytes: number,
  fragmentBytes: number = 1 << 20,
): Promise<UploadResult> {
  const { socket, rest } = await open(port);
  const reply = readText(socket, rest);
  // One pseudo-random block, each fragment a rotation of it: cheap, and not periodic in
  // the fragment size.
  const block = randomBytes(fragmentBytes);
  const count = Math.ceil(totalBytes / fragmentBytes);
  const fragment = (i: number): [Buffer, Buffer] => {
    const shift = (i * 4099) % fragmentBytes;
    return [block.subarray(shift), block.subarray(0, shift)];
  };
  // Hashed before the clock starts, so the client's hashing is not what is measured.
  const hash = createHash("sha256");
  for (let i = 0; i < count; i++) for (const part of fragment(i)) hash.update(part);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const [a, b] = fragment(i);
    socket.write(header(i === 0 ? 2 : 0, i === count - 1, fragmentBytes));
    socket.write(a);
    if (!socket.write(b)) await new Promise((r) => socket.once("drain", r));
  }
  const digest = await reply;
  const ms = performance.now() - started;
  socket.end();
  return { expected: hash.digest("hex"), reply: digest, ms };
}
