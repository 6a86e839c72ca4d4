import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { headerPairs, serializeCookie } from "../../src/core/headers.ts";
import { checkCloseArgs, exceedsLimit, utf8Length } from "../../src/core/limits.ts";
import { checkUpgradeRequest, planUpgrade } from "../../src/core/upgrade.ts";
import { checkRuntimeVersion, detectRuntime } from "../../src/runtime.ts";
import { checkServeOptions } from "../../src/core/server.ts";
import { serve as nodeServe } from "../../src/adapters/node.ts";

const handshake = {
  upgrade: "websocket",
  connection: "keep-alive, Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

describe("core helpers", () => {
  test("utf8Length counts like an encoder", () => {
    for (const text of ["", "abc", "é", "€", "😀", "a\ud800b", "x😀é€"]) {
      assert.equal(utf8Length(text), new TextEncoder().encode(text).length, text);
    }
    assert.equal(exceedsLimit("é".repeat(3), 5), true);
    assert.equal(exceedsLimit("é".repeat(2), 4), false);
  });

  test("close arguments follow RFC 6455 section 7.4", () => {
    for (const ok of [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999]) checkCloseArgs(ok, "");
    for (const bad of [999, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5]) {
      assert.throws(() => checkCloseArgs(bad, ""), RangeError, String(bad));
    }
    assert.throws(() => checkCloseArgs(1000, "é".repeat(62)), /at most 123/);
  });

  test("cookies serialize with their attributes and refuse injection", () => {
    assert.equal(
      serializeCookie({
        name: "sid",
        value: "a1",
        path: "/",
        maxAgeSeconds: 60,
        httpOnly: true,
        secure: true,
        sameSite: "Lax",
      }),
      "sid=a1; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax",
    );
    assert.throws(() => serializeCookie({ name: "a b", value: "1" }), /cookie "name"/);
    assert.throws(() => serializeCookie({ name: "a", value: "1;x=2" }), /cookie "value"/);
    assert.throws(() => headerPairs({ "x-a": "1\r\nx-b: 2" }, undefined), /CR, LF/);
    const pairs = headerPairs(
      new Headers([["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x", "y"]]),
      [{ name: "c", value: "3" }],
    );
    assert.deepEqual(pairs, [["x", "y"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], [
      "set-cookie",
      "c=3",
    ]]);
  });

  test("upgrade requests are checked per RFC 6455 section 4.2.1", () => {
    const get = (headers: Record<string, string>, method = "GET") =>
      checkUpgradeRequest(new Request("http://x/", { method, headers }))?.status;
    assert.equal(get(handshake), undefined);
    assert.equal(get({ ...handshake, "sec-websocket-version": "8" }), 426);
    assert.equal(get({ ...handshake, "sec-websocket-key": "abc" }), 400);
    assert.equal(get({}), 400);
    assert.equal(get(handshake, "POST"), 405);
  });

  test("the subprotocol is one the client offered, or none", () => {
    const req = (offer: string) =>
      new Request("http://x/", { headers: { ...handshake, "sec-websocket-protocol": offer } });
    assert.equal(planUpgrade(req("a, b"), { protocol: "b" }).protocol, "b");
    assert.equal(planUpgrade(req("a,b"), { protocol: "c" }).protocol, undefined);
    assert.equal(planUpgrade(req("a"), { protocol: () => "z" }).protocol, undefined);
    assert.throws(
      () => planUpgrade(req("a"), { onMessage: 5 as never }),
      /"onMessage": expected a function/,
    );
  });

  test("the runtime is told apart, Deno and Bun before Node", () => {
    assert.equal(
      detectRuntime({ Deno: { version: { deno: "2" } }, process: { versions: { node: "20" } } }),
      "deno",
    );
    assert.equal(
      detectRuntime({ Bun: { version: "1" }, process: { versions: { node: "20" } } }),
      "bun",
    );
    assert.equal(detectRuntime({ process: { versions: { node: "20" } } }), "node");
    assert.throws(() => detectRuntime({}), TypeError);
  });

  test('serve()\'s transport is "engine" or "native", unset by default', () => {
    const onRequest = () => new Response("");
    assert.equal(checkServeOptions({ onRequest }).transport, undefined);
    assert.equal(checkServeOptions({ onRequest, transport: "native" }).transport, "native");
    assert.throws(
      () => checkServeOptions({ onRequest, transport: "uws" as never }),
      (error: Error) =>
        error instanceof TypeError &&
        /^Invalid "transport": expected "engine" or "native", got "uws"$/.test(error.message),
    );
  });

  test("on Node.js, serve() refuses the native transport, naming the one it has", async () => {
    await assert.rejects(
      nodeServe({ port: 0, onRequest: () => new Response(""), transport: "native" }),
      (error: Error) =>
        error instanceof RangeError &&
        /"transport".*expected "engine", got "native"/.test(error.message),
    );
  });

  test("Deno and Bun older than the floor are refused with their version and the floor", () => {
    const deno = (v: string) => ({ Deno: { version: { deno: v } } });
    const bun = (v: string) => ({ Bun: { version: v } });
    for (const ok of [deno("2.9.0"), deno("2.9.6"), deno("3.0.0"), bun("1.4.0"), bun("1.10.1")]) {
      checkRuntimeVersion(ok);
    }
    checkRuntimeVersion({ process: { versions: { node: "20.0.0" } } });
    assert.throws(
      () => checkRuntimeVersion(deno("2.8.9")),
      /^Error: Cannot serve on Deno 2\.8\.9: wsx needs Deno 2\.9\.0 or later$/,
    );
    assert.throws(
      () => checkRuntimeVersion(bun("1.3.12")),
      /^Error: Cannot serve on Bun 1\.3\.12: wsx needs Bun 1\.4\.0 or later$/,
    );
    assert.throws(() => checkRuntimeVersion(deno("1.46.3")), /Deno 2\.9\.0 or later/);
  });
});
