import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import {
  acceptValue,
  buildAcceptResponse,
  buildRefusalResponse,
  checkUpgrade,
  type UpgradeCheck,
  WEBSOCKET_GUID,
} from "../../src/rfc6455/handshake.ts";

const good: Record<string, string> = {
  host: "example.com",
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

function check(overrides: Record<string, string | null> = {}, method = "GET"): UpgradeCheck {
  const headers: Record<string, string | null> = { ...good, ...overrides };
  return checkUpgrade(method, (name) => headers[name] ?? null);
}

function refused(
  c: UpgradeCheck,
): { status: number; headers: readonly (readonly [string, string])[] } {
  assert.equal(c.ok, false);
  return c as {
    ok: false;
    status: number;
    reason: string;
    headers: readonly (readonly [string, string])[];
  };
}

const sha1 = (s: string): string => createHash("sha1").update(s).digest("base64");

describe("handshake", () => {
  test("checkUpgrade accepts the RFC 6455 section 1.3 request", () => {
    assert.deepEqual(check(), { ok: true, key: "dGhlIHNhbXBsZSBub25jZQ==", protocols: [] });
  });

  test("checkUpgrade matches Upgrade and Connection tokens in any case, among other tokens", () => {
    assert.equal(check({ upgrade: "WebSocket" }).ok, true);
    assert.equal(check({ upgrade: "h2c, WEBSOCKET" }).ok, true);
    assert.equal(check({ connection: "keep-alive, upgrade" }).ok, true);
    assert.equal(check({ connection: "keep-alive,\tUPGRADE ,x" }).ok, true);
  });

  test("checkUpgrade refuses a method other than GET with 405", () => {
    const r = refused(check({}, "POST"));
    assert.equal(r.status, 405);
    assert.deepEqual(r.headers, [["Allow", "GET"]]);
    assert.equal(refused(check({}, "get")).status, 405);
  });

  test("checkUpgrade refuses each bad header with 400", () => {
    const bad: Record<string, string | null>[] = [
      { upgrade: null },
      { upgrade: "websockets" },
      { upgrade: "web socket" },
      { connection: null },
      { connection: "keep-alive" },
      { connection: "upgraded" },
      { "sec-websocket-key": null },
      { "sec-websocket-key": "" },
      { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ" }, // no padding
      { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ=" },
      { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZSE=" }, // 17 bytes
      { "sec-websocket-key": "dGhlIHNhbXBsZSBub25j" }, // 15 bytes
      { "sec-websocket-key": "dGhlIHNhbXBsZSBub25j*Q==" },
      { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==" }, // repeated
      { "sec-websocket-protocol": "chat, bad proto" },
      { "sec-websocket-protocol": "a/b" },
    ];
    for (const b of bad) assert.equal(refused(check(b)).status, 400, JSON.stringify(b));
  });

  test("checkUpgrade trims the key", () => {
    assert.deepEqual(check({ "sec-websocket-key": "  dGhlIHNhbXBsZSBub25jZQ==\t" }), {
      ok: true,
      key: "dGhlIHNhbXBsZSBub25jZQ==",
      protocols: [],
    });
  });

  test("checkUpgrade refuses any version but 13 with 426 and the version it speaks", () => {
    for (const v of [null, "", "8", "12", "14", "13, 8", "thirteen"]) {
      const r = refused(check({ "sec-websocket-version": v }));
      assert.equal(r.status, 426, `${v}`);
      assert.deepEqual(r.headers, [["Sec-WebSocket-Version", "13"]]);
    }
  });

  test("checkUpgrade lists offered subprotocols, repeated headers joined", () => {
    const c = check({ "sec-websocket-protocol": "chat, superchat,, v2.json" });
    assert.deepEqual(c, {
      ok: true,
      key: good["sec-websocket-key"],
      protocols: ["chat", "superchat", "v2.json"],
    });
  });

  test("checkUpgrade survives huge and repeated headers", () => {
    const huge = "x".repeat(1 << 20);
    assert.equal(refused(check({ upgrade: huge })).status, 400);
    assert.equal(refused(check({ connection: ",".repeat(1 << 20) })).status, 400);
    assert.equal(refused(check({ "sec-websocket-key": huge })).status, 400);
    assert.equal(refused(check({ "sec-websocket-version": huge })).status, 426);
    assert.equal(check({ connection: "a, ".repeat(100000) + "Upgrade" }).ok, true);
    const many = check({ "sec-websocket-protocol": "p, ".repeat(50000) });
    assert.equal(many.ok && many.protocols.length, 50000);
  });

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

  test("buildRefusalResponse writes status, Content-Length in bytes, Connection: close and the body", () => {
    const res = buildRefusalResponse(426, "Need version 13 — thanks", [[
      "Sec-WebSocket-Version",
      "13",
    ]]);
    const [head, body] = res.split("\r\n\r\n");
    assert.equal(body, "Need version 13 — thanks");
    const lines = head.split("\r\n");
    assert.equal(lines[0], "HTTP/1.1 426 Upgrade Required");
    assert.ok(lines.includes("Connection: close"));
    assert.ok(lines.includes(`Content-Length: ${new TextEncoder().encode(body).length}`));
    assert.ok(lines.includes("Sec-WebSocket-Version: 13"));
    assert.equal(buildRefusalResponse(418, "").split("\r\n")[0], "HTTP/1.1 418 Error");
    assert.throws(() => buildRefusalResponse(200, "x"), RangeError);
    assert.throws(() => buildRefusalResponse(400, "x", [["X", "a\r\nb"]]), TypeError);
  });

  test("a refusal from checkUpgrade builds a complete response", () => {
    const c = check({ "sec-websocket-version": "8" });
    assert.equal(c.ok, false);
    if (c.ok) return;
    const res = buildRefusalResponse(c.status, c.reason, c.headers);
    assert.match(res, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(res, /\r\nSec-WebSocket-Version: 13\r\n/);
  });
});
