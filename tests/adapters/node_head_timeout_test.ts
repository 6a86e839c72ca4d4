import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { watchHeads } from "../../src/adapters/node_tls.ts";
import type { HeadTimeouts } from "../../src/adapters/node_head_timeout.ts";

// Short limits, so that the sweep (every 250 ms) and the spread cutting (within 300 ms
// of a sweep) show within a test's time.
const HEAD_MS = 300;
const BODY_MS = 600;

interface Peer {
  /** What the server sent, as Latin-1. */
  readonly received: () => string;
  /** When the server closed the connection (Date.now()), once it has. */
  readonly closed: Promise<number>;
  readonly socket: Socket;
  readonly opened: number;
}

/** A raw client that sends `bytes` and then nothing. */
function peer(port: number, bytes: string): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      const opened = Date.now();
      socket.write(bytes);
      let text = "";
      socket.on("data", (chunk) => text += chunk.toString("latin1"));
      const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now())));
      resolve({ received: () => text, closed, socket, opened });
    });
    socket.on("error", () => {});
    socket.once("error", reject);
  });
}

// node:http's own timeouts far away: what is cut here, HeadTimeouts cut.
describe("HeadTimeouts on a node:http server", () => {
  let server: Server;
  let heads: HeadTimeouts;
  let port: number;
  before(async () => {
    server = createServer({ headersTimeout: 60_000, requestTimeout: 120_000 });
    // The next head on a kept-alive connection may take 5 s.
    heads = watchHeads(server, HEAD_MS, 5000);
    // What the engine's request listener does (src/adapters/node.ts), with BODY_MS.
    server.on("request", (message, out) => {
      heads.readingBody(message.socket, BODY_MS);
      out.once("finish", () => heads.waiting(message.socket, true));
      message.resume();
      message.on("end", () => {
        heads.done(message.socket);
        out.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test("300 heads falling due together are each cut with 408 within the limit + 1 s", async () => {
    const peers = await Promise.all(
      Array.from({ length: 300 }, () => peer(port, "GET / HTTP/1.1\r\nHost: x\r\n")),
    );
    const after = await Promise.all(peers.map(async (p) => (await p.closed) - p.opened));
    for (const p of peers) assert.match(p.received(), /^HTTP\/1\.1 408 /);
    // Measured from the client's connect callback, which may run a little after the accept.
    assert.ok(Math.min(...after) >= HEAD_MS - 100, `cut after ${Math.min(...after)} ms`);
    assert.ok(Math.max(...after) <= HEAD_MS + 1000, `cut after ${Math.max(...after)} ms`);
    // Spread over the sweep's cutting, not all in the same millisecond.
    assert.ok(Math.max(...after) - Math.min(...after) >= 50, `all within ${after}`);
  });

  test("a head that arrives after its socket was found late, before its cut, gets its answer and no 408", async () => {
    // 400 late heads take the sweep's spread (300 ms) to cut; the last one opened is cut
    // last. Its head completes as soon as the first cut is seen.
    const peers = await Promise.all(
      Array.from({ length: 400 }, () => peer(port, "GET / HTTP/1.1\r\nHost: x\r\n")),
    );
    const last = await peer(port, "GET / HTTP/1.1\r\nHost: x\r\n");
    await Promise.race(peers.map((p) => p.closed));
    assert.equal(last.socket.destroyed, false, "not cut before its head completes");
    last.socket.write("\r\n");
    await Promise.all(peers.map((p) => p.closed));
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.match(last.received(), /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(last.received(), / 408 /, "no 408 after the answer");
    assert.equal(last.socket.destroyed, false, "the answered connection is kept");
    last.socket.destroy();
  });

  test("a body that stops coming is cut with 408 after the body's limit", async () => {
    const p = await peer(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    const tookMs = (await p.closed) - p.opened;
    assert.match(p.received(), /^HTTP\/1\.1 408 /);
    assert.ok(tookMs >= BODY_MS - 100 && tookMs <= BODY_MS + 1000, `cut after ${tookMs} ms`);
  });

  test("a body that arrives in time is answered, and the connection is kept", async () => {
    const p = await peer(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc");
    await new Promise((resolve) => setTimeout(resolve, HEAD_MS + 100));
    p.socket.write("def");
    await new Promise((resolve) => setTimeout(resolve, BODY_MS + 700));
    assert.match(p.received(), /^HTTP\/1\.1 200 /);
    assert.equal(p.socket.destroyed, false, "the kept-alive connection is still open");
    p.socket.destroy();
  });
});
