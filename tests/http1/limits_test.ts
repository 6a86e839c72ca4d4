// What wsx's HTTP/1.1 server gives a client that is slow or large, over real TCP
// (node:net) with raw clients: a body's deadline (bodyTimeoutMs, as node:http's
// requestTimeout), the kept-alive wait after a body that ends late, deadlines on one
// shared timer, a head trickled in small pieces (linear work, 431 still), and a huge
// upload the handler does not read (backpressure: the server takes a bounded amount).
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import process from "node:process";
import { describe, test } from "node:test";
import { serveHttp1Socket } from "../../src/adapters/http1_net.ts";
import { type Http1Options, resolveHttp1Options } from "../../src/adapters/http1_options.ts";
import {
  GET,
  parseResponses,
  raw,
  resolvers,
  sendUntilStalled,
  sleep,
  startHttp1,
} from "./_harness.ts";

const POST = (length: number) =>
  `POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${length}\r\n\r\n`;

describe("HTTP/1.1 limits: a request body's deadline", () => {
  test("a stalled body is answered 408 after bodyTimeoutMs and the handler's read fails", async () => {
    let failure: unknown;
    const server = await startHttp1({
      bodyTimeoutMs: 300,
      handler: async (request) => {
        await request.text().catch((error) => failure = error);
        return new Response("late");
      },
    });
    const started = Date.now();
    const out = await raw(server.port, POST(100) + "abc", { timeoutMs: 3000 });
    const took = Date.now() - started;
    assert.deepEqual(parseResponses(out.text).map((r) => r.status), [408]);
    assert.ok(out.closed);
    assert.ok(took >= 290 && took < 2000, `cut after ${took} ms`);
    assert.ok(failure instanceof Error && /bodyTimeoutMs/.test(failure.message));
    await server.close();
  });

  test("a body trickled a byte at a time is cut at bodyTimeoutMs all the same", async () => {
    const server = await startHttp1({ bodyTimeoutMs: 300 });
    const started = Date.now();
    const parts = [POST(1000), ...Array.from({ length: 100 }, () => "x")];
    const out = await raw(server.port, parts, { gapMs: 30, timeoutMs: 3000 });
    const took = Date.now() - started;
    assert.deepEqual(parseResponses(out.text).map((r) => r.status), [408]);
    assert.ok(out.closed && took < 2000, `cut after ${took} ms`);
    await server.close();
  });

  test("a stalled body whose response has begun is cut, with no 408 inside it", async () => {
    // The response streams the body back: its head is out before the body stalls.
    const server = await startHttp1({
      bodyTimeoutMs: 300,
      handler: (request) => new Response(request.body),
    });
    const out = await raw(server.port, POST(100) + "abc", { timeoutMs: 3000 });
    assert.ok(out.closed);
    assert.match(out.text, /^HTTP\/1\.1 200 /);
    assert.ok(!out.text.includes("408"), out.text);
    // The chunked body never got its last chunk.
    assert.equal(parseResponses(out.text).length, 0);
    await server.close();
  });

  test("a stalled body after its answer ends the connection without a 408", async () => {
    const server = await startHttp1({ bodyTimeoutMs: 300, handler: () => new Response("ok") });
    const out = await raw(server.port, POST(100) + "abc", { timeoutMs: 3000 });
    assert.deepEqual(parseResponses(out.text).map((r) => r.body), ["ok"]);
    assert.ok(out.closed);
    assert.ok(!out.text.includes("408"), out.text);
    await server.close();
  });

  test("a body that ends after its answer leaves a kept-alive connection that idles out", async () => {
    const server = await startHttp1({ idleTimeoutMs: 200, handler: () => new Response("ok") });
    const started = Date.now();
    const out = await raw(server.port, [POST(10) + "abc", "defghij"], {
      gapMs: 100,
      timeoutMs: 3000,
    });
    const took = Date.now() - started;
    assert.deepEqual(parseResponses(out.text).map((r) => r.body), ["ok"]);
    // Closed by the idle timeout after the body's end, not by the client's giving up.
    assert.ok(out.closed && took < 2000, `closed: ${out.closed} after ${took} ms`);
    await server.close();
  });

  test("bodyTimeoutMs must be a positive integer", () => {
    for (const bodyTimeoutMs of [0, -1, 1.5, Infinity]) {
      assert.throws(
        () => resolveHttp1Options({ handler: () => new Response(), bodyTimeoutMs }),
        (error: unknown) => error instanceof RangeError && /"bodyTimeoutMs"/.test(error.message),
      );
    }
  });
});

describe("HTTP/1.1 limits: deadlines share one timer", () => {
  const activeTimers = (process as { getActiveResourcesInfo?: () => string[] })
    .getActiveResourcesInfo;
  // Node.js names its timers in the list; Deno and Bun list otherwise, or not at all.
  const node = !("Bun" in globalThis) && !("Deno" in globalThis);
  test("200 connections waiting for their heads add no timer each", {
    skip: typeof activeTimers !== "function" || !node,
  }, async () => {
    const count = () => activeTimers!().filter((name) => name === "Timeout").length;
    const server = await startHttp1({ headTimeoutMs: 5000 });
    const before = count();
    const sockets: Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = connect(server.port, "127.0.0.1");
      socket.on("error", () => {});
      sockets.push(socket);
    }
    await Promise.all(sockets.map((s) => new Promise((r) => s.once("connect", r))));
    // Each sends part of a head: every connection holds a deadline now.
    for (const socket of sockets) socket.write("GET / HTTP/1.1\r\n");
    await sleep(200);
    const during = count();
    for (const socket of sockets) socket.destroy();
    await server.close();
    assert.ok(during - before <= 2, `${during - before} more timers for 200 connections`);
  });
});

// A server whose own listeners around wsx's `data` listener add up the time wsx spends
// on each chunk it receives (its work, whatever the client costs).
async function timedServer(options: Partial<Http1Options>) {
  const settings = resolveHttp1Options({ handler: () => new Response(), ...options });
  const work = { ms: 0, chunks: 0, bytes: 0, each: [] as number[] };
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let at = 0;
    socket.on("data", () => at = performance.now());
    serveHttp1Socket(socket, settings);
    socket.on("data", (chunk: Buffer) => {
      const ms = performance.now() - at;
      work.ms += ms;
      work.each.push(ms);
      work.chunks++;
      work.bytes += chunk.length;
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { port, work, close };
}

// Sends `text` in pieces of `size` bytes, one piece per turn of the event loop (so that
// the server, in the same process, reads about one piece a chunk), and returns what
// came back once the server closed or answered.
function trickle(port: number, text: string, size: number): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    const socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      out += chunk.toString("latin1");
      if (parseResponses(out).length > 0) socket.destroy();
    });
    socket.on("close", () => resolve(out));
    socket.on("error", () => {});
    socket.on("connect", async () => {
      for (let at = 0; at < text.length && !socket.destroyed; at += size) {
        socket.write(text.slice(at, at + size), "latin1");
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}

describe("HTTP/1.1 limits: a head trickled in small pieces", () => {
  test("a 1 MiB head in 32-byte pieces is read whole, with linear work", async () => {
    const fields = 64;
    const value = "v".repeat(16 * 1024 - 16);
    const head = `GET /big HTTP/1.1\r\nHost: a\r\n` +
      Array.from({ length: fields }, (_, i) => `X-F${i}: ${value}\r\n`).join("") + "\r\n";
    const server = await timedServer({
      maxHeadBytes: head.length,
      handler: (request) => {
        let bytes = 0;
        request.headers.forEach((v, name) => name.startsWith("x-f") && (bytes += v.length));
        return new Response(String(bytes));
      },
    });
    const out = await trickle(server.port, head, 32);
    await server.close();
    assert.equal(parseResponses(out)[0]?.body, String(fields * value.length));
    const { ms, chunks, bytes, each } = server.work;
    assert.equal(bytes, head.length);
    // Copying what is held on every chunk moves chunks x 512 KiB on average (about
    // 16 GB here): seconds. Linear work is a few microseconds a chunk.
    assert.ok(ms < 1500, `${ms.toFixed(0)} ms of the server's work for ${chunks} chunks`);
    // And whatever the machine's speed: a chunk costs no more when much is held (the
    // last quarter's chunks find 7 times what the first quarter's find held). The last
    // chunk, which parses the whole head, is left out.
    const quarter = Math.floor(chunks / 4);
    const sum = (list: number[]) => list.reduce((a, b) => a + b, 0);
    const first = sum(each.slice(0, quarter)), last = sum(each.slice(-quarter - 1, -1));
    assert.ok(
      last < 2.5 * first + 10,
      `first quarter ${first.toFixed(1)} ms, last ${last.toFixed(1)} ms`,
    );
  });

  test("a head trickled past maxHeadBytes is answered 431 before its end", async () => {
    const server = await timedServer({ maxHeadBytes: 4096 });
    const head = GET("/", `X: ${"a".repeat(16_000)}\r\n`);
    const out = await trickle(server.port, head, 16);
    await server.close();
    assert.deepEqual(parseResponses(out).map((r) => r.status), [431]);
    // Refused once the limit passed: the client had not sent the whole head when the
    // answer reached it.
    assert.ok(server.work.bytes < head.length, `${server.work.bytes} bytes read`);
  });
});

describe("HTTP/1.1 limits: a huge body the handler does not read", () => {
  test("the server takes a bounded part of it, then drops the rest and goes on", async () => {
    const size = 64 * 1024 * 1024;
    const gate = resolvers<void>();
    const server = await timedServer({
      handler: async (request) => {
        if (request.method !== "POST") return new Response("next");
        await gate.promise;
        return new Response("unread");
      },
    });
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    let text = "";
    socket.on("data", (chunk: Buffer) => text += chunk.toString("latin1"));
    await new Promise((r) => socket.once("connect", r));
    socket.write(POST(size));
    // Writes as fast as the socket takes them, until 0.5 s pass without a drain.
    let sent = await sendUntilStalled(socket, 0, size, 500);
    const taken = server.work.bytes;
    assert.ok(sent < size, "the client was held back");
    // A 64 KiB queue for the handler and a chunk or two in flight; the rest waits in the
    // kernel's buffers and the client's.
    assert.ok(taken < 512 * 1024, `${taken} bytes taken while the handler waited`);
    gate.resolve();
    sent = await sendUntilStalled(socket, sent, size, 5000);
    assert.equal(sent, size);
    socket.write(GET("/next"));
    const deadline = Date.now() + 10_000;
    while (parseResponses(text).length < 2 && Date.now() < deadline) await sleep(20);
    socket.destroy();
    await server.close();
    assert.deepEqual(parseResponses(text).map((r) => r.body), ["unread", "next"]);
  });
});
