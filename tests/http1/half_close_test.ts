// A client that half-closes (FIN) part-way through a request, over real TCP: wsx's
// HTTP/1.1 server answers as node:http does under wsx on Node.js and Deno (400 and
// close for a message cut short), and answers whatever arrived whole.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { GET, parseResponses, raw, resolvers, startHttp1 } from "./_harness.ts";

// The bytes wsx's Node.js path writes for a malformed or cut-short message.
const CUT =
  "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n" +
  "Content-Length: 0\r\n\r\n";

const UPGRADE = "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";

describe("HTTP/1.1 connection: a client's FIN inside a request", () => {
  test("a head cut by FIN is answered 400 and the connection ends, as on Node.js", async () => {
    let called = 0;
    const server = await startHttp1({
      handler: () => (called++, new Response("no")),
      onUpgrade: (_head, _rest, socket) => void (socket as { destroy(): void }).destroy(),
    });
    for (
      const cut of ["G", "GET / HT", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n", UPGRADE]
    ) {
      const what = JSON.stringify(cut);
      const out = await raw(server.port, cut, { end: true });
      assert.equal(out.text, CUT, what);
      assert.ok(out.closed, what);
    }
    assert.equal(called, 0, "no cut head reaches the handler");
    await server.close();
  });

  test("a head cut by FIN in pieces, after empty lines, is still answered 400", async () => {
    const server = await startHttp1();
    const out = await raw(server.port, ["\r\n", "GET / HTTP/1.1\r\n", "Host: a\r\n"], {
      end: true,
    });
    assert.equal(out.text, CUT);
    assert.ok(out.closed);
    await server.close();
  });

  test("FIN after empty lines alone ends the connection with no answer", async () => {
    const server = await startHttp1();
    const out = await raw(server.port, "\r\n\r\n", { end: true });
    assert.equal(out.text, "");
    assert.ok(out.closed);
    await server.close();
  });

  test("a whole request then FIN is answered; a pipelined head cut by FIN then gets 400", async () => {
    const server = await startHttp1();
    const whole = await raw(server.port, GET("/1"), { end: true });
    assert.deepEqual(parseResponses(whole.text).map((r) => [r.status, r.body]), [[200, "GET /1 "]]);
    assert.ok(whole.closed);
    const cut = await raw(server.port, GET("/1") + "GET /2 HTTP/1.1\r\nHo", { end: true });
    const answers = parseResponses(cut.text);
    assert.deepEqual(answers.map((r) => r.status), [200, 400]);
    assert.ok(cut.text.endsWith(CUT));
    assert.ok(cut.closed);
    await server.close();
  });

  test("a body cut by FIN fails the handler's read and is answered 400, not by the handler", async () => {
    for (
      const head of [
        "Content-Length: 100\r\n\r\nabc",
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
      ]
    ) {
      const failed = resolvers<unknown>();
      const server = await startHttp1({
        handler: async (request) => {
          try {
            await request.text();
          } catch (error) {
            failed.resolve(error);
            throw error;
          }
          return new Response("whole");
        },
      });
      const out = await raw(server.port, `POST / HTTP/1.1\r\nHost: a\r\n${head}`, { end: true });
      assert.equal(out.text, CUT, head);
      assert.ok(out.closed, head);
      assert.ok(await failed.promise instanceof Error, head);
      await server.close();
    }
  });

  test("a body cut by FIN after the answer began: that answer completes, no 400 follows", async () => {
    const failed = resolvers<unknown>();
    const server = await startHttp1({
      handler: (request) => {
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode("begun;"));
            const outcome = await request.text().then(() => "whole", (error) => {
              failed.resolve(error);
              return "cut";
            });
            controller.enqueue(new TextEncoder().encode(outcome));
            controller.close();
          },
        });
        return new Response(body);
      },
    });
    const text = await new Promise<string>((resolve) => {
      let got = "";
      const socket = connect({ port: server.port, host: "127.0.0.1", allowHalfOpen: true });
      socket.on("connect", () => {
        socket.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
      });
      socket.on("data", (chunk: Buffer) => {
        // The answer has begun: now the client half-closes.
        if (got === "") socket.end();
        got += chunk.toString("latin1");
      });
      socket.on("close", () => resolve(got));
      setTimeout(() => socket.destroy(), 2000).unref();
    });
    assert.ok(await failed.promise instanceof Error);
    const answers = parseResponses(text);
    assert.deepEqual(answers.map((r) => [r.status, r.body]), [[200, "begun;cut"]]);
    assert.ok(!text.includes("400 Bad Request"), text);
    await server.close();
  });
});
