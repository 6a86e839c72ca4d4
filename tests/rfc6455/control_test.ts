import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  encodeClose,
  encodeControl,
  writeCloseFrame,
  writeControlFrame,
} from "../../src/rfc6455/control.ts";
import { OPCODE } from "../../src/rfc6455/encoder.ts";
import { maskServerFrame, parse, toHex } from "./_frames.ts";

describe("control frames", () => {
  test("encodeClose writes the code and reason", () => {
    assert.equal(toHex(encodeClose(1000, "ok")), "880403e86f6b");
    assert.equal(toHex(encodeClose(4000)), "88020fa0");
  });

  test("encodeClose sends no payload for 1005 and for codes not allowed on the wire", () => {
    for (const code of [1005, 1006, 1015, 999, 5000]) {
      assert.equal(toHex(encodeClose(code, "x")), "8800", `${code}`);
    }
  });

  test("encodeClose cuts a long reason to 123 bytes on a code point boundary", () => {
    const ascii = encodeClose(1000, "r".repeat(200));
    assert.equal(ascii.byteLength, 2 + 125);
    assert.equal(ascii[1], 125);
    const euros = encodeClose(1000, "€".repeat(50)); // 3 bytes each: 41 fit in 123
    assert.equal(euros[1], 2 + 123);
    const mixed = encodeClose(1000, "a" + "€".repeat(50)); // 1 + 40 * 3 = 121
    assert.equal(mixed[1], 2 + 121);
    assert.deepEqual(parse(maskServerFrame(mixed, 7), "whole").events, [[
      "close",
      1000,
      "a" + "€".repeat(40),
    ]]);
  });

  test("encodeControl writes pings and pongs and refuses payloads over 125 bytes", () => {
    assert.equal(toHex(encodeControl(OPCODE.ping)), "8900");
    assert.equal(toHex(encodeControl(OPCODE.pong, Uint8Array.of(1, 2))), "8a020102");
    assert.throws(() => encodeControl(OPCODE.ping, new Uint8Array(126)), RangeError);
    assert.equal(encodeControl(OPCODE.ping, new Uint8Array(125)).byteLength, 127);
  });

  test("writeCloseFrame and writeControlFrame write at an offset", () => {
    const out = new Uint8Array(300);
    const a = writeCloseFrame(out, 10, 1001, "");
    const b = writeControlFrame(out, a, OPCODE.pong, Uint8Array.of(9));
    assert.equal(toHex(out.subarray(10, b)), "880203e98a0109");
  });
});
