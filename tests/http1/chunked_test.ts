// The chunked decoder and the head scanner, table-driven, each input fed whole and one
// byte at a time: the same data, the same end, the same refusal.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ChunkedDecoder } from "../../src/adapters/http1_chunked.ts";
import { HeadScanner, readHead } from "../../src/adapters/http1_head.ts";

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

type Outcome = { data: string; used: number } | { status: number };

function decode(input: string, byByte: boolean, maxTrailer = 64): Outcome {
  const decoder = new ChunkedDecoder(maxTrailer);
  const all = bytes(input);
  let data = "";
  const onData = (d: Uint8Array) => data += String.fromCharCode(...d);
  const pieces = byByte ? [...all].map((b) => Uint8Array.of(b)) : [all];
  let used = 0;
  for (const piece of pieces) {
    if (decoder.done) break;
    const end = decoder.feed(piece, 0, onData);
    if (typeof end !== "number") return { status: end.status };
    used += end;
  }
  return decoder.done ? { data, used } : { status: 0 };
}

// [name, input, outcome: data and bytes used, or the refusal's status (0: incomplete)]
const CHUNKED: [string, string, Outcome][] = [
  ["one chunk", "3\r\nabc\r\n0\r\n\r\n", { data: "abc", used: 13 }],
  ["hex sizes in either case", "a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n", {
    data: "01234567890123456789",
    used: 35,
  }],
  ["extensions dropped", "3;a=b;c\r\nabc\r\n0;x\r\n\r\n", { data: "abc", used: 21 }],
  ["whitespace before an extension", "3 ;a\r\nabc\r\n0\r\n\r\n", { data: "abc", used: 16 }],
  ["trailers dropped", "1\r\nx\r\n0\r\nA: 1\r\nB: 2\r\n\r\n", { data: "x", used: 23 }],
  ["stops at the body's end", "0\r\n\r\nGET", { data: "", used: 5 }],
  ["incomplete", "3\r\nab", { status: 0 }],
  ["no size", "\r\n", { status: 400 }],
  ["a size that is not hex", "g\r\n", { status: 400 }],
  ["a size with a sign", "+3\r\nabc\r\n0\r\n\r\n", { status: 400 }],
  ["whitespace then no extension", "3 x\r\n", { status: 400 }],
  ["bare LF after the size", "3\nabc\r\n0\r\n\r\n", { status: 400 }],
  ["data longer than its size", "3\r\nabcd\r\n0\r\n\r\n", { status: 400 }],
  ["bare LF after the data", "3\r\nabc\n0\r\n\r\n", { status: 400 }],
  ["a control character in an extension", "3;\x01\r\nabc\r\n0\r\n\r\n", { status: 400 }],
  ["a size of 14 hex digits", "00000000000001\r\n", { status: 400 }],
  ["trailers over the limit", `0\r\nX: ${"a".repeat(70)}\r\n\r\n`, { status: 431 }],
  ["a bare LF ending the trailers", "0\r\n\n", { status: 400 }],
];

describe("ChunkedDecoder", () => {
  for (const [name, input, outcome] of CHUNKED) {
    test(`decodes ${name} the same whole and byte by byte`, () => {
      assert.deepEqual(decode(input, false), outcome);
      assert.deepEqual(decode(input, true), outcome);
    });
  }

  test("refuses extensions over 16 KiB in total", () => {
    const input = `1;${"e".repeat(9 * 1024)}\r\nx\r\n1;${"e".repeat(9 * 1024)}\r\nx\r\n0\r\n\r\n`;
    assert.deepEqual(decode(input, false), { status: 413 });
  });
});

function head(input: string, byByte: boolean, max = 1024): string | number {
  const scanner = new HeadScanner();
  const all = bytes(input);
  const lengths = byByte ? Array.from(all, (_, i) => i + 1) : [all.length];
  for (const n of lengths) {
    const read = readHead(all.subarray(0, n), scanner, max, 10);
    if (read === 0) continue;
    if ("status" in read) return read.status;
    return `${read.head.method} ${read.head.target} ${read.length} ${read.head.rawHeaders}`;
  }
  return 0;
}

const HEADS: [string, string, string | number][] = [
  ["a plain head", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "GET /a 28 Host,x"],
  ["empty lines before it", "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET / 31 Host,x"],
  ["values trimmed", "GET / HTTP/1.1\r\nHost: \t x \t\r\n\r\n", "GET / 31 Host,x"],
  ["obs-text in a value", "GET / HTTP/1.1\r\nHost: x\r\nA: \xe9\r\n\r\n", "GET / 33 Host,x,A,\xe9"],
  ["incomplete", "GET / HTTP/1.1\r\nHost: x\r\n", 0],
  ["a bare LF as soon as it arrives", "GET / HTTP/1.1\n", 400],
  ["too many fields", `GET / HTTP/1.1\r\nHost: x\r\n${"A: 1\r\n".repeat(10)}\r\n`, 431],
  ["too long, before its end arrives", `GET / HTTP/1.1\r\nA: ${"a".repeat(1100)}`, 431],
  ["a header without a colon", "GET / HTTP/1.1\r\nHost: x\r\nA\r\n\r\n", 400],
  ["an empty header name", "GET / HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n", 400],
  ["a DEL in a value", "GET / HTTP/1.1\r\nHost: x\r\nA: \x7f\r\n\r\n", 400],
  ["a Host with a path", "GET / HTTP/1.1\r\nHost: x/y\r\n\r\n", 400],
  ["two spaces in the request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400],
  ["a lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400],
];

describe("HeadScanner and readHead", () => {
  for (const [name, input, outcome] of HEADS) {
    test(`read ${name} the same whole and byte by byte`, () => {
      assert.deepEqual(head(input, false), outcome);
      assert.deepEqual(head(input, true), outcome);
    });
  }
});
