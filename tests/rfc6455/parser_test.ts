import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FrameParser } from "../../src/rfc6455/parser.ts";
import {
  expectedEvents,
  type Feeding,
  hex,
  loadVectors,
  parse,
  parserOptions,
  partsToBytes,
  Recorder,
} from "./_frames.ts";

const vectors = loadVectors();
const feedings: Feeding[] = ["whole", "bytewise", "random"];

describe("FrameParser vectors (tests/testdata/rfc6455_frames.json)", () => {
  for (const v of vectors) {
    const bytes = partsToBytes(v.hex);
    const want = expectedEvents(v.events);
    for (const how of feedings) {
      // Byte-at-a-time over 64 KiB payloads is slow and adds nothing over 4 KiB.
      if (how === "bytewise" && bytes.length > 70000) continue;
      for (const native of [true, false]) {
        test(`${v.name} (fed ${how}, ${native ? "native" : "pure"} UTF-8)`, () => {
          const seeds = how === "random" ? [1, 2, 3, 4, 5] : [1];
          for (const seed of seeds) {
            const rec = parse(bytes, how, parserOptions(v.limits, native), seed);
            assert.deepEqual(rec.events, want);
          }
        });
      }
    }
  }
});

describe("FrameParser", () => {
  test("FrameParser reads every length boundary split at every header position", () => {
    for (const n of [0, 1, 125, 126, 127, 65535, 65536]) {
      const header = n < 126
        ? `82 ${(0x80 | n).toString(16)}`
        : n < 65536
        ? `82 fe ${n.toString(16).padStart(4, "0")}`
        : `82 ff ${n.toString(16).padStart(16, "0")}`;
      const frame = partsToBytes([header + " 00000000", { fill: "5a", count: n }]);
      const headerLength = hex(header).length + 4;
      for (let cut = 1; cut <= headerLength; cut++) {
        const rec = new Recorder();
        const p = new FrameParser(rec, parserOptions());
        p.push(frame.slice(0, cut));
        assert.deepEqual(rec.events, n === 0 && cut === headerLength ? [["binary", ""]] : []);
        p.push(frame.slice(cut));
        assert.equal(rec.messages.length, 1);
        assert.equal((rec.messages[0] as Uint8Array).byteLength, n);
      }
    }
  });

  test("FrameParser refuses a 2^32 length before any payload arrives", () => {
    const rec = new Recorder();
    const p = new FrameParser(rec, parserOptions());
    p.push(hex("82 ff 00 00 00 01 00 00 00 00"));
    assert.deepEqual(rec.events, [["error", "message-too-big"]]);
    p.push(new Uint8Array(1000));
    assert.equal(rec.events.length, 1);
    assert.equal(p.stopped, true);
  });

  test("FrameParser delivers a binary message as a view of the chunk, without copying", () => {
    const rec = new Recorder();
    const chunk = hex("82 83 00000000 010203 82 81 00000000 04");
    new FrameParser(rec, parserOptions()).push(chunk);
    const [a, b] = rec.messages as Uint8Array[];
    assert.equal(a.buffer, chunk.buffer);
    assert.equal(a.byteLength, 3);
    assert.deepEqual([...a], [1, 2, 3]);
    assert.equal(b.buffer, chunk.buffer);
    assert.deepEqual([...b], [4]);
  });

  test("FrameParser packs payloads to the front, each behind room for a server header", () => {
    const rec = new Recorder();
    // 3 bytes, 200 bytes (16-bit length), then 1 byte: client headers of 6, 8 and 6 bytes.
    const chunk = partsToBytes([
      "82 83 00000000 010203",
      "82 fe 00c8 00000000",
      { fill: "5a", count: 200 },
      "82 81 00000000 04",
    ]);
    new FrameParser(rec, parserOptions()).push(chunk);
    const [a, b, c] = rec.messages as Uint8Array[];
    // Server headers are 2, 4 and 2 bytes: each payload starts that far past the last.
    assert.deepEqual([a.byteOffset, b.byteOffset, c.byteOffset], [2, 5 + 4, 209 + 2]);
    assert.deepEqual([...a], [1, 2, 3]);
    assert.ok(b.every((x) => x === 0x5a));
    assert.deepEqual([...c], [4]);
  });

  test("FrameParser unmasks a payload whose header ends a chunk where it lies", () => {
    const rec = new Recorder();
    const parser = new FrameParser(rec, parserOptions());
    parser.push(hex("82 85 37fa213d"));
    const rest = hex("7f9f4d5158");
    parser.push(rest);
    const [m] = rec.messages as Uint8Array[];
    assert.equal(m.buffer, rest.buffer);
    assert.equal(new TextDecoder().decode(m), "Hello");
  });

  test("FrameParser unmasks within the chunk with a real key", () => {
    const chunk = hex("82 85 37fa213d 7f9f4d5158");
    const rec = new Recorder();
    new FrameParser(rec, parserOptions()).push(chunk);
    assert.deepEqual([...chunk.subarray(2, 7)], [..."Hello"].map((c) => c.charCodeAt(0)));
  });

  test("FrameParser joins fragments into one exact buffer", () => {
    const rec = new Recorder();
    new FrameParser(rec, parserOptions()).push(
      hex("02 82 00000000 0102 00 80 00000000 80 82 00000000 0304"),
    );
    const [m] = rec.messages as Uint8Array[];
    assert.deepEqual([...m], [1, 2, 3, 4]);
    assert.equal(m.byteLength, 4);
    assert.equal(m.byteOffset, 0);
  });

  test("FrameParser reads maxMsgSize when a message starts, so a change applies to the next one", () => {
    const rec = new Recorder();
    const options = parserOptions();
    const limits = options.limits as { maxMsgSize: number };
    limits.maxMsgSize = 4;
    const p = new FrameParser(rec, options);
    p.push(hex("01 82 00000000 6162"));
    limits.maxMsgSize = 2; // too late for the open message
    p.push(hex("80 82 00000000 6364"));
    assert.deepEqual(rec.events, [["text", "abcd"]]);
    p.push(hex("81 83 00000000 616263"));
    assert.deepEqual(rec.events, [["text", "abcd"], ["error", "message-too-big"]]);
  });

  test("FrameParser fails invalid UTF-8 inside one frame split across chunks before the frame ends", () => {
    const rec = new Recorder();
    const p = new FrameParser(rec, parserOptions());
    const frame = partsToBytes(["81 fe 0100 00000000", { fill: "61", count: 100 }, "ff", {
      fill: "61",
      count: 155,
    }]);
    p.push(frame.slice(0, 8 + 101));
    assert.deepEqual(rec.events, [["error", "invalid-utf8"]]);
  });

  test("FrameParser fails invalid UTF-8 in a long first fragment using the native check", () => {
    const rec = new Recorder();
    const p = new FrameParser(rec, parserOptions());
    p.push(
      partsToBytes([
        "01 fe 0200 00000000",
        { fill: "62", count: 500 },
        "eda080 61 61 61 61 61 61 61 61 61",
      ]),
    );
    assert.deepEqual(rec.events, [["error", "invalid-utf8"]]);
  });

  test("FrameParser accepts a long text whose code points straddle chunk boundaries", () => {
    const text = "aé€😀".repeat(3000);
    const payload = new TextEncoder().encode(text);
    const frame = partsToBytes([`81 ff ${payload.length.toString(16).padStart(16, "0")} 00000000`]);
    const bytes = new Uint8Array(frame.length + payload.length);
    bytes.set(frame);
    bytes.set(payload, frame.length);
    for (const how of ["random", "whole"] as const) {
      for (const native of [true, false]) {
        const rec = parse(bytes, how, parserOptions({}, native), 7);
        assert.deepEqual(rec.events, [["text", text]]);
      }
    }
  });

  test("FrameParser stop() ends parsing mid-chunk", () => {
    class Stopping extends Recorder {
      override message(data: string | Uint8Array, isText: boolean): void {
        super.message(data, isText);
        p.stop();
      }
    }
    const rec = new Stopping();
    const p = new FrameParser(rec, parserOptions());
    p.push(hex("81 81 00000000 61 81 81 00000000 62"));
    assert.deepEqual(rec.events, [["text", "a"]]);
    assert.equal(p.stopped, true);
  });

  test("FrameParser is idle only between messages", () => {
    const p = new FrameParser(new Recorder(), parserOptions());
    assert.equal(p.idle, true);
    p.push(hex("01 81 00000000 61"));
    assert.equal(p.idle, false);
    p.push(hex("80 80 00000000"));
    assert.equal(p.idle, true);
    p.push(hex("82"));
    assert.equal(p.idle, false);
  });
});

describe("FrameParser allocate option", () => {
  test("FrameParser assembles a split payload in a buffer from allocate, exposing no stale byte", () => {
    const sizes: number[] = [];
    const dirty = (n: number) => (sizes.push(n), new Uint8Array(n).fill(0xaa));
    for (const n of [5, 300, 70_000]) {
      const rec = new Recorder();
      const parser = new FrameParser(rec, { ...parserOptions(), allocate: dirty });
      const frame = partsToBytes([
        n < 126
          ? `82 ${(0x80 | n).toString(16)}`
          : n < 65536
          ? `82 fe ${n.toString(16).padStart(4, "0")}`
          : `82 ff ${n.toString(16).padStart(16, "0")}`,
        "37fa213d",
        { fill: "00", count: n },
      ]);
      parser.push(frame.slice(0, frame.length - 2));
      parser.push(frame.slice(frame.length - 2));
      const [m] = rec.messages as Uint8Array[];
      const key = [0x37, 0xfa, 0x21, 0x3d];
      assert.ok(m.every((b, i) => b === key[i & 3]), `payload of ${n}`);
      // Everything around the view is zero: the room for a header, and nothing after.
      const whole = new Uint8Array(m.buffer, 0, m.buffer.byteLength);
      assert.equal(whole.length, m.byteOffset + n);
      assert.ok(whole.subarray(0, m.byteOffset).every((b) => b === 0));
    }
    assert.deepEqual(sizes, [2 + 5, 4 + 300, 10 + 70_000]);
  });
});

test("FrameParser keeps a leading U+FEFF of a text message with the pure decoder", () => {
  const rec = new Recorder();
  new FrameParser(rec, parserOptions({}, false)).push(hex("81 83 00000000 efbbbf"));
  assert.deepEqual(rec.messages, ["\ufeff"]);
});
