import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, test } from "node:test";
import type { PubSubMessage } from "../../src/core/topics.ts";
import { decodeEnvelope, encodeEnvelope, readEnvelope } from "../../src/pubsub/_envelope.ts";

const ORIGIN = "8f14e45f-ceea-467f-a0e6-1b3c2f0e6a11";
const every = Uint8Array.from({ length: 256 }, (_, i) => i);

const CASES: ReadonlyArray<[string, PubSubMessage]> = [
  ["ASCII text", { topic: "t", data: "hello", isText: true, origin: ORIGIN }],
  ["text outside the BMP", {
    topic: "t",
    data: "h\u00e9 \u4e16 \u{1f600}",
    isText: true,
    origin: ORIGIN,
  }],
  ["empty text", { topic: "t", data: "", isText: true, origin: ORIGIN }],
  ["every byte value", { topic: "t", data: every, isText: false, origin: ORIGIN }],
  ["empty binary", { topic: "t", data: new Uint8Array(0), isText: false, origin: ORIGIN }],
  ["1 MiB of binary", {
    topic: "t",
    data: Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 255),
    isText: false,
    origin: ORIGIN,
  }],
  ["an excluded uuid", {
    topic: "t",
    data: "x",
    isText: true,
    origin: ORIGIN,
    exclude: 2 ** 53 - 1,
  }],
  ["an excluded uuid on binary", {
    topic: "t",
    data: every,
    isText: false,
    origin: "p",
    exclude: 7,
  }],
];

describe("the pub/sub envelope", () => {
  for (const [name, message] of CASES) {
    for (const seq of [undefined, 0, 1, 2 ** 32 - 1]) {
      test(`round-trips ${name}, version ${seq === undefined ? 1 : `2 with number ${seq}`}`, () => {
        const bytes = encodeEnvelope(message, seq);
        assert.equal(bytes[0], seq === undefined ? 1 : 2);
        const { message: back, seq: backSeq } = readEnvelope(bytes, message.topic);
        assert.equal(backSeq, seq);
        assert.deepEqual(decodeEnvelope(bytes, message.topic), back);
        assert.equal(back.isText, message.isText);
        assert.equal(back.origin, message.origin);
        assert.equal(back.exclude, message.exclude);
        if (message.isText) assert.equal(back.data, message.data);
        else {assert.deepEqual(
            Buffer.from(back.data as Uint8Array),
            Buffer.from(message.data as Uint8Array),
          );}
      });
    }
  }

  test("is compact: 3 bytes, the origin, the payload", () => {
    const bytes = encodeEnvelope({ topic: "t", data: "hi", isText: true, origin: "abc" });
    assert.deepEqual([...bytes], [1, 1, 3, 0x61, 0x62, 0x63, 0x68, 0x69]);
  });

  test("version 2 is compact: 3 bytes, the origin, the number, the payload", () => {
    const bytes = encodeEnvelope({ topic: "t", data: "hi", isText: true, origin: "abc" }, 258);
    assert.deepEqual([...bytes], [2, 1, 3, 0x61, 0x62, 0x63, 0, 0, 1, 2, 0x68, 0x69]);
  });

  test("reads a version 1 envelope written by an older wsx, byte for byte", () => {
    // What the previous release wrote for { data: "hi", origin: "abc", exclude: 7 }.
    const v1 = Buffer.from([1, 3, 3, 0x61, 0x62, 0x63, 0x40, 0x1c, 0, 0, 0, 0, 0, 0, 0x68, 0x69]);
    assert.deepEqual(readEnvelope(v1, "t"), {
      message: { topic: "t", data: "hi", isText: true, origin: "abc", exclude: 7 },
      seq: undefined,
    });
  });

  test("gives a binary payload its own bytes, not a view of the read buffer", () => {
    const bytes = encodeEnvelope({ topic: "t", data: every, isText: false, origin: ORIGIN });
    const back = decodeEnvelope(bytes, "t").data as Uint8Array;
    bytes.fill(0);
    assert.deepEqual([...back], [...every]);
  });

  test("rejects another version, no bytes and a truncated head", () => {
    // Version 2 is read since envelopes carry sequence numbers; 0 and 3 are not.
    for (const version of [0, 3]) {
      assert.throws(
        () => decodeEnvelope(Buffer.from([version, 0, 0]), "t"),
        new RegExp(`expected envelope version 1 or 2, got ${version}`),
      );
    }
    assert.throws(() => decodeEnvelope(Buffer.alloc(0), "t"), /got no bytes/);
    assert.throws(() => decodeEnvelope(Buffer.from([1, 2, 10, 65]), "t"), /truncated at 4 bytes/);
    assert.throws(() => decodeEnvelope(Buffer.from([2, 0, 0, 0, 0]), "t"), /truncated at 5 bytes/);
  });

  test("refuses an origin over 255 bytes", () => {
    assert.throws(
      () => encodeEnvelope({ topic: "t", data: "", isText: true, origin: "x".repeat(256) }),
      RangeError,
    );
  });
});
