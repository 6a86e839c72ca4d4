import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import {
  connect,
  denoNative,
  type Fixture,
  nextMessage,
  rawUpgrade,
  startFixture,
  target,
  transport,
} from "./_harness.ts";

/** Sends one raw request and returns what came back until the server closed or went quiet. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = "";
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    const done = () => {
      clearTimeout(quiet);
      socket.destroy();
      resolve(reply);
    };
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      clearTimeout(quiet);
      quiet = setTimeout(done, 200);
    });
    socket.once("close", done);
    socket.once("error", reject);
  });
}

/** Sends `request`, then FIN, and returns what came back until the server closed. */
function halfClosed(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = "";
    const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => {
      socket.end(request);
    });
    const giveUp = setTimeout(() => socket.destroy(), 5000);
    socket.on("data", (chunk: Buffer) => reply += chunk.toString("latin1"));
    socket.once("close", () => {
      clearTimeout(giveUp);
      resolve(reply);
    });
    socket.once("error", reject);
  });
}

describe(`upgrade control and handshake abuse on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("the server and its connections report the transport and what it can do", async () => {
    const caps = (await fx.get("/caps")).body;
    assert.equal(caps.transport, transport);
    const ws = await connect(fx.url("/ws/cmd"));
    const reply = nextMessage(ws);
    ws.send("rtt");
    const { pongs } = JSON.parse((await reply).data.toString());
    ws.close();
    if (transport === "engine") {
      // wsx's engine behaves the same on every runtime.
      assert.equal(caps.handshakeTimeout, "configurable");
      assert.equal(pongs, true);
    } else {
      assert.equal(caps.handshakeTimeout, denoNative ? "none" : "runtime");
      assert.equal(pongs, !denoNative);
    }
  });

  test("an async hook refuses with 401 and WWW-Authenticate, or 403, and accepts a good token", async () => {
    const unauthorized = await rawUpgrade(fx.port, "/ws/auth?token=bad");
    assert.equal(unauthorized.status, 401);
    assert.match(unauthorized.head, /www-authenticate: Bearer realm="wsx"/i);
    unauthorized.socket.destroy();
    const forbidden = await rawUpgrade(fx.port, "/ws/auth?token=forbidden");
    assert.equal(forbidden.status, 403);
    forbidden.socket.destroy();
    const ws = await connect(fx.url("/ws/auth?token=good"));
    const reply = nextMessage(ws);
    ws.send("in");
    assert.equal((await reply).data.toString(), "in");
    ws.close();
  });

  test("a POST or PUT upgrade gets 405 with Allow: GET; with a body Deno answers its own 400 first", async () => {
    for (const [method, extra] of [["POST", ""], ["PUT", ""], ["POST", "Content-Length: 0\r\n"]]) {
      const what = `${method} ${JSON.stringify(extra)}`;
      const reply = await rawRequest(
        fx.port,
        `${method} /ws/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `Sec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
      // Deno's native HTTP/1.1 parser refuses an upgrade request that announces a body
      // (Content-Length, even 0, or Transfer-Encoding) before any handler runs.
      if (denoNative && extra !== "") {
        assert.match(reply, /^HTTP\/1\.1 400 /, what);
        continue;
      }
      assert.match(reply, /^HTTP\/1\.1 405 /, what);
      assert.match(reply, /\r\nallow: GET\r\n/i, what);
      assert.match(reply, /Method not allowed/, what);
    }
  });

  test("allowedOrigins answers 403 to other browser origins", async () => {
    const evil = await rawUpgrade(fx.port, "/ws/echo", "Origin: http://evil.example\r\n");
    assert.equal(evil.status, 403);
    evil.socket.destroy();
    const good = await rawUpgrade(fx.port, "/ws/echo", "Origin: http://good.example\r\n");
    assert.equal(good.status, 101);
    good.socket.destroy();
    const none = await rawUpgrade(fx.port, "/ws/echo");
    assert.equal(none.status, 101, "a client without Origin is not a browser");
    none.socket.destroy();
    const stats = (await fx.get("/stats")).body;
    assert.ok(stats.refusedUpgrades >= 1, `stats.refusedUpgrades ${stats.refusedUpgrades}`);
    assert.ok(stats.openedTotal >= 2 && stats.open >= 0, JSON.stringify(stats));
  });

  test("oversized request headers get 431 or the connection is refused, never a crash", async () => {
    const huge = await rawUpgrade(fx.port, "/ws/echo", `X-Big: ${"a".repeat(128 * 1024)}\r\n`)
      .catch(() => null);
    if (huge) {
      assert.ok([431, 400].includes(huge.status), `status ${huge.status}`);
      huge.socket.destroy();
    }
    // wsx's engine answers 431 on every runtime.
    if (transport === "engine") assert.equal(huge?.status, 431);
    const res = await fetch(fx.http("/"));
    assert.equal(await res.text(), "Hello World!");
  });

  test("a head cut short by the client's FIN gets 400 and a close, the same bytes on every runtime", async () => {
    const cuts = [
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n",
      "GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n",
    ];
    for (const cut of cuts) {
      const reply = await halfClosed(fx.port, cut);
      // wsx's engine: node:http's answer on Node.js and Deno, wsx's HTTP/1.1 server's on
      // Bun. Bun's native server ends such a connection without a word.
      if (transport === "engine") {
        assert.equal(
          reply,
          "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n\r\n",
          JSON.stringify(cut),
        );
      } else {
        assert.ok(reply === "" || reply.startsWith("HTTP/1.1 400 "), reply);
      }
    }
    const res = await fetch(fx.http("/"));
    assert.equal(await res.text(), "Hello World!");
  });

  test("a header trickle (slowloris) is cut off by the handshake timeout", async (t) => {
    const { handshakeTimeout } = (await fx.get("/caps")).body;
    if (handshakeTimeout === "none") {
      return t.skip("this runtime's server has no request-head timeout (README)");
    }
    const started = Date.now();
    const ended = await new Promise<number>((resolve) => {
      const socket = net.connect(
        fx.port,
        "127.0.0.1",
        () => socket.write("GET /ws/echo HTTP/1.1\r\nHost: x\r\n"),
      );
      const timer = setInterval(() => socket.writable && socket.write("X-Slow: 1\r\n"), 300);
      // The test's own bound; cleared once the server cuts the socket, so that it does not
      // keep the test process alive for 40 s after the last test.
      const giveUp = setTimeout(() => socket.destroy(), 40_000);
      const stop = () => {
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve(Date.now() - started);
      };
      socket.on("close", stop);
      socket.on("error", () => {});
    });
    // "runtime": Bun cuts a slow head after about 10 s whatever handshakeTimeoutMs says.
    const bound = handshakeTimeout === "configurable" ? 8000 : 15_000;
    assert.ok(ended < bound, `cut off after ${ended} ms (handshakeTimeoutMs is 2000)`);
  });

  test("2,000 upgrade attempts do not starve an established connection", async () => {
    const ws = await connect(fx.url("/ws/echo"));
    const latencies: number[] = [];
    let flooding = true;
    const probe = (async () => {
      while (flooding) {
        const t = performance.now();
        const reply = nextMessage(ws, 10_000);
        ws.send("probe");
        await reply;
        latencies.push(performance.now() - t);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    let attempts = 0;
    const worker = async () => {
      while (attempts < 2000) {
        attempts++;
        const up = await rawUpgrade(fx.port, "/ws/echo").catch(() => null);
        up?.socket.destroy();
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    flooding = false;
    await probe;
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)];
    assert.ok(latencies.length >= 5, `probes answered: ${latencies.length}`);
    assert.ok(p99 < 1000, `p99 echo latency ${p99.toFixed(1)} ms under the flood`);
    ws.close();
  });
});
