/**
 * Compressed messages taken as streams (permessage-deflate with `onStream`) on wsx's
 * engine behind serve() on Node.js: inflated as they arrive, in order, bounded by
 * `maxStreamSize` and by the reader's window; raw TCP clients sending frames compressed
 * with node:zlib, and the ws client with perMessageDeflate.
 *
 *   node --import tsx --test tests/rfc6455/deflate/stream_test.ts
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { connect } from "node:net";
import { afterEach, describe, test } from "node:test";
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import WebSocket from "ws";
import { serve } from "../../../src/adapters/node.ts";
import { configure, resetSettings } from "../../../src/core/settings.ts";
import type { MessageStart } from "../../../src/core/transport.ts";
import { upgrade } from "../../../src/core/upgrade.ts";
import type { WsxServer } from "../../../src/core/server.ts";
import type { WsxError } from "../../../src/errors.ts";
import type { UpgradeSettings } from "../../../src/types.ts";
import { clientFrame, closePayload, RawClient } from "../_client.ts";

const CONT = 0, TEXT = 1, BINARY = 2, CLOSE = 8, RSV1 = 4;
const TRAILER = new Uint8Array([0, 0, 0xff, 0xff]);
const OFFER = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const text = (b: Uint8Array) => new TextDecoder().decode(b);
// A message's payload as RFC 7692 section 7.2.1 sends it: sync-flushed, 00 00 ff ff cut.
const compress = (b: Uint8Array | string) =>
  deflateRawSync(b, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
const rss = () => process.memoryUsage().rss;
// Promise.withResolvers is not in Node 20.
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// Random nibbles: they compress about 2:1, and order mistakes show in a hash.
function data(n: number): Uint8Array {
  const out = randomBytes(n);
  for (let i = 0; i < n; i++) out[i] &= 0x0f;
  return out;
}
// The server's reply, inflated when it came compressed.
async function reply(c: RawClient): Promise<string> {
  const f = await c.read(20_000);
  return text(
    f.rsv === RSV1
      ? inflateRawSync(Buffer.concat([f.payload, TRAILER]), { finishFlush: 2 })
      : f.payload,
  );
}

// Sends one compressed message as frames of `size` payload bytes (RSV1 on the first).
function sendFrames(c: RawClient, opcode: number, payload: Uint8Array, size: number): void {
  for (let at = 0; at < payload.length || at === 0; at += size) {
    const end = Math.min(payload.length, at + size);
    c.send(at === 0 ? opcode : CONT, payload.subarray(at, end), {
      rsv: at === 0 ? RSV1 : 0,
      fin: end === payload.length,
    });
    if (end === payload.length) break;
  }
}

let server: WsxServer | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  const keepAlive = setTimeout(() => {}, 10_000);
  await server?.shutdown({ timeoutMs: 500 });
  clearTimeout(keepAlive);
  server = undefined;
  resetSettings();
});

async function start(settings: UpgradeSettings<undefined>): Promise<number> {
  server = await serve({
    port: 0,
    hostname: "127.0.0.1",
    onRequest: (r) => upgrade(r, { perMessageDeflate: true, ...settings }),
  });
  return server.port;
}

async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port, OFFER);
  clients.push(c);
  return c;
}

// Reads a stream to its end: its size and hash, or the error it ended with.
async function consume(stream: ReadableStream<Uint8Array>, each?: (c: Uint8Array) => unknown) {
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of stream) {
      hash.update(chunk);
      size += chunk.byteLength;
      await each?.(chunk);
    }
    return { size, sha: hash.digest("hex"), error: undefined };
  } catch (error) {
    return { size, sha: "", error: error as WsxError };
  }
}

describe("compressed messages taken as streams", () => {
  test("a 6 MiB compressed binary message in 64 KiB frames streams in order (SHA-256)", async () => {
    const seen: MessageStart[] = [];
    let chunks = 0;
    const port = await start({
      streamWhen: (info) => (seen.push(info), true),
      async onStream(ws, stream) {
        const r = await consume(stream, () => chunks++);
        ws.write(`${r.size} ${r.sha}`);
      },
    });
    const c = await client(port);
    const message = data(6 << 20), packed = compress(message);
    sendFrames(c, BINARY, packed, 65536);
    assert.equal(await reply(c), `${message.length} ${sha(message)}`);
    assert.deepEqual(seen, [{ isText: false, length: 65536, fin: false, compressed: true }]);
    assert.ok(chunks > 10, `inflated in parts, not whole (${chunks} chunks)`);
  });

  test("the ws client's compressed message streams with its SHA-256", async () => {
    const port = await start({
      streamWhen: (info) => info.compressed,
      onMessage: (ws) => ws.write("whole"),
      async onStream(ws, stream) {
        const r = await consume(stream);
        ws.write(`${r.size} ${r.sha}`);
      },
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
    await once(ws, "open");
    const message = data(3 << 20);
    const reply = once(ws, "message");
    ws.send(message);
    assert.equal(String((await reply)[0]), `${message.length} ${sha(message)}`);
    // A small message goes uncompressed (ws's threshold): whole, as streamWhen chose.
    const small = once(ws, "message");
    ws.send("hi");
    assert.equal(String((await small)[0]), "whole");
    ws.close();
    await once(ws, "close");
  });

  test("ws told to compress with a 9-bit window (client_max_window_bits=9): streams too", async () => {
    const port = await start({
      perMessageDeflate: { clientMaxWindowBits: 9 },
      async onStream(ws, stream) {
        const r = await consume(stream);
        ws.write(`${r.size} ${r.sha}`);
      },
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
      perMessageDeflate: { clientMaxWindowBits: 15 }, // offered: the server narrows it
    });
    let header = "";
    ws.once("upgrade", (res) => void (header = String(res.headers["sec-websocket-extensions"])));
    await once(ws, "open");
    assert.match(header, /client_max_window_bits=9/);
    const message = new TextEncoder().encode(
      JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({ i, v: i % 7 }))),
    );
    const reply = once(ws, "message");
    ws.send(message);
    assert.equal(String((await reply)[0]), `${message.length} ${sha(message)}`);
    ws.close();
    await once(ws, "close");
  });

  test("a compressed text stream is cut only between code points", async () => {
    const port = await start({
      async onStream(ws, stream, isText) {
        const parts: string[] = [];
        const fatal = new TextDecoder("utf-8", { fatal: true });
        // Every chunk decodes on its own.
        const r = await consume(stream, (chunk) => void parts.push(fatal.decode(chunk)));
        ws.write(r.error ? `error ${r.error.code}` : `${isText} ${parts.length} ${parts.join("")}`);
      },
    });
    const c = await client(port);
    const message = "aé€😀".repeat(30_000);
    // 7-byte frames: code points and deflate codes are cut everywhere.
    sendFrames(c, TEXT, compress(message), 7);
    const got = await reply(c);
    const [isText, parts, ...rest] = got.split(" ");
    assert.equal(isText, "true");
    assert.ok(Number(parts) > 1);
    assert.equal(rest.join(" "), message);
  });

  test("two compressed streams in a row: each inflates on its own", async () => {
    const port = await start({
      async onStream(ws, stream) {
        const chunks: Uint8Array[] = [];
        await consume(stream, (chunk) => void chunks.push(chunk));
        ws.write(text(Buffer.concat(chunks)));
      },
    });
    const c = await client(port);
    // RFC 7692 section 7.2.3.2: the same bytes twice (no context taken over).
    const hello = new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    c.send(TEXT, hello, { rsv: RSV1 });
    c.send(TEXT, hello, { rsv: RSV1 });
    assert.equal(await reply(c), "Hello");
    assert.equal(await reply(c), "Hello");
  });

  test("a message ending in a final deflate block (BFINAL) streams too", async () => {
    const port = await start({
      async onStream(ws, stream) {
        const r = await consume(stream);
        ws.write(`${r.size} ${r.sha}`);
      },
    });
    const c = await client(port);
    const message = data(200_000);
    sendFrames(c, BINARY, deflateRawSync(message), 10_000);
    assert.equal(await reply(c), `${message.length} ${sha(message)}`);
  });

  test("streamWhen says no: the compressed message arrives whole", async () => {
    const port = await start({
      streamWhen: (info) => !info.compressed,
      onMessage: (ws, m) => ws.write(`whole ${(m as Uint8Array).byteLength}`),
      onStream: (ws) => void ws.write("streamed"),
    });
    const c = await client(port);
    sendFrames(c, BINARY, compress(data(100_000)), 4096);
    assert.equal(await reply(c), "whole 100000");
  });
});

describe("compressed streams: limits and errors", () => {
  test("256 MiB of zeros with maxStreamSize 64 MiB: 1009, bounded RSS", async (t) => {
    let result: Awaited<ReturnType<typeof consume>> | undefined;
    const done = deferred();
    let before = 0, peak = 0, read = 0;
    configure({ maxStreamSize: 64 << 20 });
    const port = await start({
      async onStream(_ws, stream) {
        result = await consume(stream, (chunk) => {
          // The RSS while the bomb inflates, every 4 MiB the reader gets.
          if ((read += chunk.byteLength) % (4 << 20) < chunk.byteLength) {
            peak = Math.max(peak, rss() - before);
          }
        });
        done.resolve();
      },
    });
    const c = await client(port);
    const bomb = compress(new Uint8Array(256 << 20));
    assert.ok(bomb.length < 300_000);
    (globalThis as { gc?: () => void }).gc?.();
    before = rss();
    sendFrames(c, BINARY, bomb, 65536);
    await c.expectClose(1009, 20_000);
    await done.promise;
    t.diagnostic(`RSS grew by at most ${(peak / 1048576).toFixed(1)} MiB`);
    assert.equal(result!.error?.code, "stream-interrupted");
    assert.ok(result!.size <= 64 << 20, `the reader got ${result!.size} bytes`);
    // The 64 MiB that pass through are garbage as the reader goes (collected when V8
    // decides); inflating ahead of the reader would hold them all at once.
    assert.ok(peak < 56 << 20, `RSS grew by ${peak} bytes`);
  });

  test("a slow reader of a 64 MiB bomb holds the inflation: bounded RSS, nothing overtakes", async (t) => {
    let readWhenMessage = -1, read = 0;
    const go = deferred(), done = deferred<string>();
    configure({ maxStreamSize: 1 << 30 });
    const port = await start({
      streamWhen: (info) => info.compressed,
      onMessage: () => void (readWhenMessage = read),
      async onStream(_ws, stream) {
        await go.promise; // the reader is away
        const r = await consume(stream, (chunk) => void (read += chunk.byteLength));
        done.resolve(`${r.size} ${r.error?.code ?? "complete"}`);
      },
    });
    const c = await client(port);
    const size = 64 << 20, bomb = compress(new Uint8Array(size));
    (globalThis as { gc?: () => void }).gc?.();
    const before = rss();
    // The bomb, a text message and a close, in one write: the message and the close
    // wait behind the stream, which the close does not cut short.
    c.write(Buffer.concat([
      clientFrame(BINARY, bomb, { rsv: RSV1 }),
      clientFrame(TEXT, "after"),
      clientFrame(CLOSE, closePayload(1000)),
    ]));
    await sleep(500);
    const grown = rss() - before;
    t.diagnostic(`RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
    assert.equal(readWhenMessage, -1, "the next message waited for the stream");
    assert.ok(grown < 16 << 20, `RSS grew by ${grown} bytes while the reader was away`);
    go.resolve();
    assert.equal(await done.promise, `${size} complete`);
    // "after" came once the stream's last bytes were inflated: at most its window and
    // one inflation step were still unread.
    assert.ok(readWhenMessage >= size - (1 << 20), `read ${readWhenMessage} before "after"`);
    await c.expectClose(1000);
  });

  test("frames sent with the upgrade request wait behind a compressed stream too", async () => {
    let read = 0;
    const port = await start({
      onMessage: (ws, m) => ws.write(`message ${m} ${read}`, true, { compress: false }),
      streamWhen: (info) => info.compressed,
      async onStream(_ws, stream) {
        await sleep(300); // the reader is away while the head is parsed
        await consume(stream, (chunk) => void (read += chunk.byteLength));
      },
    });
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (chunk: Buffer) => void (got += chunk.toString("latin1")));
    const size = 16 << 20, packed = compress(new Uint8Array(size));
    socket.write(Buffer.concat([
      Buffer.from(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
          OFFER + "\r\n",
      ),
      clientFrame(BINARY, packed.subarray(0, 1000), { rsv: RSV1, fin: false }),
      clientFrame(CONT, packed.subarray(1000)),
      clientFrame(TEXT, "after"),
    ]));
    for (let i = 0; i < 100 && !/message after \d+/.test(got); i++) await sleep(50);
    socket.destroy();
    assert.match(got, /^HTTP\/1\.1 101 /);
    // "after" came once the stream's bytes were inflated: at most its window and one
    // step unread.
    const readThen = Number(/message after (\d+)/.exec(got)?.[1]);
    assert.ok(readThen >= size - (1 << 20), `read ${readThen} before "after"`);
  });

  test("data that does not inflate: 1007 and the stream errors", async () => {
    const errors: string[] = [];
    const port = await start({
      async onStream(_ws, stream) {
        const r = await consume(stream);
        errors.push(r.error?.code ?? "none");
      },
    });
    const c = await client(port);
    // A block boundary (a whole sync flush), then a block of the reserved type 3.
    const valid = deflateRawSync(data(100_000), { finishFlush: constants.Z_SYNC_FLUSH });
    c.send(BINARY, valid, { rsv: RSV1, fin: false });
    c.send(CONT, new Uint8Array([0x06, 0x00]));
    await c.expectClose(1007);
    await sleep(50);
    assert.deepEqual(errors, ["stream-interrupted"]);
  });

  test("invalid UTF-8 inside a compressed text stream: 1007", async () => {
    const port = await start({ onStream: (_ws, stream) => void consume(stream) });
    const c = await client(port);
    const bad = new Uint8Array([...new TextEncoder().encode("ok ".repeat(1000)), 0xc0, 0xaf]);
    sendFrames(c, TEXT, compress(bad), 100);
    await c.expectClose(1007);
  });
});
