import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ERRORS, type WsxErrorCode } from "../../src/errors.ts";
import { denoNative, type Fixture, newId, rawUpgrade, startFixture, target } from "./_harness.ts";

// Client frames as hex, masked with the key 00000000 so that payloads read in clear.
const KEY = "00000000";
const cases: Array<[name: string, frames: string, expected: WsxErrorCode | "utf8"]> = [
  ["invalid UTF-8 in a text message", `8182${KEY}fffe`, "utf8"],
  ["invalid UTF-8 split over two fragments", `0182${KEY}e282` + `8081${KEY}28`, "utf8"],
  ["invalid UTF-8 in a close reason", `8883${KEY}03e8ff`, "utf8"],
  ["an unmasked frame", "81026869", "frame-unmasked"],
  ["a reserved opcode", `8382${KEY}6869`, "frame-opcode"],
  ["RSV1 without an extension", `c182${KEY}6869`, "frame-rsv"],
  ["a close frame with a 1-byte payload", `8881${KEY}03`, "close-payload"],
  ["close code 1005 on the wire", `8882${KEY}03ed`, "close-code"],
  ["a ping of 126 bytes", `89fe007e${KEY}${"00".repeat(126)}`, "control-too-long"],
  ["a fragmented ping", `0982${KEY}6869`, "control-fragmented"],
  ["a continuation without a message", `8082${KEY}6869`, "unexpected-continuation"],
  [
    "a new message before the last one ended",
    `0181${KEY}61` + `8181${KEY}62`,
    "expected-continuation",
  ],
];

/** The code of the first close frame in what the server sent, once it is all there. */
function closeCodeIn(bytes: Buffer): number | undefined {
  if (bytes.length < 2 || (bytes[0] & 0x0f) !== 8) return undefined;
  const length = bytes[1] & 0x7f;
  if (length < 2 || bytes.length < 2 + length) return undefined;
  return bytes.readUInt16BE(2);
}

describe(`protocol errors on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  for (const [name, frames, expected] of cases) {
    test(`${name} closes with the code sent on the wire, and onClose reports it`, async (t) => {
      if (denoNative) {
        // Deno's native server sends no close frame for a protocol error and reports only 1006.
        return t.skip(
          "Deno's native server does not report protocol errors (1006, no close frame)",
        );
      }
      const id = newId();
      const { socket, status, rest } = await rawUpgrade(fx.port, `/ws/echo?id=${id}`);
      assert.equal(status, 101);
      let received = rest;
      socket.on("data", (chunk: Buffer) => received = Buffer.concat([received, chunk]));
      socket.on("error", () => {});
      socket.resume();
      socket.write(Buffer.from(frames, "hex"));
      try {
        const wire = await fx.waitFor(() => closeCodeIn(received), 5000, "a close frame");
        const event = await fx.waitEvent(id, "close");
        assert.equal(event.code, wire, "onClose reports the code sent on the wire");
        if (expected === "utf8") {
          assert.equal(event.code, 1007);
          assert.match(String(event.reason), /UTF-8/);
        } else {
          assert.deepEqual(
            [event.code, event.reason],
            [ERRORS[expected].closeCode, ERRORS[expected].message],
          );
        }
        assert.equal(fx.eventsOf(id).filter((e) => e.type === "message").length, 0);
      } finally {
        socket.destroy();
      }
    });
  }
});
