// Messages taken as streams (onStream) on a real server: wsx's engine behind serve() on
// Node.js, a raw TCP client writing frames by hand.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { afterEach, describe, test } from "node:test";
import { deflateRawSync } from "node:zlib";
import { serve } from "../../src/adapters/node.ts";
import { configure, resetSettings } from "../../src/core/settings.ts";
import { setErrorReporter } from "../../src/core/report.ts";
import { upgrade } from "../../src/core/upgrade.ts";
import type { WsxServer } from "../../src/core/server.ts";
import type { WsxError } from "../../src/errors.ts";
import type { UpgradeSettings } from "../../src/types.ts";
import { clientFrame, closePayload, RawClient } from "./_client.ts";

const OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8;
const bytesOf = (n: number, seed = 7): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (p: Uint8Array) => new TextDecoder().decode(p);

let server: WsxServer | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  // After a protocol error the engine stops reading and destroys the socket on an
  // unref'd timer: keep the process alive until the server has closed.
  const keepAlive = setTimeout(() => {}, 10_000);
  await server?.shutdown({ timeoutMs: 500 });
  clearTimeout(keepAlive);
  server = undefined;
  resetSettings();
});

async function start(settings: UpgradeSettings<undefined>): Promise<number> {
  server = await serve({ port: 0, hostname: "127.0.0.1", onRequest: (r) => upgrade(r, settings) });
  return server.port;
}

async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

// Reads a stream to its end: its bytes, or the error it ended with.
async function drain(stream: ReadableStream<Uint8Array>, chunks: Uint8Array[] = []) {
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { size: chunks.reduce((n, c) => n + c.byteLength, 0), chunks, error: undefined };
  } catch (error) {
    return { size: -1, chunks, error: error as WsxError };
  }
}

describe("onStream on wsx's engine (Node.js)", () => {
  test("onStream reads a message's bytes in order while its fragments arrive", async () => {
    let firstChunk!: () => void;
    const gotFirst = new Promise<void>((r) => (firstChunk = r));
    const port = await start({
      async onStream(ws, stream, isText) {
        let n = 0, sum = 0;
        for await (const chunk of stream) {
          if (n++ === 0) firstChunk();
          for (const b of chunk) sum = (sum + b) % 65521;
        }
        ws.write(`${isText} ${sum}`);
      },
    });
    const c = await client(port);
    const a = bytesOf(100_000), b = bytesOf(50_000, 3);
    c.send(OP_BINARY, a, { fin: false });
    // The first bytes reach the application before the message ends.
    await gotFirst;
    c.send(OP_CONT, b);
    let sum = 0;
    for (const x of [...a, ...b]) sum = (sum + x) % 65521;
    assert.equal(text((await c.read()).payload), `false ${sum}`);
  });

  test("streamWhen sees the first frame's header and chooses per message", async () => {
    const seen: unknown[] = [];
    const port = await start({
      streamWhen: (info) => (seen.push({ ...info }), info.length > 1000 || !info.fin),
      onMessage: (ws, data) => ws.write(`whole ${data.length}`),
      async onStream(ws, stream) {
        ws.write(`stream ${(await drain(stream)).size}`);
      },
    });
    const c = await client(port);
    c.send(OP_BINARY, bytesOf(10));
    assert.equal(text((await c.read()).payload), "whole 10");
    c.send(OP_BINARY, bytesOf(5000));
    assert.equal(text((await c.read()).payload), "stream 5000");
    c.send(OP_TEXT, "ab", { fin: false });
    c.send(OP_CONT, "cd");
    assert.equal(text((await c.read()).payload), "stream 4");
    assert.deepEqual(seen, [
      { isText: false, length: 10, fin: true, compressed: false },
      { isText: false, length: 5000, fin: true, compressed: false },
      { isText: true, length: 2, fin: false, compressed: false },
    ]);
  });

  test("a text stream arrives as UTF-8 chunks that each decode on their own", async () => {
    const message = "Grüße, 世界 😀 ".repeat(3000);
    const port = await start({
      async onStream(ws, stream, isText) {
        const strict = new TextDecoder("utf-8", { fatal: true });
        let joined = "";
        for await (const chunk of stream) joined += strict.decode(chunk);
        ws.write(`${isText} ${joined === message}`);
      },
    });
    const c = await client(port);
    const utf8 = new TextEncoder().encode(message);
    // Fragments and TCP writes both cut inside code points.
    const frames = [utf8.subarray(0, 1001), utf8.subarray(1001, 40_003), utf8.subarray(40_003)];
    const wire = frames.map((f, i) =>
      clientFrame(i === 0 ? OP_TEXT : OP_CONT, f, { fin: i === frames.length - 1 })
    );
    await c.writeChunked(Buffer.concat(wire), 997);
    assert.equal(text((await c.read()).payload), "true true");
  });

  test("cancelling a stream discards the rest of the message; the connection stays open", async () => {
    const port = await start({
      async onStream(ws, stream) {
        const reader = stream.getReader();
        await reader.read();
        await reader.cancel();
        ws.write("cancelled");
      },
      onMessage: (ws, data) => ws.write(`after ${data}`),
      streamWhen: (info) => !info.isText,
    });
    const c = await client(port);
    c.send(OP_BINARY, bytesOf(1000), { fin: false });
    assert.equal(text((await c.read()).payload), "cancelled");
    c.send(OP_CONT, bytesOf(2_000_000));
    c.send(OP_TEXT, "next");
    assert.equal(text((await c.read()).payload), "after next");
  });

  test("an unread stream stops the reading of its connection only", async () => {
    let raw!: Socket;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const port = await start({
      streamWhen: (info) => !info.isText,
      async onStream(ws, stream) {
        raw = ws.raw as Socket;
        await released;
        ws.write(`read ${(await drain(stream)).size}`);
      },
      onMessage: (ws, data) => ws.write(data),
    });
    const c = await client(port);
    const size = 64 << 20;
    c.send(OP_BINARY, bytesOf(size));
    await sleep(800);
    // The window (512 KiB) plus what the kernel and one read hold, not 64 MiB.
    const readWhilePaused = raw.bytesRead;
    assert.ok(readWhilePaused < 8 << 20, `read ${readWhilePaused} bytes while paused`);
    // Another connection is served meanwhile.
    const other = await client(port);
    other.send(OP_TEXT, "other");
    assert.equal(text((await other.read(2000)).payload), "other");
    release();
    assert.equal(text((await c.read(20_000)).payload), `read ${size}`);
  });

  test("reading resumes after a message that ended while its reader was behind", async () => {
    const port = await start({
      streamWhen: (info) => !info.isText,
      async onStream(ws, stream) {
        await sleep(300); // the whole message arrives, the window fills, reading stops
        ws.write(`read ${(await drain(stream)).size}`);
      },
      onMessage: (ws, data) => ws.write(`then ${data}`),
    });
    for (const size of [3 << 20, 520 << 10, 600 << 10]) await resumes(await client(port), size);
  });

  async function resumes(c: RawClient, size: number): Promise<void> {
    // One write: the message's end and the next message come with the bytes that fill
    // the window.
    c.write(Buffer.concat([clientFrame(OP_BINARY, bytesOf(size)), clientFrame(OP_TEXT, "next")]));
    // The next message may be answered before the stream's reader finishes.
    const replies = [text((await c.read(5000)).payload), text((await c.read(5000)).payload)];
    assert.deepEqual(replies.sort(), [`read ${size}`, "then next"]);
    // And again, with reading paused once more by the next stream.
    c.write(clientFrame(OP_BINARY, bytesOf(size)));
    assert.equal(text((await c.read(5000)).payload), `read ${size}`);
  }

  test("a stream left unread past streamTimeout errors and closes with 1011, not a ping timeout", async () => {
    configure({ timeout: 1, pongTimeout: 1, streamTimeout: 3 });
    let ended!: (e: unknown) => void;
    const outcome = new Promise((r) => (ended = r));
    const port = await start({
      async onStream(_ws, stream) {
        await sleep(10_000).then(() => {}, () => {});
        ended(await drain(stream));
      },
      onClose: (_ws, code) => ended({ code }),
    });
    // Built before connecting: masking 16 MiB here takes a while, and the server would
    // rightly ping a client that silent.
    const message = clientFrame(OP_BINARY, new Uint8Array(16 << 20));
    const c = await client(port);
    const started = Date.now();
    c.write(message);
    let frame = await c.read(8000);
    // A ping is fine; a ping timeout (a 1006 abort after about 2 s) is not.
    while (frame.opcode === 9) frame = await c.read(8000);
    assert.equal(frame.opcode, OP_CLOSE);
    assert.equal((frame.payload[0] << 8) | frame.payload[1], 1011);
    const waited = Date.now() - started;
    assert.ok(waited >= 2500, `closed after ${waited} ms`);
    assert.deepEqual(await outcome, { code: 1011 });
  });

  test("the stream errors exactly once when the connection closes mid-message", async () => {
    const results: unknown[] = [];
    const port = await start({
      async onStream(_ws, stream) {
        const r = await drain(stream);
        results.push([r.error?.code, r.error?.message]);
      },
    });
    const c = await client(port);
    c.send(OP_BINARY, bytesOf(1000), { fin: false });
    c.send(OP_CLOSE, closePayload(1000, "bye"));
    await c.expectClose(1000);
    const d = await client(port);
    d.send(OP_BINARY, bytesOf(1000), { fin: false });
    d.send(OP_TEXT, "not a continuation");
    await d.expectClose(1002);
    await sleep(100);
    assert.deepEqual(results, [
      [
        "stream-interrupted",
        "Message stream interrupted: the connection closed before the message ended: 1000 bye",
      ],
      [
        "stream-interrupted",
        "Message stream interrupted: the connection closed before the message ended: 1002 Invalid frame: new data frame before the previous message ended",
      ],
    ]);
  });

  test("invalid UTF-8 mid text stream closes with 1007 and errors the stream", async () => {
    const results: unknown[] = [];
    const port = await start({
      async onStream(_ws, stream) {
        const r = await drain(stream);
        // Web streams drop what was queued and not yet read when they error.
        const given = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(r.chunks));
        results.push(["fine".startsWith(given), r.error?.code]);
      },
    });
    const c = await client(port);
    c.send(OP_TEXT, "fine", { fin: false });
    c.send(OP_CONT, Uint8Array.of(0xed, 0xa0, 0x80), { fin: false });
    await c.expectClose(1007);
    await sleep(50);
    assert.deepEqual(results, [[true, "stream-interrupted"]]);
  });

  test("an onStream that throws or rejects closes the connection with 1011", async () => {
    setErrorReporter(() => {});
    const port = await start({
      async onStream(_ws, stream, isText) {
        if (isText) throw new Error("sync-looking bug in an async handler");
        await stream.getReader().read();
        throw new Error("bug after reading");
      },
    });
    for (const [opcode, payload] of [[OP_TEXT, "x"], [OP_BINARY, bytesOf(10)]] as const) {
      const c = await client(port);
      c.send(opcode, payload, { fin: false });
      await c.expectClose(1011);
    }
  });

  test("a compressed message is offered to streamWhen as compressed: streamed inflated, or whole", async () => {
    const offered: boolean[] = [];
    let streamCompressed = true;
    const port = await start({
      perMessageDeflate: true,
      streamWhen: (info) => (offered.push(info.compressed), !info.compressed || streamCompressed),
      async onStream(ws, stream) {
        ws.write(`stream ${(await drain(stream)).size}`, true, { compress: false });
      },
      onMessage: (ws, data) => ws.write(`whole ${data.length}`, true, { compress: false }),
    });
    const c = await RawClient.connect(port, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    clients.push(c);
    const packed = deflateRawSync(new Uint8Array(5000), { finishFlush: 2 });
    c.send(OP_BINARY, packed, { rsv: 4 });
    assert.equal(text((await c.read()).payload), "stream 5000");
    c.send(OP_BINARY, bytesOf(5000));
    assert.equal(text((await c.read()).payload), "stream 5000");
    streamCompressed = false;
    c.send(OP_BINARY, packed, { rsv: 4 });
    assert.equal(text((await c.read()).payload), "whole 5000");
    assert.deepEqual(offered, [true, false, true]);
  });

  test("maxStreamSize refuses a streamed message with 1009; maxMsgSize does not apply", async () => {
    setErrorReporter(() => {});
    configure({ maxMsgSize: 1000, maxStreamSize: 100_000 });
    const sizes: number[] = [];
    const port = await start({
      async onStream(ws, stream) {
        const r = await drain(stream);
        sizes.push(r.size);
        if (r.error === undefined) ws.write(`ok ${r.size}`);
      },
    });
    const c = await client(port);
    c.send(OP_BINARY, bytesOf(50_000));
    assert.equal(text((await c.read()).payload), "ok 50000");
    c.send(OP_BINARY, bytesOf(60_000), { fin: false });
    c.send(OP_CONT, bytesOf(60_000));
    await c.expectClose(1009);
    assert.equal(server!.stats.oversize, 1);
  });
});
