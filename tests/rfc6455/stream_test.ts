import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MessageParts } from "../../src/core/transport.ts";
import { FrameParser } from "../../src/rfc6455/parser.ts";
import { streamFragmentCap } from "../../src/rfc6455/stream.ts";
import { clientFrame } from "./_client.ts";
import { type Feeding, parserOptions, Recorder, split, toHex } from "./_frames.ts";

const feedings: Feeding[] = ["whole", "bytewise", "random"];
const OP_TEXT = 1, OP_BINARY = 2, OP_CONT = 0, OP_PING = 9;

/** A recorder whose `start` streams the messages `when` picks, and records their parts. */
class StreamRecorder extends Recorder {
  readonly starts: Array<[boolean, number, boolean]> = [];
  /** One list of parts per streamed message; each part copied when handed over. */
  readonly streams: Uint8Array[][] = [];
  readonly lasts: number[] = [];
  #when: (isText: boolean, length: number, fin: boolean) => boolean;
  constructor(when: (isText: boolean, length: number, fin: boolean) => boolean = () => true) {
    super();
    this.#when = when;
  }
  start(isText: boolean, length: number, fin: boolean): MessageParts | undefined {
    this.starts.push([isText, length, fin]);
    if (!this.#when(isText, length, fin)) return undefined;
    const parts: Uint8Array[] = [], index = this.streams.length;
    this.streams.push(parts);
    this.events.push(["stream", isText]);
    return {
      part: (bytes, last) => {
        // Kept as given, to check later that later frames did not overwrite it.
        parts.push(bytes);
        if (last) {
          this.lasts.push(index);
          this.events.push(["end", toHex(concat(parts))]);
        }
      },
    };
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.byteLength;
  return out;
}

function join(...frames: Uint8Array[]): Uint8Array {
  return concat(frames);
}

function run(
  bytes: Uint8Array,
  how: Feeding,
  rec: StreamRecorder,
  limits: { maxMsgSize?: number; maxStreamSize?: number } = {},
  seed = 1,
): StreamRecorder {
  const options = parserOptions({ maxMsgSize: limits.maxMsgSize });
  const live = { ...options, limits: { ...options.limits, maxStreamSize: limits.maxStreamSize } };
  const parser = new FrameParser(rec, live);
  for (const chunk of split(bytes, how, seed)) parser.push(chunk);
  return rec;
}

const bytesOf = (n: number, seed = 7): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe("FrameParser stream mode", () => {
  for (const how of feedings) {
    test(`FrameParser streams a fragmented binary message in order (fed ${how})`, () => {
      const a = bytesOf(300), b = bytesOf(70000, 3), c = bytesOf(5, 9);
      const wire = join(
        clientFrame(OP_BINARY, a, { fin: false }),
        clientFrame(OP_PING, "hi"),
        clientFrame(OP_CONT, b, { fin: false }),
        clientFrame(OP_CONT, c),
        clientFrame(OP_BINARY, bytesOf(3)),
      );
      for (const seed of how === "random" ? [1, 2, 3] : [1]) {
        const rec = run(wire, how, new StreamRecorder(), {}, seed);
        assert.deepEqual(rec.starts[0], [false, 300, false]);
        assert.deepEqual(rec.events, [
          ["stream", false],
          ["ping", toHex(new TextEncoder().encode("hi"))],
          ["end", toHex(join(a, b, c))],
          ["stream", false],
          ["end", toHex(bytesOf(3))],
        ]);
        // The parts are views of the chunks: still intact after the whole input was parsed.
        assert.equal(toHex(concat(rec.streams[0])), toHex(join(a, b, c)));
      }
    });

    test(`FrameParser streams text cut only between code points (fed ${how})`, () => {
      const text = "a€😀b".repeat(40);
      const utf8 = new TextEncoder().encode(text);
      // Fragments cut inside code points: 1, 2 and 3 bytes into a sequence.
      const cuts = [2, 5, 9, 60, utf8.length];
      const frames: Uint8Array[] = [];
      for (let i = 0, from = 0; i < cuts.length; from = cuts[i++]) {
        frames.push(
          clientFrame(i === 0 ? OP_TEXT : OP_CONT, utf8.slice(from, cuts[i]), {
            fin: i === cuts.length - 1,
          }),
        );
      }
      const rec = run(join(...frames), how, new StreamRecorder());
      assert.equal(rec.lasts.length, 1);
      const strict = new TextDecoder("utf-8", { fatal: true });
      const decoded = rec.streams[0].map((p) => strict.decode(p));
      assert.equal(decoded.join(""), text);
    });
  }

  test("FrameParser fails a streamed text message at the first invalid byte, before FIN", () => {
    for (const how of feedings) {
      const rec = run(
        join(
          clientFrame(OP_TEXT, "héllo", { fin: false }),
          clientFrame(OP_CONT, Uint8Array.of(0x61, 0xc0, 0xaf), { fin: false }),
        ),
        how,
        new StreamRecorder(),
      );
      assert.deepEqual(rec.events.at(-1), ["error", "invalid-utf8"]);
      assert.equal(rec.events.filter((e) => e[0] === "error").length, 1);
      assert.equal(rec.lasts.length, 0);
      // No invalid byte was handed over (the "a" before it may have been, in its own chunk).
      const given = new TextDecoder("utf-8", { fatal: true }).decode(concat(rec.streams[0]));
      assert.ok(given === "héllo" || given === "hélloa", given);
    }
  });

  test("FrameParser refuses a streamed text message ending inside a code point", () => {
    const euro = new TextEncoder().encode("€");
    const rec = run(clientFrame(OP_TEXT, euro.slice(0, 2)), "whole", new StreamRecorder());
    assert.deepEqual(rec.events.at(-1), ["error", "invalid-utf8"]);
  });

  test("FrameParser applies maxStreamSize, not maxMsgSize, to a streamed message", () => {
    const big = clientFrame(OP_BINARY, bytesOf(5000));
    const ok = run(big, "random", new StreamRecorder(), { maxMsgSize: 100, maxStreamSize: 5000 });
    assert.equal(ok.lasts.length, 1);
    const over = run(
      join(
        clientFrame(OP_BINARY, bytesOf(3000), { fin: false }),
        clientFrame(OP_CONT, bytesOf(3000)),
      ),
      "whole",
      new StreamRecorder(),
      { maxMsgSize: 1 << 20, maxStreamSize: 5000 },
    );
    assert.deepEqual(over.events.at(-1), ["error", "stream-too-big"]);
    // A message delivered whole keeps maxMsgSize.
    const whole = run(big, "whole", new StreamRecorder(() => false), { maxMsgSize: 100 });
    assert.deepEqual(whole.events, [["error", "message-too-big"]]);
  });

  test("FrameParser lets the sink choose per message from the first frame's header", () => {
    const rec = run(
      join(
        clientFrame(OP_BINARY, bytesOf(10)),
        clientFrame(OP_BINARY, bytesOf(1000)),
        clientFrame(OP_TEXT, "x".repeat(200), { fin: false }),
        clientFrame(OP_CONT, "y"),
      ),
      "random",
      new StreamRecorder((_text, length, fin) => length > 100 || !fin),
    );
    assert.deepEqual(rec.starts, [[false, 10, true], [false, 1000, true], [true, 200, false]]);
    assert.deepEqual(rec.events.map((e) => e[0]), ["binary", "stream", "end", "stream", "end"]);
  });

  test("FrameParser caps a streamed message's frames by their average size", () => {
    // 200 GB in 1 MiB frames is within the cap; tiny frames are not.
    assert.ok(streamFragmentCap(200e9) > 200e9 / 2 ** 20);
    const tiny: Uint8Array[] = [clientFrame(OP_BINARY, "a", { fin: false })];
    for (let i = 0; i < 1100; i++) tiny.push(clientFrame(OP_CONT, "a", { fin: false }));
    const flood = run(join(...tiny), "whole", new StreamRecorder());
    assert.deepEqual(flood.events.at(-1), ["error", "too-many-fragments"]);
    // 2000 fragments of 64 bytes: allowed (Autobahn's 9.3/9.4 shape).
    const fair: Uint8Array[] = [clientFrame(OP_BINARY, bytesOf(64), { fin: false })];
    for (let i = 0; i < 2000; i++) {
      fair.push(clientFrame(OP_CONT, bytesOf(64), { fin: i === 1999 }));
    }
    const passed = run(join(...fair), "whole", new StreamRecorder());
    assert.equal(passed.lasts.length, 1);
    assert.equal(concat(passed.streams[0]).byteLength, 64 * 2001);
  });

  test("FrameParser streams empty frames and an empty message", () => {
    const rec = run(
      join(
        clientFrame(OP_BINARY, "", { fin: false }),
        clientFrame(OP_CONT, ""),
        clientFrame(OP_TEXT, ""),
      ),
      "bytewise",
      new StreamRecorder(),
    );
    assert.deepEqual(rec.events, [["stream", false], ["end", ""], ["stream", true], ["end", ""]]);
  });
});
