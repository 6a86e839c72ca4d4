import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkUpgrade, type UpgradeCheck } from "../../../src/core/protocol/handshake.ts";
import {
  buildRefusalResponse,
  rawRefusal,
  refusalResponse,
  REFUSALS,
} from "../../../src/core/protocol/responses.ts";

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

  test("every refusal of the table reads the same raw and as a Response", async () => {
    for (const [name, refusal] of Object.entries(REFUSALS)) {
      const raw = rawRefusal(refusal);
      const response = refusalResponse(refusal);
      assert.equal(response.status, refusal.status, name);
      assert.equal(await response.text(), refusal.reason, name);
      assert.equal(raw.split("\r\n")[0], `HTTP/1.1 ${refusal.status} ${response.statusText}`, name);
      assert.notEqual(response.statusText, "Error", name);
      assert.ok(raw.endsWith(`\r\n\r\n${refusal.reason}`), name);
    }
    assert.equal(refusalResponse(REFUSALS.shuttingDown).headers.get("retry-after"), "5");
    assert.match(
      rawRefusal(REFUSALS.headTooLarge),
      /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/,
    );
  });

  test("a refused checkUpgrade is a Response with its status and headers", async () => {
    const c = check({ "sec-websocket-version": "8" });
    assert.equal(c.ok, false);
    if (c.ok) return;
    const response = refusalResponse(c);
    assert.equal(response.status, 426);
    assert.equal(response.headers.get("sec-websocket-version"), "13");
    assert.equal(await response.text(), c.reason);
  });
});
