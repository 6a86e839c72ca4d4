import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import {
  configure,
  DEFAULT_SETTINGS,
  onSettingsChange,
  resetSettings,
  settings,
} from "../../src/core/settings.ts";
import { Websocket } from "../../src/core/websocket.ts";

describe("settings", () => {
  afterEach(() => resetSettings());

  test("defaults are the seed's: 262144 bytes and 40 seconds", () => {
    assert.equal(Websocket.maxMsgSize, 262144);
    assert.equal(Websocket.timeout, 40);
    assert.equal(DEFAULT_SETTINGS.maxBufferedBytes, 4 * 1024 * 1024);
  });

  test("assignments through the global object are validated with the setting's name and range", () => {
    assert.throws(() => Websocket.timeout = 256, {
      name: "RangeError",
      message: /"timeout".*0 to 255, got 256/,
    });
    assert.throws(() => Websocket.timeout = 1.5, { name: "RangeError" });
    assert.throws(() => (Websocket as unknown as Record<string, unknown>).maxMsgSize = "1", {
      name: "TypeError",
      message: /"maxMsgSize"/,
    });
    assert.throws(() => (settings as unknown as Record<string, unknown>).backpressure = "block", {
      name: "TypeError",
      message: /"close" or "drop"/,
    });
    assert.equal(Websocket.timeout, 40, "a refused value changes nothing");
  });

  test("configure checks every value before changing any", () => {
    assert.throws(() => configure({ maxMsgSize: 10, timeout: 999 }), RangeError);
    assert.equal(settings.maxMsgSize, 262144);
    configure({ maxMsgSize: 10, timeout: 9 });
    assert.equal(settings.maxMsgSize, 10);
    assert.equal(settings.timeout, 9);
  });

  test("stream settings: 256 GiB and 30 s by default, validated with their names", () => {
    assert.equal(Websocket.maxStreamSize, 2 ** 38);
    assert.equal(Websocket.streamTimeout, 30);
    assert.throws(() => Websocket.streamTimeout = 0, {
      name: "RangeError",
      message: /"streamTimeout".*1 to 255, got 0/,
    });
    assert.throws(() => configure({ maxStreamSize: 0 }), {
      name: "RangeError",
      message: /"maxStreamSize"/,
    });
    assert.throws(() => (Websocket as unknown as Record<string, unknown>).maxStreamSize = "1", {
      name: "TypeError",
    });
    Websocket.maxStreamSize = 2 ** 40;
    assert.equal(settings.maxStreamSize, 2 ** 40);
  });

  test("listeners hear each change", () => {
    const heard: string[] = [];
    const stop = onSettingsChange((name) => heard.push(name));
    Websocket.maxMsgSize = 100;
    stop();
    Websocket.maxMsgSize = 200;
    assert.deepEqual(heard, ["maxMsgSize"]);
  });
});
