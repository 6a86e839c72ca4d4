import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConnectionDriver } from "../../src/core/driver.ts";
import { ServerGroup } from "../../src/core/group.ts";
import { Heartbeat } from "../../src/core/heartbeat.ts";
import { STREAM_WINDOW_BYTES } from "../../src/core/inbound.ts";
import { configure, resetSettings } from "../../src/core/settings.ts";
import type { MessageParts } from "../../src/core/transport.ts";
import { setErrorReporter } from "../../src/core/report.ts";
import type { WebSocketHandlers } from "../../src/types.ts";
import { FULL, RecordingTransport } from "./_fakes.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

function open(handlers: WebSocketHandlers, streaming = true) {
  let now = 1_000_000;
  const clock = { now: () => now, every: () => () => {} };
  const heartbeat = new Heartbeat(clock, 1000);
  const driver = new ConnectionDriver({
    handlers,
    udata: undefined,
    group: new ServerGroup(null),
    heartbeat,
  });
  const transport = new RecordingTransport({ ...FULL, streaming });
  driver.bind(transport);
  driver.open();
  return { driver, transport, heartbeat, advance: (ms: number) => (now += ms) };
}

describe("Message streams in the core", () => {
  test("a driver says it takes streams only when onStream is set, and then offers none", () => {
    const plain = open({ onMessage() {} }).driver;
    assert.equal(plain.streams, false);
    assert.equal(plain.messageStart(false, 10, true, false), undefined);
    assert.equal(open({ onStream() {} }).driver.streams, true);
  });

  test("reading pauses when the window is full and resumes as the reader catches up", async () => {
    let stream!: ReadableStream<Uint8Array>;
    const { driver, transport } = open({ onStream: (_ws, s) => void (stream = s) });
    const parts = driver.messageStart(false, 1 << 30, true, false) as MessageParts;
    assert.ok(parts);
    parts.part(new Uint8Array(STREAM_WINDOW_BYTES - 1), false);
    assert.deepEqual(transport.log, []);
    parts.part(new Uint8Array(10), false);
    assert.deepEqual(transport.log, ["pause"]);
    const reader = stream.getReader();
    await reader.read();
    await tick();
    assert.deepEqual(transport.log, ["pause", "resume"]);
  });

  test("a message ending while reading is paused ends only once the reader catches up", async () => {
    let stream!: ReadableStream<Uint8Array>;
    const { driver, transport } = open({ onStream: (_ws, s) => void (stream = s) });
    const parts = driver.messageStart(false, 0, false, false)!;
    parts.part(new Uint8Array(STREAM_WINDOW_BYTES), false);
    parts.part(new Uint8Array(5), true);
    assert.deepEqual(transport.log, ["pause"]);
    const sizes: number[] = [];
    for await (const chunk of stream) sizes.push(chunk.byteLength);
    assert.deepEqual(sizes, [STREAM_WINDOW_BYTES, 5]);
    assert.deepEqual(transport.log, ["pause", "resume"]);
  });

  test("a paused connection is not pinged; past streamTimeout it closes with 1011", () => {
    configure({ timeout: 1, streamTimeout: 5 });
    try {
      const { driver, transport, heartbeat, advance } = open({ onStream() {} });
      driver.messageStart(false, 0, false, false)!.part(new Uint8Array(STREAM_WINDOW_BYTES), false);
      for (let i = 0; i < 4; i++) advance(1000), heartbeat.tick();
      assert.deepEqual(transport.log, ["pause"]);
      advance(1000), heartbeat.tick();
      assert.deepEqual(transport.log, [
        "pause",
        "resume",
        "close 1011 Internal error: a message stream was not read for streamTimeout seconds",
      ]);
    } finally {
      resetSettings();
    }
  });

  test("an interrupted stream errors once; a cancelled one drops the rest", async () => {
    const streams: ReadableStream<Uint8Array>[] = [];
    const { driver } = open({ onStream: (_ws, s) => void streams.push(s) });
    const first = driver.messageStart(false, 0, false, false)!;
    first.part(Uint8Array.of(1), false);
    const reader = streams[0].getReader();
    assert.deepEqual((await reader.read()).value, Uint8Array.of(1));
    await streams[0].cancel().catch(() => {});
    first.part(Uint8Array.of(2), true); // discarded, no throw
    const second = driver.messageStart(true, 0, false, false)!;
    second.part(Uint8Array.of(0x61), false);
    driver.closed(1006, "");
    driver.closed(1006, "");
    second.part(Uint8Array.of(0x62), true); // after the end: ignored
    const errors: unknown[] = [];
    try {
      for await (const _ of streams[1]) { /* read */ }
    } catch (error) {
      errors.push((error as { code: string }).code);
    }
    assert.deepEqual(errors, ["stream-interrupted"]);
  });

  test("without streaming, onStream gets a whole message as one chunk when streamWhen wants it", async () => {
    setErrorReporter(() => {});
    const got: unknown[] = [];
    const { driver } = open({
      streamWhen: (info) => info.length > 3,
      async onStream(_ws, s, isText) {
        const chunks = [];
        for await (const c of s) chunks.push(new TextDecoder().decode(c));
        got.push([isText, chunks]);
      },
      onMessage: (_ws, data) => void got.push(data),
    }, false);
    driver.message("hi", true);
    driver.message("héllo", true);
    await tick();
    assert.deepEqual(got, ["hi", [true, ["héllo"]]]);
  });

  test("messages held back while an async onOpen runs reach onStream whole", async () => {
    const got: unknown[] = [];
    let opened!: () => void;
    const { driver } = open({
      onOpen: () => new Promise<void>((resolve) => (opened = resolve)),
      async onStream(_ws, s) {
        for await (const c of s) got.push(c.byteLength);
      },
    });
    assert.equal(driver.messageStart(false, 3, true, false), undefined);
    driver.message(new Uint8Array(3), false);
    assert.deepEqual(got, []);
    opened();
    await tick();
    assert.deepEqual(got, [3]);
  });
});
