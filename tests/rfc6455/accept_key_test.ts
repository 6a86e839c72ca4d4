import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { acceptKey } from "../../src/rfc6455/accept_key.ts";
import { WEBSOCKET_GUID } from "../../src/rfc6455/handshake.ts";

const reference = (key: string): string =>
  createHash("sha1").update(key + WEBSOCKET_GUID).digest("base64");

describe("acceptKey", () => {
  test("acceptKey gives the RFC 6455 section 1.3 example", () => {
    assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  test("acceptKey matches node:crypto's SHA-1 for 20,000 random keys", () => {
    for (let i = 0; i < 20_000; i++) {
      const key = randomBytes(16).toString("base64");
      assert.equal(acceptKey(key), reference(key), key);
    }
  });

  test("acceptKey matches node:crypto for any 24 ASCII characters, edge bytes included", () => {
    const keys = ["\x00".repeat(24), "\x7f".repeat(24), " ".repeat(24), "~".repeat(23) + "\x01"];
    for (let i = 0; i < 2_000; i++) {
      keys.push(String.fromCharCode(...Array.from(randomBytes(24), (b) => b & 0x7f)));
    }
    for (const key of keys) assert.equal(acceptKey(key), reference(key), JSON.stringify(key));
  });

  test("acceptKey leaves other lengths and non-ASCII keys to the caller", () => {
    for (
      const key of ["", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===", "é".repeat(24)]
    ) {
      assert.equal(acceptKey(key), undefined, JSON.stringify(key));
    }
    assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=\u0100"), undefined);
  });
});
