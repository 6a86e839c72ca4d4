import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { checkOwnSettings, serverSettings } from "../../src/core/server_settings.ts";
import { checkServeOptions } from "../../src/core/server.ts";
import { configure, resetSettings, settings } from "../../src/core/settings.ts";

describe("a server's own settings", () => {
  afterEach(() => resetSettings());

  test("a server that sets nothing reads the global settings object itself", () => {
    assert.equal(serverSettings(checkOwnSettings({})), settings);
  });

  test("set values hold; unset ones follow the global settings live", () => {
    const view = serverSettings(checkOwnSettings({ maxMsgSize: 1024, backpressure: "drop" }));
    configure({ maxMsgSize: 9999, timeout: 12, backpressure: "close" });
    assert.equal(view.maxMsgSize, 1024);
    assert.equal(view.backpressure, "drop");
    assert.equal(view.timeout, 12);
    configure({ timeout: 13 });
    assert.equal(view.timeout, 13);
    assert.throws(() => (view as { maxMsgSize: number }).maxMsgSize = 1, TypeError);
  });

  test("serve() options are checked with the global validators, naming the option", () => {
    const onRequest = () => new Response("");
    assert.throws(() => checkServeOptions({ onRequest, timeout: 256 }), {
      name: "RangeError",
      message: 'Invalid "timeout": expected an integer from 0 to 255, got 256',
    });
    assert.throws(() => checkServeOptions({ onRequest, maxMsgSize: "big" as unknown as number }), {
      name: "TypeError",
      message: /"maxMsgSize"/,
    });
    assert.deepEqual(checkServeOptions({ onRequest, pongTimeout: 5 }).settings, { pongTimeout: 5 });
    assert.deepEqual(checkServeOptions({ onRequest }).settings, {});
  });
});
