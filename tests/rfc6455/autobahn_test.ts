/**
 * Autobahn TestSuite style cases (categories 1-7 and 9), driven by a raw TCP client that
 * writes masked frames by hand against a real echo server.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { clientFrame, closePayload, RawClient } from "./_client.ts";
import { type EchoServer, startEchoServer } from "./_harness.ts";

const TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: EchoServer;
let big: EchoServer;
before(async () => {
  server = await startEchoServer({ maxMsgSize: 1 << 20 });
  // Only the size limit is raised: the default fragment cap grows with it.
  big = await startEchoServer({ maxMsgSize: 32 << 20 });
});
after(async () => {
  await server.close();
  await big.close();
  // Every connection, whatever its path, reported `closed` exactly once.
  for (const side of [...server.sides, ...big.sides]) {
    await side.closed;
    assert.equal(side.closeCount, 1);
  }
});

async function client(on: EchoServer = server): Promise<RawClient> {
  return await RawClient.connect(on.port);
}

async function expectFrame(
  c: RawClient,
  opcode: number,
  payload: Uint8Array,
  timeoutMs = 5000,
): Promise<void> {
  const f = await c.read(timeoutMs);
  assert.equal(f.opcode, opcode, `opcode ${f.opcode} instead of ${opcode}`);
  assert.equal(f.fin, true);
  assert.equal(f.rsv, 0);
  assert.equal(f.masked, false, "server frames are never masked");
  assert.equal(f.payload.length, payload.length);
  assert.ok(Buffer.from(f.payload).equals(Buffer.from(payload)), "payload differs");
}

// The client closes normally: the server echoes 1000 and ends the TCP connection.
async function closeNormally(c: RawClient): Promise<void> {
  c.send(CLOSE, closePayload(1000));
  await c.expectClose(1000);
  assert.equal(await c.closedWithin(3000), true, "server ends the socket");
}

// The server fails the connection with `code` and ends the TCP connection.
async function expectFailure(c: RawClient, code: number): Promise<void> {
  await c.expectClose(code);
  assert.equal(await c.closedWithin(3000), true, "server ends the socket");
}

describe("Autobahn 1: framing", () => {
  for (const [kind, opcode, fill] of [["text", TEXT, 0x2a], ["binary", BINARY, 0xfe]] as const) {
    for (const n of [0, 125, 126, 127, 128, 65535, 65536]) {
      test(`1.x ${kind} message of ${n} bytes is echoed`, async () => {
        const c = await client();
        const payload = new Uint8Array(n).fill(fill);
        c.send(opcode, payload);
        await expectFrame(c, opcode, payload);
        await closeNormally(c);
      });
    }
    test(`1.x ${kind} message of 65536 bytes sent in chunks of 997 bytes is echoed`, async () => {
      const c = await client();
      const payload = new Uint8Array(65536).fill(fill);
      await c.writeChunked(clientFrame(opcode, payload), 997, 1);
      await expectFrame(c, opcode, payload);
      await closeNormally(c);
    });
  }
});

describe("Autobahn 2: pings and pongs", () => {
  const payloads: [string, Uint8Array][] = [
    ["no payload", new Uint8Array(0)],
    ["text payload", enc("Hello, world!")],
    ["binary payload", Uint8Array.of(0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff)],
    ["125-byte payload", new Uint8Array(125).fill(0xfe)],
  ];
  for (const [name, payload] of payloads) {
    test(`2.x ping with ${name} gets a pong with the same payload`, async () => {
      const c = await client();
      c.send(PING, payload);
      await expectFrame(c, PONG, payload);
      await closeNormally(c);
    });
  }

  test("2.5 ping with a 126-byte payload fails with 1002", async () => {
    const c = await client();
    c.send(PING, new Uint8Array(126).fill(0xfe));
    await expectFailure(c, 1002);
  });

  test("2.6 ping with a 125-byte payload sent one byte at a time gets its pong", async () => {
    const c = await client();
    const payload = new Uint8Array(125).fill(0xfe);
    await c.writeChunked(clientFrame(PING, payload), 1);
    await expectFrame(c, PONG, payload);
    await closeNormally(c);
  });

  test("2.7-2.9 unsolicited pongs are ignored; a ping after them is answered", async () => {
    const c = await client();
    c.send(PONG);
    c.send(PONG, enc("unsolicited pong payload"));
    c.send(PING, enc("ping payload"));
    await expectFrame(c, PONG, enc("ping payload"));
    await closeNormally(c);
    assert.equal(server.sides.at(-1)!.pongs, 2);
  });

  for (const bytewise of [false, true]) {
    test(`2.${bytewise ? 11 : 10} ten pings${bytewise ? " sent one byte at a time" : ""} get ten pongs in order`, async () => {
      const c = await client();
      const frames = Array.from({ length: 10 }, (_, i) => clientFrame(PING, enc(`payload-${i}`)));
      if (bytewise) { for (const f of frames) await c.writeChunked(f, 1); }
      else c.write(Buffer.concat(frames));
      for (let i = 0; i < 10; i++) await expectFrame(c, PONG, enc(`payload-${i}`));
      await closeNormally(c);
    });
  }
});

describe("Autobahn 3: reserved bits", () => {
  const cases: [string, number, number, boolean][] = [
    ["3.1 text with RSV=1", TEXT, 1, false],
    ["3.2 text with RSV=2 after a good text", TEXT, 2, true],
    ["3.3 text with RSV=3 after a good text", TEXT, 3, true],
    ["3.4 text with RSV=4 after a good text", TEXT, 4, true],
    ["3.5 binary with RSV=5", BINARY, 5, false],
    ["3.6 ping with RSV=6", PING, 6, false],
    ["3.7 close with RSV=7", CLOSE, 7, false],
  ];
  for (const [name, opcode, rsv, goodFirst] of cases) {
    for (const bytewise of [false, true]) {
      test(`${name} fails with 1002${bytewise ? " (sent one byte at a time)" : ""}`, async () => {
        const c = await client();
        const frames = [
          ...(goodFirst ? [clientFrame(TEXT, "Hello, world!")] : []),
          clientFrame(opcode, opcode === CLOSE ? closePayload(1000) : enc("Hello, world!"), {
            rsv,
          }),
          clientFrame(PING, enc("after")),
        ];
        const bytes = Buffer.concat(frames);
        if (bytewise) await c.writeChunked(bytes, 1);
        else c.write(bytes);
        if (goodFirst) await expectFrame(c, TEXT, enc("Hello, world!"));
        await expectFailure(c, 1002);
      });
    }
  }
});

describe("Autobahn 4: opcodes", () => {
  for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    test(`4.x reserved opcode ${opcode} after a good text fails with 1002 and nothing after it is read`, async () => {
      const c = await client();
      c.write(Buffer.concat([
        clientFrame(TEXT, "Hello, world!"),
        clientFrame(opcode, opcode & 1 ? enc("reserved") : new Uint8Array(0)),
        clientFrame(PING, enc("after")),
      ]));
      await expectFrame(c, TEXT, enc("Hello, world!"));
      await expectFailure(c, 1002);
    });
  }
});

describe("Autobahn 5: fragmentation", () => {
  test("5.1 ping in two fragments fails with 1002", async () => {
    const c = await client();
    c.write(Buffer.concat([clientFrame(PING, "frag1", { fin: false }), clientFrame(0, "frag2")]));
    await expectFailure(c, 1002);
  });

  test("5.2 pong in two fragments fails with 1002", async () => {
    const c = await client();
    c.write(Buffer.concat([clientFrame(PONG, "frag1", { fin: false }), clientFrame(0, "frag2")]));
    await expectFailure(c, 1002);
  });

  for (const mode of ["together", "frame by frame", "one byte at a time"] as const) {
    test(`5.3-5.5 text in two fragments sent ${mode} is echoed whole`, async () => {
      const c = await client();
      const frames = [clientFrame(TEXT, "fragment1", { fin: false }), clientFrame(0, "fragment2")];
      await send(c, frames, mode);
      await expectFrame(c, TEXT, enc("fragment1fragment2"));
      await closeNormally(c);
    });

    test(`5.6-5.8 text in two fragments with a ping between, sent ${mode}: pong, then the text`, async () => {
      const c = await client();
      const frames = [
        clientFrame(TEXT, "fragment1", { fin: false }),
        clientFrame(PING, "ping payload"),
        clientFrame(0, "fragment2"),
      ];
      await send(c, frames, mode);
      await expectFrame(c, PONG, enc("ping payload"));
      await expectFrame(c, TEXT, enc("fragment1fragment2"));
      await closeNormally(c);
    });

    test(`5.9-5.14 continuations with nothing to continue, sent ${mode}, fail with 1002`, async () => {
      for (const fin of [true, false]) {
        const c = await client();
        const frames = [
          clientFrame(0, "non-continuation payload", { fin }),
          clientFrame(TEXT, "Hello, world!"),
        ];
        await send(c, frames, mode);
        await expectFailure(c, 1002);
      }
    });
  }

  test("5.15 text in two fragments, then a continuation and a text fragment, fails with 1002", async () => {
    const c = await client();
    c.write(Buffer.concat([
      clientFrame(TEXT, "fragment1", { fin: false }),
      clientFrame(0, "fragment2"),
      clientFrame(0, "fragment3", { fin: false }),
      clientFrame(TEXT, "fragment4"),
    ]));
    await expectFrame(c, TEXT, enc("fragment1fragment2"));
    await expectFailure(c, 1002);
  });

  for (const fin of [false, true]) {
    test(`5.${fin ? 17 : 16} continuation (FIN=${fin}) first, then text, fails with 1002`, async () => {
      const c = await client();
      c.write(Buffer.concat([
        clientFrame(0, "fragment1", { fin }),
        clientFrame(TEXT, "fragment2", { fin: false }),
        clientFrame(0, "fragment3"),
      ]));
      await expectFailure(c, 1002);
    });
  }

  test("5.18 text in two fragments both with the text opcode fails with 1002", async () => {
    const c = await client();
    c.write(
      Buffer.concat([
        clientFrame(TEXT, "fragment1", { fin: false }),
        clientFrame(TEXT, "fragment2"),
      ]),
    );
    await expectFailure(c, 1002);
  });

  for (const bytewise of [false, true]) {
    test(`5.${bytewise ? 20 : 19} text in five fragments with pings and pauses${bytewise ? ", one byte at a time" : ""}`, async () => {
      const c = await client();
      const parts = ["fragment1", "fragment2", "fragment3", "fragment4", "fragment5"];
      const frames: Uint8Array[] = [];
      parts.forEach((p, i) => {
        frames.push(clientFrame(i === 0 ? TEXT : 0, p, { fin: i === parts.length - 1 }));
        if (i === 1 || i === 3) frames.push(clientFrame(PING, `pongme ${i}!`));
      });
      for (const f of frames) {
        if (bytewise) await c.writeChunked(f, 1);
        else c.write(f);
        await sleep(5);
      }
      await expectFrame(c, PONG, enc("pongme 1!"));
      await expectFrame(c, PONG, enc("pongme 3!"));
      await expectFrame(c, TEXT, enc(parts.join("")));
      await closeNormally(c);
    });
  }
});

async function send(
  c: RawClient,
  frames: Uint8Array[],
  mode: "together" | "frame by frame" | "one byte at a time",
) {
  if (mode === "together") c.write(Buffer.concat(frames));
  else {
    for (const f of frames) {
      if (mode === "one byte at a time") await c.writeChunked(f, 1);
      else c.write(f);
      await sleep(2);
    }
  }
}

describe("Autobahn 6: UTF-8", () => {
  test("6.1 empty text fragments are echoed as one empty text", async () => {
    const c = await client();
    c.write(Buffer.concat([
      clientFrame(TEXT, "", { fin: false }),
      clientFrame(0, "", { fin: false }),
      clientFrame(0, ""),
    ]));
    await expectFrame(c, TEXT, new Uint8Array(0));
    c.write(
      Buffer.concat([
        clientFrame(TEXT, "", { fin: false }),
        clientFrame(0, "middle", { fin: false }),
        clientFrame(0, ""),
      ]),
    );
    await expectFrame(c, TEXT, enc("middle"));
    await closeNormally(c);
  });

  test("6.2 valid UTF-8 split into fragments at every byte position is echoed", async () => {
    const c = await client();
    const bytes = enc("Hello-µ@ßöäüàá-UTF-8!!");
    for (let cut = 1; cut < bytes.length; cut++) {
      c.write(
        Buffer.concat([
          clientFrame(TEXT, bytes.subarray(0, cut), { fin: false }),
          clientFrame(0, bytes.subarray(cut)),
        ]),
      );
      await expectFrame(c, TEXT, bytes);
    }
    const frames = Array.from(
      bytes,
      (b, i) => clientFrame(i === 0 ? TEXT : 0, Uint8Array.of(b), { fin: i === bytes.length - 1 }),
    );
    c.write(Buffer.concat(frames));
    await expectFrame(c, TEXT, bytes);
    await closeNormally(c);
  });

  test("a text message starting with U+FEFF keeps it: whole, fragmented, split across reads", async () => {
    const c = await client();
    const bytes = enc("\uFEFFbom first");
    c.write(clientFrame(TEXT, bytes));
    await expectFrame(c, TEXT, bytes);
    c.write(
      Buffer.concat([
        clientFrame(TEXT, bytes.subarray(0, 2), { fin: false }),
        clientFrame(0, bytes.subarray(2)),
      ]),
    );
    await expectFrame(c, TEXT, bytes);
    const frame = clientFrame(TEXT, bytes);
    c.write(frame.subarray(0, 4));
    await sleep(20);
    c.write(frame.subarray(4));
    await expectFrame(c, TEXT, bytes);
    await closeNormally(c);
  });

  // From Autobahn 6.3 and 6.5-6.23: each sent as one frame and as one fragment per byte.
  const valid = [
    "cebae1bdb9cf83cebcceb5",
    "f0908080",
    "f48fbfbf",
    "c280",
    "e0a080",
    "7f",
    "dfbf",
    "efbfbf",
    "ed9fbf",
    "ee8080",
    "efbfbd",
    "efbfbe",
    "efbfbf",
    "f4808080",
  ];
  const invalid = [
    "cebae1bdb9cf83cebcceb5eda080656469746564",
    "f8888080",
    "fc84808080",
    "80",
    "bf",
    "80bf80bf",
    "c020",
    "e08020",
    "f4908080",
    "fe",
    "ff",
    "fefeffff",
    "c0af",
    "e080af",
    "f08080af",
    "c1bf",
    "e09fbf",
    "f08fbfbf",
    "eda080",
    "edadbf",
    "edaeb0edbfbf",
    "edbfbf",
    "c2",
    "e282",
    "f09f98",
    "f5808080",
  ];
  for (
    const v of [
      ...valid.map((h) => [h, true] as const),
      ...invalid.map((h) => [h, false] as const),
    ]
  ) {
    const [hexText, ok] = v;
    for (const fragmented of [false, true]) {
      test(`6.x ${ok ? "valid" : "invalid"} ${hexText}${fragmented ? " in one-byte fragments" : ""} is ${ok ? "echoed" : "refused with 1007"}`, async () => {
        const c = await client();
        const bytes = Buffer.from(hexText, "hex");
        const frames = fragmented
          ? Array.from(
            bytes,
            (b, i) =>
              clientFrame(i === 0 ? TEXT : 0, Uint8Array.of(b), { fin: i === bytes.length - 1 }),
          )
          : [clientFrame(TEXT, bytes)];
        c.write(Buffer.concat(frames));
        if (ok) {
          await expectFrame(c, TEXT, bytes);
          await closeNormally(c);
        } else await expectFailure(c, 1007);
      });
    }
  }

  test("6.4.1/6.4.2 invalid UTF-8 in the second of three fragments fails before the third is sent", async () => {
    for (const second of ["f4908080", "f490"]) {
      const c = await client();
      c.write(Buffer.concat([
        clientFrame(TEXT, Buffer.from("cebae1bdb9cf83cebcceb5", "hex"), { fin: false }),
        clientFrame(0, Buffer.from(second, "hex"), { fin: false }),
      ]));
      await expectFailure(c, 1007);
    }
  });

  test("6.4.3/6.4.4 invalid UTF-8 in the middle of one frame sent in chunks fails before the frame ends", async () => {
    for (const bad of ["f4908080", "f490"]) {
      const c = await client();
      const payload = Buffer.from(`cebae1bdb9cf83cebcceb5${bad}656469746564`, "hex");
      const frame = clientFrame(TEXT, payload);
      const headerAndGood = 6 + 11;
      c.write(frame.subarray(0, headerAndGood));
      await sleep(10);
      c.write(frame.subarray(headerAndGood, headerAndGood + bad.length / 2));
      await expectFailure(c, 1007);
    }
  });
});

describe("Autobahn 7: closing", () => {
  test("7.1.1 a message then a close: echo, then the close echoed and the socket ended", async () => {
    const c = await client();
    c.send(TEXT, "Hello World!");
    await expectFrame(c, TEXT, enc("Hello World!"));
    await closeNormally(c);
    assert.deepEqual(await server.sides.at(-1)!.closed, [1000, ""]);
  });

  test("7.1.2-7.1.4 after a close frame, a second close, a ping and a text are ignored", async () => {
    const c = await client();
    c.write(Buffer.concat([
      clientFrame(CLOSE, closePayload(1000)),
      clientFrame(CLOSE, closePayload(1001)),
      clientFrame(PING, "ping"),
      clientFrame(TEXT, "text"),
    ]));
    await c.expectClose(1000);
    assert.equal(await c.closedWithin(3000), true);
    assert.equal(c.pending, 0, "nothing after the close frame");
  });

  test("7.1.5 a fragment, a close, then the last fragment: only the close is answered", async () => {
    const c = await client();
    c.write(Buffer.concat([
      clientFrame(TEXT, "fragment1", { fin: false }),
      clientFrame(CLOSE, closePayload(1000)),
      clientFrame(0, "fragment2"),
    ]));
    await c.expectClose(1000);
    assert.equal(await c.closedWithin(3000), true);
  });

  test("7.1.6 a large message, a close and a ping: the echo then the close", async () => {
    const c = await client();
    const payload = new Uint8Array(256 * 1024).fill(0x61);
    c.write(
      Buffer.concat([
        clientFrame(TEXT, payload),
        clientFrame(CLOSE, closePayload(1000)),
        clientFrame(PING, "ping"),
      ]),
    );
    await expectFrame(c, TEXT, payload);
    await c.expectClose(1000);
    assert.equal(await c.closedWithin(3000), true);
  });

  test("7.3.1 an empty close is answered with an empty close and reported as 1005", async () => {
    const c = await client();
    c.send(CLOSE);
    const f = await c.read();
    assert.equal(f.opcode, CLOSE);
    assert.equal(f.payload.length, 0);
    assert.equal(await c.closedWithin(3000), true);
    assert.deepEqual(await server.sides.at(-1)!.closed, [1005, ""]);
  });

  test("7.3.2 a 1-byte close payload fails with 1002", async () => {
    const c = await client();
    c.send(CLOSE, Uint8Array.of(0x03));
    await expectFailure(c, 1002);
  });

  test("7.3.3-7.3.5 a close with a code and a reason up to 123 bytes is echoed with the code", async () => {
    for (const reason of ["", "Hello World!", "*".repeat(123)]) {
      const c = await client();
      c.send(CLOSE, closePayload(1000, reason));
      await c.expectClose(1000);
      assert.equal(await c.closedWithin(3000), true);
      assert.deepEqual(await server.sides.at(-1)!.closed, [1000, reason]);
    }
  });

  test("7.3.6 a close with a 124-byte reason is too long for a control frame: 1002", async () => {
    const c = await client();
    c.send(CLOSE, closePayload(1000, "*".repeat(124)));
    await expectFailure(c, 1002);
  });

  test("7.5.1 a close reason with invalid UTF-8 fails with 1007", async () => {
    const c = await client();
    c.send(
      CLOSE,
      Buffer.concat([
        closePayload(1000),
        Buffer.from("cebae1bdb9cf83cebcceb5eda080656469746564", "hex"),
      ]),
    );
    await expectFailure(c, 1007);
  });

  for (
    const code of [
      1000,
      1001,
      1002,
      1003,
      1007,
      1008,
      1009,
      1010,
      1011,
      1012,
      1013,
      1014,
      3000,
      3999,
      4000,
      4999,
    ]
  ) {
    test(`7.7 close code ${code} is echoed`, async () => {
      const c = await client();
      c.send(CLOSE, closePayload(code));
      await c.expectClose(code);
      assert.equal(await c.closedWithin(3000), true);
    });
  }

  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    test(`7.9/7.13 close code ${code} is refused with 1002`, async () => {
      const c = await client();
      c.send(CLOSE, closePayload(code));
      await expectFailure(c, 1002);
    });
  }
});

describe("Autobahn 9: limits and performance", () => {
  const sizes = [64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20];
  for (const n of sizes) {
    for (const opcode of [TEXT, BINARY]) {
      test(`9.${opcode === TEXT ? 1 : 2} ${opcode === TEXT ? "text" : "binary"} message of ${n >> 10} KiB is echoed`, async () => {
        const c = await client(big);
        const payload = new Uint8Array(n).fill(opcode === TEXT ? 0x2a : 0xfe);
        c.write(clientFrame(opcode, payload));
        await expectFrame(c, opcode, payload, 30000);
        await closeNormally(c);
      });
    }
  }

  for (const opcode of [TEXT, BINARY]) {
    test(`9.${opcode === TEXT ? 3 : 4} a 4 MiB ${opcode === TEXT ? "text" : "binary"} message in fragments of 64 B to 4 MiB is echoed`, async () => {
      const c = await client(big);
      const payload = new Uint8Array(4 << 20).map((_, i) => opcode === TEXT ? 0x61 + (i % 26) : i);
      for (
        const frag of [64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20]
      ) {
        const frames: Uint8Array[] = [];
        for (let i = 0; i < payload.length; i += frag) {
          frames.push(
            clientFrame(i === 0 ? opcode : 0, payload.subarray(i, i + frag), {
              fin: i + frag >= payload.length,
            }),
          );
        }
        c.write(Buffer.concat(frames));
        await expectFrame(c, opcode, payload, 30000);
      }
      await closeNormally(c);
    });

    test(`9.${opcode === TEXT ? 3 : 4} with maxMsgSize exactly 4 MiB, 65,536 fragments of 64 B pass and one more fails with 1008`, async () => {
      const exact = await startEchoServer({ maxMsgSize: 4 << 20 });
      try {
        const payload = new Uint8Array(4 << 20).map((_, i) =>
          opcode === TEXT ? 0x61 + (i % 26) : i
        );
        const fragments = (bytes: Uint8Array, size: number) => {
          const frames: Uint8Array[] = [];
          for (let i = 0; i < bytes.length; i += size) {
            const last = i + size >= bytes.length;
            frames.push(
              clientFrame(i === 0 ? opcode : 0, bytes.subarray(i, i + size), { fin: last }),
            );
          }
          return Buffer.concat(frames);
        };
        const c = await client(exact);
        c.write(fragments(payload, 64));
        await expectFrame(c, opcode, payload, 30000);
        await closeNormally(c);
        // 65,537 frames: the same message with one empty fragment in front.
        const d = await client(exact);
        d.write(clientFrame(opcode, new Uint8Array(0), { fin: false }));
        const rest = fragments(payload, 64);
        rest[0] = 0x00; // the first of these frames now continues the message
        d.write(rest);
        await expectFailure(d, 1008);
      } finally {
        await exact.close();
      }
    });

    test(`9.${opcode === TEXT ? 5 : 6} a 1 MiB ${opcode === TEXT ? "text" : "binary"} message sent in chunks of 64 B to 4 KiB is echoed`, async () => {
      const c = await client(big);
      const payload = new Uint8Array(1 << 20).fill(opcode === TEXT ? 0x2a : 0xfe);
      for (const chunk of [64, 512, 4096]) {
        const frame = clientFrame(opcode, payload);
        for (let i = 0; i < frame.length; i += chunk) c.write(frame.subarray(i, i + chunk));
        await expectFrame(c, opcode, payload, 30000);
      }
      await closeNormally(c);
    });
  }

  for (const opcode of [TEXT, BINARY]) {
    test(`9.${opcode === TEXT ? 7 : 8} 1000 ${opcode === TEXT ? "text" : "binary"} messages of growing size are echoed in order`, async () => {
      const c = await client(big);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 1000; i++) {
        frames.push(clientFrame(opcode, new Uint8Array(i * 16).fill(0x30 + (i % 10))));
      }
      c.write(Buffer.concat(frames));
      for (let i = 0; i < 1000; i++) {
        await expectFrame(c, opcode, new Uint8Array(i * 16).fill(0x30 + (i % 10)));
      }
      await closeNormally(c);
    });
  }

  test("a message over maxMsgSize fails with 1009 before its payload is sent", async () => {
    const c = await client();
    const frame = clientFrame(BINARY, new Uint8Array((1 << 20) + 1));
    c.write(frame.subarray(0, 14));
    await expectFailure(c, 1009);
    const [code] = await server.sides.at(-1)!.closed;
    assert.equal(code, 1009);
  });

  test("fragments summing over maxMsgSize fail with 1009", async () => {
    const c = await client();
    c.write(Buffer.concat([
      clientFrame(BINARY, new Uint8Array(600 << 10), { fin: false }),
      clientFrame(0, new Uint8Array(600 << 10)),
    ]));
    await expectFailure(c, 1009);
  });

  test("a change of maxMsgSize applies to the next message", async () => {
    const c = await client();
    server.limits.maxMsgSize = 10;
    try {
      c.send(BINARY, new Uint8Array(10));
      await expectFrame(c, BINARY, new Uint8Array(10));
      c.send(BINARY, new Uint8Array(11));
      await expectFailure(c, 1009);
    } finally {
      server.limits.maxMsgSize = 1 << 20;
    }
  });
});
