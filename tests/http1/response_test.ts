// How wsx's HTTP/1.1 connection writes a handler's Response, over real TCP (node:net):
// Content-Length or chunked or close-delimited, no body for HEAD, 204 and 304, each
// Set-Cookie on its own line, 500 for a failing handler.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GET, parseResponses, raw, sleep, startHttp1 } from "./_harness.ts";

describe("HTTP/1.1 connection: responses", () => {
  const answer = async (response: () => Response, request = GET("/")) => {
    const server = await startHttp1({ handler: response });
    const out = await raw(server.port, request, { responses: 1, timeoutMs: 1000 });
    await server.close();
    return { text: out.text, parsed: parseResponses(out.text, true)[0] };
  };
  const header = (r: { headers: [string, string][] }, name: string) =>
    r.headers.filter(([n]) => n === name).map(([, v]) => v);

  test("a body given as a string, bytes or a Blob is sent with its Content-Length", async () => {
    for (
      const [make, length] of [
        [() => new Response("héllo"), "6"],
        [() => new Response(new Uint8Array(7)), "7"],
        [() => new Response(new Blob(["abc"])), "3"],
        [() => Response.json({ a: 1 }), "7"],
      ] as const
    ) {
      const { parsed } = await answer(make);
      assert.deepEqual(header(parsed, "content-length"), [length]);
      assert.equal(parsed.chunked, false);
    }
  });

  test("a streamed body of unknown length is chunked on HTTP/1.1", async () => {
    const { parsed } = await answer(() => {
      const stream = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(new TextEncoder().encode("a"));
          await sleep(20);
          c.enqueue(new TextEncoder().encode("b"));
          c.close();
        },
      });
      return new Response(stream);
    });
    assert.equal(parsed.chunked, true);
    assert.equal(parsed.body, "ab");
  });

  test("a streamed body on HTTP/1.0 ends with the connection", async () => {
    const server = await startHttp1({
      handler: () =>
        new Response(
          new ReadableStream({
            async start(c) {
              c.enqueue(new TextEncoder().encode("a"));
              await sleep(20);
              c.enqueue(new TextEncoder().encode("b"));
              c.close();
            },
          }),
        ),
    });
    const out = await raw(server.port, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.ok(out.closed);
    const [parsed] = parseResponses(out.text, true);
    assert.equal(parsed.body, "ab");
    assert.deepEqual(header(parsed, "transfer-encoding"), []);
    await server.close();
  });

  test("HEAD, 204 and 304 carry no body", async () => {
    const head = await answer(() => new Response("body"), "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.ok(head.text.endsWith("\r\n\r\n"));
    const none = await answer(() => new Response(null, { status: 204 }));
    assert.ok(none.text.endsWith("\r\n\r\n"));
    assert.deepEqual(header(none.parsed, "content-length"), []);
    const same = await answer(() => new Response(null, { status: 304 }));
    assert.ok(same.text.endsWith("\r\n\r\n"));
  });

  test("each Set-Cookie is a line of its own", async () => {
    const { parsed } = await answer(() => {
      const headers = new Headers();
      headers.append("set-cookie", "a=1; Path=/");
      headers.append("set-cookie", "b=2");
      return new Response("x", { headers });
    });
    assert.deepEqual(header(parsed, "set-cookie"), ["a=1; Path=/", "b=2"]);
  });

  test("a handler that throws, rejects or returns no Response gets 500", async () => {
    for (
      const handler of [
        () => {
          throw new Error("boom");
        },
        () => Promise.reject(new Error("boom")),
        () => "not a response" as unknown as Response,
      ]
    ) {
      const errors: unknown[] = [];
      const server = await startHttp1({ handler, onError: (e) => errors.push(e) });
      const out = await raw(server.port, GET("/"));
      assert.equal(parseResponses(out.text, true)[0]?.status, 500);
      assert.ok(out.closed);
      assert.equal(errors.length, 1);
      await server.close();
    }
  });

  test("an onError that throws does not stop the 500 or crash the process", async () => {
    const server = await startHttp1({
      handler: () => Promise.reject(new Error("boom")),
      onError: () => {
        throw new Error("the error callback fails too");
      },
    });
    const out = await raw(server.port, GET("/"));
    assert.equal(parseResponses(out.text, true)[0]?.status, 500);
    await server.close();
  });

  test("a response whose body is not its Content-Length cuts the connection", async () => {
    const server = await startHttp1({
      handler: () => new Response("abc", { headers: { "content-length": "10" } }),
    });
    const out = await raw(server.port, GET("/"));
    assert.ok(out.closed);
    assert.equal(parseResponses(out.text).length, 0, "no complete response");
    await server.close();
  });
});
