import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { acceptValue, buildAcceptResponse, WEBSOCKET_GUID } from "../../src/rfc6455/handshake.ts";

const sha1 = (s: string): string => createHash("sha1").update(s).digest("base64");

describe("handshake", () => {
  test("acceptValue gives the RFC 6455 section 1.3 example", () => {
    assert.equal(WEBSOCKET_GUID, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    assert.equal(acceptValue("dGhlIHNhbXBsZSBub25jZQ==", sha1), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  test("buildAcceptResponse writes the whole 101 with protocol and repeated Set-Cookie", () => {
    const res = buildAcceptResponse("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "chat", [
      ["Set-Cookie", "a=1; Path=/"],
      ["Set-Cookie", "b=2"],
      ["X-Trace", "abc"],
    ]);
    assert.equal(
      res,
      "HTTP/1.1 101 Switching Protocols\r\n" +
        "Upgrade: websocket\r\n" +
        "Connection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
        "Sec-WebSocket-Protocol: chat\r\n" +
        "Set-Cookie: a=1; Path=/\r\n" +
        "Set-Cookie: b=2\r\n" +
        "X-Trace: abc\r\n" +
        "\r\n",
    );
    assert.ok(!buildAcceptResponse("x", null).includes("Sec-WebSocket-Protocol"));
  });

  test("buildAcceptResponse refuses CR, LF and other injection in names and values", () => {
    const bad: [string, string][] = [
      ["X-A", "1\r\nSet-Cookie: evil=1"],
      ["X-A", "1\nx"],
      ["X-A", "1\rx"],
      ["X-A", "nul\u0000"],
      ["X-A", "caf\u00e9"],
      ["X-A\r\nEvil", "1"],
      ["X A", "1"],
      ["", "1"],
      ["X:A", "1"],
    ];
    for (const h of bad) {
      assert.throws(() => buildAcceptResponse("x", null, [h]), TypeError, JSON.stringify(h));
    }
    assert.throws(() => buildAcceptResponse("x", "chat\r\nX: 1"), TypeError);
    assert.doesNotThrow(() => buildAcceptResponse("x", null, [["X-A", "tab\tand space"]]));
  });
});
