import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, test } from "node:test";
import {
  COPY_LIMIT,
  encodeFrame,
  encodeText,
  headerLength,
  OPCODE,
  pureUtf8Write,
  textFrameCapacity,
  writeHeader,
  writeTextFrame,
} from "../../src/rfc6455/encoder.ts";
import { hex, maskServerFrame, parse, toHex } from "./_frames.ts";

const headers: [number, string][] = [
  [0, "8200"],
  [125, "827d"],
  [126, "827e007e"],
  [65535, "827effff"],
  [65536, "827f0000000000010000"],
  [2 ** 32 + 5, "827f0000000100000005"],
];

function joined(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

describe("encoder", () => {
  test("writeHeader writes byte-exact headers at every length boundary", () => {
    for (const [n, want] of headers) {
      const out = new Uint8Array(10);
      const end = writeHeader(out, 0, OPCODE.binary, n);
      assert.equal(toHex(out.subarray(0, end)), want, `length ${n}`);
      assert.equal(end, headerLength(n));
    }
  });

  test("writeHeader clears FIN for a non-final fragment", () => {
    const out = new Uint8Array(2);
    writeHeader(out, 0, OPCODE.text, 3, false);
    assert.equal(toHex(out), "0103");
  });

  test("encodeFrame copies small payloads next to the header and shares large ones", () => {
    const small = new Uint8Array(COPY_LIMIT).fill(1);
    const [one, ...rest] = encodeFrame(OPCODE.binary, small);
    assert.equal(rest.length, 0);
    assert.equal(one.byteLength, 4 + COPY_LIMIT);
    const large = new Uint8Array(COPY_LIMIT + 1);
    const parts = encodeFrame(OPCODE.binary, large);
    assert.equal(parts.length, 2);
    assert.equal(parts[1], large, "the payload is not copied");
    assert.equal(toHex(parts[0]), "827e4001");
  });

  test("writeTextFrame sizes the header by the encoded length, moving the payload when needed", () => {
    const cases = [
      "",
      "a",
      "é",
      "a".repeat(125),
      "é".repeat(62),
      "é".repeat(63),
      "a".repeat(124) + "é",
      "€".repeat(41),
      "€".repeat(42),
      "😀".repeat(40),
      "a".repeat(65535),
      "a".repeat(65534) + "é",
    ];
    for (const text of cases) {
      const bytes = new TextEncoder().encode(text);
      const out = new Uint8Array(textFrameCapacity(text) + 8).fill(0xee);
      const end = writeTextFrame(out, 3, text);
      const frame = out.subarray(3, end);
      const h = headerLength(bytes.length);
      assert.equal(frame.length, h + bytes.length, `${text.length} chars`);
      assert.deepEqual(frame.subarray(h), bytes);
      const expectHeader = new Uint8Array(h);
      writeHeader(expectHeader, 0, OPCODE.text, bytes.length);
      assert.deepEqual(frame.subarray(0, h), expectHeader);
    }
  });

  test("writeTextFrame uses an injected writer", () => {
    const out = Buffer.alloc(32);
    const end = writeTextFrame(out, 0, "héllo", (t, target, o) => (target as Buffer).write(t, o));
    assert.equal(toHex(out.subarray(0, end)), "810668c3a96c6c6f");
    assert.equal(pureUtf8Write("é", new Uint8Array(2), 0), 2);
  });

  test("encodeText builds one part for short text and two for long text", () => {
    assert.deepEqual(encodeText("hi").map(toHex), ["81026869"]);
    const long = "x".repeat(COPY_LIMIT + 1);
    const parts = encodeText(long);
    assert.equal(parts.length, 2);
    assert.equal(toHex(parts[0]), "817e4001");
    assert.equal(parts[1].byteLength, COPY_LIMIT + 1);
  });

  test("parse(mask(encode(x))) gives x back at every length boundary", () => {
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
      const payload = new Uint8Array(n).map((_, i) => (i * 7) & 255);
      const frame = maskServerFrame(joined(encodeFrame(OPCODE.binary, payload)), 0x5a5a1234);
      for (const how of ["whole", "random"] as const) {
        const rec = parse(frame, how);
        assert.equal(rec.messages.length, 1);
        assert.deepEqual(
          new Uint8Array(rec.messages[0] as Uint8Array),
          payload,
          `length ${n} ${how}`,
        );
      }
      const text = "é".repeat(n >> 1) + (n & 1 ? "a" : "");
      const textFrame = maskServerFrame(joined(encodeText(text)), 0x01020304);
      assert.deepEqual(parse(textFrame, "random").events, [["text", text]]);
    }
  });

  test("a fragmented message encoded by parts parses back whole", () => {
    const parts = [
      ...encodeText("Hel", false),
      ...encodeFrame(OPCODE.ping, hex("01")),
      ...encodeFrame(OPCODE.continuation, new TextEncoder().encode("lo"), true),
    ];
    const frames = [joined([parts[0]]), joined([parts[1]]), joined([parts[2]])].map((f, i) =>
      maskServerFrame(f, i * 977)
    );
    assert.deepEqual(parse(joined(frames), "bytewise").events, [["ping", "01"], ["text", "Hello"]]);
  });
});
