// The request heads and bodies a strict HTTP/1.1 server must refuse (RFC 9112, and the
// request-smuggling defences of issue 14), sent as exact bytes over TCP to wsx's
// HTTP/1.1 connection and, where Node.js's node:http gives a defined answer, to a
// node:http server in the same test: both must answer the same status.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseResponses, raw, type Running, startHttp1, startNodeHttp } from "./_harness.ts";

const H = "Host: a\r\n";
const post = (fields: string, body = "") => `POST / HTTP/1.1\r\n${H}${fields}\r\n${body}`;

// The runtime these tests run on: its node:http is the peer.
const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

// [name, request, status both servers answer, runtimes whose node:http answers otherwise]
const SHARED: [string, string, number, string[]?][] = [
  [
    "Content-Length with Transfer-Encoding",
    post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
    400,
  ],
  [
    "Transfer-Encoding with Content-Length",
    post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "0\r\n\r\n"),
    400,
  ],
  [
    "two Content-Length that differ",
    post("Content-Length: 3\r\nContent-Length: 4\r\n", "abcd"),
    400,
  ],
  // RFC 9110 section 8.6 lets a server take or refuse it; Bun's node:http takes it.
  [
    "two Content-Length that agree",
    post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"),
    400,
    [
      "bun",
    ],
  ],
  ["a Content-Length list", post("Content-Length: 3, 3\r\n", "abc"), 400],
  ["a Content-Length that is not a number", post("Content-Length: 3x\r\n", "abc"), 400],
  ["a negative Content-Length", post("Content-Length: -1\r\n", "abc"), 400],
  ["a signed Content-Length", post("Content-Length: +3\r\n", "abc"), 400],
  ["a header line ending in bare LF", `GET / HTTP/1.1\r\n${"Host: a\n"}X: y\r\n\r\n`, 400],
  ["a head of bare LF line ends", "GET / HTTP/1.1\nHost: a\n\n", 400],
  ["a folded header line (obs-fold)", `GET / HTTP/1.1\r\n${H}X: y\r\n z\r\n\r\n`, 400],
  ["an HTTP/1.1 request without Host", "GET / HTTP/1.1\r\n\r\n", 400],
  ["whitespace before the colon", `GET / HTTP/1.1\r\n${H}X : y\r\n\r\n`, 400],
  ["a NUL in a header value", `GET / HTTP/1.1\r\n${H}X: a\0b\r\n\r\n`, 400],
  ["a method that is not a token", `G(T / HTTP/1.1\r\n${H}\r\n`, 400],
  ["a target that is not origin-form", `GET y HTTP/1.1\r\n${H}\r\n`, 400],
  ["Transfer-Encoding gzip alone", post("Transfer-Encoding: gzip\r\n", "abc"), 400],
  ["chunked before another coding", post("Transfer-Encoding: chunked, gzip\r\n", "abc"), 400],
  ["a chunk size that is not hex", post("Transfer-Encoding: chunked\r\n", "zz\r\n"), 400],
  [
    "chunk data not followed by CRLF",
    post("Transfer-Encoding: chunked\r\n", "3\r\nabcX\r\n0\r\n\r\n"),
    400,
  ],
  [
    "a chunk-size line ending in bare LF",
    post("Transfer-Encoding: chunked\r\n", "3\nabc\r\n0\r\n\r\n"),
    400,
  ],
  ["a head over the size limit", `GET / HTTP/1.1\r\n${H}X: ${"a".repeat(20_000)}\r\n\r\n`, 431],
  ["an expectation other than 100-continue", post("Expect: foo\r\nContent-Length: 0\r\n"), 417],
  [
    "a chunk extension (accepted)",
    post("Transfer-Encoding: chunked\r\n", "3;a=b\r\nabc\r\n0\r\n\r\n"),
    200,
  ],
  ["an HTTP/1.0 request without Host (accepted)", "GET / HTTP/1.0\r\n\r\n", 200],
  ["an absolute-form target (accepted)", `GET http://x/y HTTP/1.1\r\n${H}\r\n`, 200],
];

// Where node:http is lenient, wsx follows the RFC: [name, request, wsx's status].
const STRICTER: [string, string, number][] = [
  // RFC 9112 section 3.2: more than one Host is a 400 (node:http answers 200).
  ["two Host fields", `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`, 400],
  // RFC 9112 section 6.1: an HTTP/1.0 message's Transfer-Encoding cannot be trusted.
  [
    "Transfer-Encoding in HTTP/1.0",
    "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
  ],
  // A coding wsx cannot decode before chunked (node:http passes it on undecoded).
  ["gzip then chunked", post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), 501],
  ["HTTP/2.0 in a request line", `GET / HTTP/2.0\r\n${H}\r\n`, 505],
  ["HTTP/1.3 in a request line", `GET / HTTP/1.3\r\n${H}\r\n`, 505],
  ["CONNECT", `CONNECT a:443 HTTP/1.1\r\n${H}\r\n`, 501],
  [
    "a trailer over the limit",
    post("Transfer-Encoding: chunked\r\n", `0\r\nX: ${"a".repeat(20_000)}\r\n\r\n`),
    431,
  ],
  [
    "a chunk size over 13 hex digits",
    post("Transfer-Encoding: chunked\r\n", "00000000000001\r\na\r\n0\r\n\r\n"),
    400,
  ],
  ["a bare CR in a header value", `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`, 400],
  ["a space in the target", `GET /a b HTTP/1.1\r\n${H}\r\n`, 400],
];

describe("HTTP/1.1 request framing and smuggling defences", () => {
  let wsx: Running;
  let node: Running;
  before(async () => {
    wsx = await startHttp1({ maxHeadBytes: 16 * 1024 });
    node = await startNodeHttp();
  });
  after(async () => {
    await wsx.close();
    await node.close();
  });

  for (const [name, request, status, differs] of SHARED) {
    test(`wsx and node:http both answer ${status} to ${name}`, async () => {
      const [ours, theirs] = await Promise.all([raw(wsx.port, request), raw(node.port, request)]);
      if (!differs?.includes(RUNTIME)) {
        assert.equal(parseResponses(theirs.text, true)[0]?.status, status, "node:http");
      }
      const answer = parseResponses(ours.text, true);
      assert.equal(answer[0]?.status, status, ours.text.slice(0, 200));
      assert.equal(answer.length, 1, "exactly one response");
      // After a refusal the framing is in doubt: nothing more is read, the server closes.
      if (status >= 400) assert.ok(ours.closed, "the server closes the connection");
    });
  }

  for (const [name, request, status] of STRICTER) {
    test(`wsx answers ${status} to ${name} and closes`, async () => {
      const ours = await raw(wsx.port, request);
      assert.equal(parseResponses(ours.text, true)[0]?.status, status, ours.text.slice(0, 200));
      assert.ok(ours.closed);
    });
  }

  test("a request smuggled after a refused one is never answered", async () => {
    const smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
    const request = post(
      "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
      `0\r\n\r\n${smuggled}`,
    );
    const ours = await raw(wsx.port, request);
    assert.equal(parseResponses(ours.text, true).length, 1);
    assert.ok(!ours.text.includes("/smuggled"));
  });
});
