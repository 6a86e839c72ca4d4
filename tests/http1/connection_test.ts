// wsx's HTTP/1.1 connection over real TCP (node:net): keep-alive, pipelining, bodies,
// 100-continue, timeouts, disconnects, upgrades, and Node's own HTTP clients (fetch,
// http.request) as real clients. Response framing is in response_test.ts.
import assert from "node:assert/strict";
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { describe, test } from "node:test";
import type { RequestHead } from "../../src/adapters/http1_head.ts";
import {
  GET,
  parseResponses,
  raw,
  resolvers,
  sleep,
  startHttp1,
  startNodeHttp,
} from "./_harness.ts";

describe("HTTP/1.1 connection: keep-alive and pipelining", () => {
  test("two requests in turn on one connection get two answers and it stays open", async () => {
    const server = await startHttp1();
    const out = await raw(server.port, [GET("/1"), GET("/2")], { gapMs: 50, timeoutMs: 500 });
    const answers = parseResponses(out.text);
    assert.deepEqual(answers.map((r) => r.body), ["GET /1 ", "GET /2 "]);
    assert.ok(!out.closed, "kept alive");
    assert.equal(server.connections(), 1);
    await server.close();
  });

  test("Connection: close is answered, then the server closes", async () => {
    const server = await startHttp1();
    const out = await raw(server.port, GET("/", "Connection: close\r\n"));
    const [answer] = parseResponses(out.text);
    assert.equal(answer.status, 200);
    assert.ok(answer.headers.some(([n, v]) => n === "connection" && v === "close"));
    assert.ok(out.closed);
    await server.close();
  });

  test("HTTP/1.0 closes unless it asks for keep-alive", async () => {
    const server = await startHttp1();
    const plain = await raw(server.port, "GET / HTTP/1.0\r\n\r\n");
    assert.ok(plain.closed);
    assert.equal(parseResponses(plain.text)[0].status, 200);
    const kept = await raw(server.port, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", {
      timeoutMs: 300,
    });
    assert.ok(!kept.closed);
    const [answer] = parseResponses(kept.text);
    assert.ok(answer.headers.some(([n, v]) => n === "connection" && v === "keep-alive"));
    await server.close();
  });

  test("pipelined requests are answered in order even when the first is slowest", async () => {
    const server = await startHttp1({
      handler: async (request) => {
        const path = new URL(request.url).pathname;
        await sleep(path === "/1" ? 80 : path === "/2" ? 40 : 0);
        return new Response(path);
      },
    });
    const body = "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    const out = await raw(server.port, GET("/1") + body + GET("/3"), { responses: 3 });
    assert.deepEqual(parseResponses(out.text).map((r) => r.body), ["/1", "/2", "/3"]);
    await server.close();
  });

  test("a second request's head arriving with the first body is answered after it", async () => {
    const server = await startHttp1();
    const first =
      "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
    const out = await raw(server.port, first + GET("/b"), { responses: 2 });
    assert.deepEqual(parseResponses(out.text).map((r) => r.body), ["POST /a hi", "GET /b "]);
    await server.close();
  });

  test("an idle kept-alive connection is closed after idleTimeoutMs", async () => {
    const server = await startHttp1({ idleTimeoutMs: 150 });
    const started = Date.now();
    const out = await raw(server.port, GET("/"), { timeoutMs: 2000 });
    assert.equal(parseResponses(out.text).length, 1);
    assert.ok(out.closed);
    assert.ok(Date.now() - started >= 140, "not before the timeout");
    await server.close();
  });

  test("a head that does not arrive in headTimeoutMs is answered 408", async () => {
    const server = await startHttp1({ headTimeoutMs: 150 });
    const out = await raw(server.port, "GET / HTTP/1.1\r\nHost:");
    assert.equal(parseResponses(out.text)[0].status, 408);
    assert.ok(out.closed);
    await server.close();
  });
});

describe("HTTP/1.1 connection: request bodies", () => {
  test("a chunked body split at every byte boundary reads the same", async () => {
    const server = await startHttp1();
    const request = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
    for (let at = 1; at < request.length; at++) {
      const out = await raw(server.port, [request.slice(0, at), request.slice(at)], {
        responses: 1,
        gapMs: 2,
      });
      assert.equal(
        parseResponses(out.text)[0]?.body,
        "POST /up hello 0123456789",
        `split at ${at}`,
      );
    }
    await server.close();
  });

  test("a Content-Length body sent byte by byte reads whole", async () => {
    const server = await startHttp1();
    const request = "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde";
    const out = await raw(server.port, [...request], { responses: 1, gapMs: 1 });
    assert.equal(parseResponses(out.text)[0]?.body, "PUT /x abcde");
    await server.close();
  });

  test("a body the handler does not read is dropped and the connection goes on", async () => {
    const server = await startHttp1({ handler: (r) => new Response(new URL(r.url).pathname) });
    const body = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789";
    const out = await raw(server.port, [body, GET("/b")], { responses: 2 });
    assert.deepEqual(parseResponses(out.text).map((r) => r.body), ["/a", "/b"]);
    await server.close();
  });

  test("a large body read slowly arrives whole (backpressure)", async () => {
    const size = 4 * 1024 * 1024;
    const server = await startHttp1({
      handler: async (request) => {
        let total = 0;
        for await (const chunk of request.body!) {
          total += chunk.length;
          if (total % 16 === 0) await sleep(0);
        }
        return new Response(String(total));
      },
    });
    const head = `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`;
    const out = await raw(server.port, head + "x".repeat(size), {
      responses: 1,
      timeoutMs: 10_000,
    });
    assert.equal(parseResponses(out.text)[0]?.body, String(size));
    await server.close();
  });

  test("a body the handler does not read yet stops the server reading the socket", async () => {
    const size = 32 * 1024 * 1024;
    const gate = resolvers<void>();
    const server = await startHttp1({
      handler: async (request) => {
        await gate.promise;
        return new Response(String((await request.arrayBuffer()).byteLength));
      },
    });
    const socket = connect(server.port, "127.0.0.1");
    let text = "";
    socket.on("data", (c: Buffer) => text += c.toString("latin1"));
    const answered = new Promise<void>((resolve) => socket.on("data", () => resolve()));
    socket.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
    socket.write(new Uint8Array(size));
    await sleep(400);
    // Kernel buffers on loopback hold a few MiB: the rest stays with the client.
    const unsent = socket.writableLength;
    gate.resolve();
    await answered;
    socket.destroy();
    await server.close();
    assert.ok(unsent > size / 2, `${unsent} bytes still unsent while the handler waited`);
    assert.ok(text.endsWith(String(size)), text);
  });

  test("Expect: 100-continue gets 100 when the handler reads the body", async () => {
    const server = await startHttp1();
    const head = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    const out = await raw(server.port, [head, "ok"], { responses: 2, gapMs: 100 });
    const answers = parseResponses(out.text);
    assert.deepEqual(answers.map((r) => r.status), [100, 200]);
    assert.equal(answers[1].body, "POST / ok");
    await server.close();
  });

  test("Expect: 100-continue unread gets the final answer alone, then a close", async () => {
    const server = await startHttp1({ handler: () => new Response("no", { status: 403 }) });
    const head = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    const out = await raw(server.port, head);
    assert.deepEqual(parseResponses(out.text).map((r) => r.status), [403]);
    assert.ok(out.closed);
    await server.close();
  });

  test("with abortOnDisconnect, a request's signal aborts when its client goes", async () => {
    const aborted = resolvers<boolean>();
    const server = await startHttp1({
      abortOnDisconnect: true,
      handler: (request) =>
        new Promise((resolve) => {
          request.signal.addEventListener("abort", () => {
            aborted.resolve(true);
            resolve(new Response("late"));
          });
        }),
    });
    // A reset: a FIN alone is a client that still waits for its answer.
    const socket = connect(server.port, "127.0.0.1", () => socket.write(GET("/")));
    await sleep(50);
    socket.resetAndDestroy();
    assert.equal(await aborted.promise, true);
    await server.close();
  });

  test("a client that disconnects mid-body fails the handler's read, not the server", async () => {
    let failure: unknown;
    const seen = resolvers<void>();
    const server = await startHttp1({
      handler: async (request) => {
        try {
          await request.text();
        } catch (error) {
          failure = error;
        }
        seen.resolve();
        return new Response("late");
      },
    });
    await raw(server.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc", {
      timeoutMs: 100,
    });
    await seen.promise;
    assert.ok(failure instanceof Error);
    // The server still answers.
    const out = await raw(server.port, GET("/"), { responses: 1 });
    assert.equal(parseResponses(out.text)[0]?.status, 200);
    await server.close();
  });
});

describe("HTTP/1.1 connection: upgrades and real clients", () => {
  test("a WebSocket upgrade goes to onUpgrade with the bytes after its head and the socket", async () => {
    const got = resolvers<[RequestHead, string]>();
    const server = await startHttp1({
      headTimeoutMs: 100,
      onUpgrade: (head, rest, socket) => {
        // The node:net socket itself, to answer on.
        (socket as { write(text: string): boolean }).write("taken over");
        got.resolve([head, new TextDecoder().decode(rest)]);
      },
    });
    const upgrade = GET("/ws", "Upgrade: websocket\r\nConnection: Upgrade\r\n");
    const client = raw(server.port, upgrade + "frame", { timeoutMs: 400 });
    const [head, rest] = await got.promise;
    assert.equal(head.target, "/ws");
    assert.equal(rest, "frame");
    // The socket is the caller's now: only its own bytes, no head timeout from the connection.
    const out = await client;
    assert.equal(out.text, "taken over");
    assert.ok(!out.closed);
    await server.close();
  });

  test("Node's fetch keeps connections alive as it does with node:http", async () => {
    // undici opens a second connection after the first request whatever the server
    // (seen with node:http too); from then on it reuses one.
    const server = await startHttp1();
    const node = await startNodeHttp();
    for (const peer of [server, node]) {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`http://127.0.0.1:${peer.port}/n${i}`, {
          method: "POST",
          body: `b${i}`,
        });
        assert.equal(await res.text(), `POST /n${i} b${i}`);
      }
    }
    assert.ok(server.connections() <= 2, `${server.connections()} connections for 5 requests`);
    assert.equal(server.connections(), node.connections());
    await server.close();
    await node.close();
  });

  test("http.request with a keep-alive agent streams a chunked body and reuses the socket", async () => {
    const server = await startHttp1();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const req = httpRequest({
          port: server.port,
          host: "127.0.0.1",
          path,
          method: "POST",
          agent,
        });
        req.on("response", (res) => {
          let text = "";
          res.on("data", (c) => text += c);
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        req.write("one,");
        setTimeout(() => req.end("two"), 10);
      });
    assert.equal(await send("/a"), "POST /a one,two");
    assert.equal(await send("/b"), "POST /b one,two");
    assert.equal(server.connections(), 1);
    agent.destroy();
    await server.close();
  });
});
