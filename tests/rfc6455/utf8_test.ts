import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { describe, test } from "node:test";
import { isValidUtf8, scanUtf8, Utf8Validator } from "../../src/rfc6455/utf8.ts";
import { hex, prng } from "./_frames.ts";

// Sequences from RFC 3629 and the Autobahn 6.x cases.
const valid = [
  "",
  "48656c6c6f",
  "c2a2",
  "e282ac",
  "f09f9880",
  "cebae1bdb9cf83cebcceb5", // "κόσμε"
  "7f c280 e0a080 f0908080", // the first code point of each length
  "7f dfbf efbfbf f48fbfbf", // the last code point of each length
  "ed9fbf ee8080 efbfbd", // around the surrogates
];
const invalid = [
  "80",
  "bf",
  "c0af", // overlong "/"
  "c1bf",
  "e080af",
  "e09fbf", // overlong 3-byte
  "f08080af",
  "f08fbfbf", // overlong 4-byte
  "eda080",
  "edbfbf", // surrogates
  "f4908080", // U+110000
  "f5808080",
  "f8",
  "fe",
  "ff",
  "c2",
  "e282",
  "f09f98", // truncated
  "c241", // lead then ASCII
  "e28241",
  "cebae1bdb9cf83cebcceb5eda080656469746564",
];

describe("utf8", () => {
  test("isValidUtf8 accepts valid sequences and refuses invalid ones, with or without the native check", () => {
    for (const native of [undefined, isUtf8]) {
      for (const v of valid) assert.equal(isValidUtf8(hex(v), 0, hex(v).length, native), true, v);
      for (const v of invalid) {
        assert.equal(isValidUtf8(hex(v), 0, hex(v).length, native), false, v);
      }
    }
  });

  test("isValidUtf8 agrees with node:buffer isUtf8 on every 1- and 2-byte input", () => {
    const b = new Uint8Array(2);
    for (let x = 0; x < 256; x++) {
      b[0] = x;
      assert.equal(isValidUtf8(b, 0, 1), isUtf8(b.subarray(0, 1)));
      for (let y = 0; y < 256; y++) {
        b[1] = y;
        assert.equal(isValidUtf8(b, 0, 2), isUtf8(b), `${x} ${y}`);
      }
    }
  });

  test("scanUtf8 agrees with isUtf8 on random 3- and 4-byte inputs around the tricky leads", () => {
    const rand = prng(42), b = new Uint8Array(4);
    const leads = [0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5];
    for (let i = 0; i < 200000; i++) {
      b[0] = leads[i % leads.length];
      for (let j = 1; j < 4; j++) b[j] = 0x70 + Math.floor(rand() * 0x60);
      const n = 3 + (i & 1);
      assert.equal(
        scanUtf8(b, 0, n, 0) === 0,
        isUtf8(b.subarray(0, n)),
        toString(b.subarray(0, n)),
      );
    }
  });

  test("Utf8Validator accepts a valid text split at every position", () => {
    const bytes = new TextEncoder().encode("aé€😀z");
    for (let cut = 0; cut <= bytes.length; cut++) {
      const v = new Utf8Validator();
      assert.equal(v.write(bytes, 0, cut), true);
      assert.equal(v.write(bytes, cut, bytes.length), true);
      assert.equal(v.end(), true, `cut ${cut}`);
    }
  });

  test("Utf8Validator fails on the first invalid byte, before the text ends", () => {
    const bytes = hex("cebae1bdb9cf83cebcceb5 eda080 656469746564");
    const v = new Utf8Validator();
    let failedAt = -1;
    for (let i = 0; i < bytes.length; i++) {
      if (!v.write(bytes, i, i + 1)) {
        failedAt = i;
        break;
      }
    }
    assert.equal(failedAt, 12); // the A0 after ED: a surrogate
    assert.equal(v.write(bytes, 0, 1), false, "stays failed");
  });

  test("Utf8Validator reports a text that ends inside a code point", () => {
    const v = new Utf8Validator();
    assert.equal(v.write(hex("e282"), 0, 2), true);
    assert.equal(v.end(), false);
    v.reset();
    assert.equal(v.end(), true);
  });

  test("Utf8Validator with a native check agrees with the pure one on long random parts", () => {
    const rand = prng(9);
    const alphabet = ["a", "é", "€", "😀", "\u0000"];
    for (let round = 0; round < 300; round++) {
      let text = "";
      for (let i = 0; i < 300; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const bytes = new TextEncoder().encode(text);
      const corrupt = rand() < 0.5;
      if (corrupt) bytes[Math.floor(rand() * bytes.length)] = 0x80 + Math.floor(rand() * 0x80);
      const want = isUtf8(bytes);
      for (const native of [undefined, isUtf8]) {
        const v = new Utf8Validator(native);
        let ok = true;
        for (let i = 0; i < bytes.length && ok;) {
          const n = 1 + Math.floor(rand() * 200);
          ok = v.write(bytes, i, Math.min(bytes.length, i + n));
          i += n;
        }
        assert.equal(ok && v.end(), want, `round ${round}`);
      }
    }
  });
});

function toString(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16)).join(" ");
}
