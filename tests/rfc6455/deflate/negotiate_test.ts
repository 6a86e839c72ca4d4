import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_DEFLATE, resolveDeflate } from "../../../src/core/deflate_options.ts";
import { negotiateDeflate, parseExtensions } from "../../../src/rfc6455/deflate/negotiate.ts";
import { configure, resetSettings, settings } from "../../../src/core/settings.ts";
import { planUpgrade } from "../../../src/core/upgrade.ts";
import { Websocket } from "../../../src/core/websocket.ts";

const BOTH = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

// [offer header, expected answer header or null for "no extension"]
const DEFAULT_CASES: Array<[string | null, string | null]> = [
  [null, null],
  ["", null],
  ["x-webkit-deflate-frame", null],
  // A browser's and ws's default offer.
  ["permessage-deflate; client_max_window_bits", BOTH],
  ["permessage-deflate", BOTH],
  ["Permessage-Deflate; Client_Max_Window_Bits", BOTH],
  ["permessage-deflate; server_no_context_takeover", BOTH],
  ["permessage-deflate; client_no_context_takeover", BOTH],
  // server_max_window_bits offered: honoured (echoed) or declined.
  ["permessage-deflate; server_max_window_bits=10", `${BOTH}; server_max_window_bits=10`],
  ["permessage-deflate; server_max_window_bits=15", `${BOTH}; server_max_window_bits=15`],
  ['permessage-deflate; server_max_window_bits="12"', `${BOTH}; server_max_window_bits=12`],
  ["permessage-deflate; server_max_window_bits=9", `${BOTH}; server_max_window_bits=9`],
  // zlib's raw deflate has no 8-bit window: declined.
  ["permessage-deflate; server_max_window_bits=8", null],
  ["permessage-deflate; server_max_window_bits", null],
  ["permessage-deflate; server_max_window_bits=010", null],
  ["permessage-deflate; server_max_window_bits=16", null],
  ["permessage-deflate; server_max_window_bits=7", null],
  ['permessage-deflate; server_max_window_bits="1 0"', null],
  // client_max_window_bits with a value: answered with a value no larger.
  ["permessage-deflate; client_max_window_bits=10", `${BOTH}; client_max_window_bits=10`],
  ['permessage-deflate; client_max_window_bits="8"', `${BOTH}; client_max_window_bits=8`],
  ["permessage-deflate; client_max_window_bits=08", null],
  ["permessage-deflate; client_max_window_bits=0", null],
  // Values where none belong, unknown and repeated parameters decline that offer only.
  ["permessage-deflate; server_no_context_takeover=1", null],
  ["permessage-deflate; client_no_context_takeover=true", null],
  ["permessage-deflate; foo", null],
  ["permessage-deflate; client_max_window_bits; client_max_window_bits", null],
  ["permessage-deflate; server_no_context_takeover; server_no_context_takeover", null],
  // Several offers, one or several header lines (joined with ", "): the first acceptable.
  [
    "permessage-deflate; foo, permessage-deflate; server_max_window_bits=11",
    `${BOTH}; server_max_window_bits=11`,
  ],
  [
    "permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits",
    BOTH,
  ],
  [
    "permessage-deflate; server_max_window_bits=10, permessage-deflate",
    `${BOTH}; server_max_window_bits=10`,
  ],
  ["x-foo; a=1, permessage-deflate", BOTH],
  ["x-foo, , permessage-deflate", BOTH],
  // A malformed header: no extension, the handshake goes on.
  ["permessage-deflate; =1", null],
  ["permessage-deflate;; client_max_window_bits", null],
  ['permessage-deflate; client_max_window_bits="10', null],
  ["permessage-deflate client_max_window_bits", null],
];

// The server narrows: smaller server window, and client window asked of clients that offer.
const NARROW = resolveDeflate({ serverMaxWindowBits: 10, clientMaxWindowBits: 9 })!;
const NARROW_CASES: Array<[string, string | null]> = [
  ["permessage-deflate", `${BOTH}; server_max_window_bits=10`],
  [
    "permessage-deflate; client_max_window_bits",
    `${BOTH}; server_max_window_bits=10; client_max_window_bits=9`,
  ],
  [
    "permessage-deflate; client_max_window_bits=8",
    `${BOTH}; server_max_window_bits=10; client_max_window_bits=8`,
  ],
  [
    "permessage-deflate; server_max_window_bits=12",
    `${BOTH}; server_max_window_bits=10`,
  ],
  ["permessage-deflate; server_max_window_bits=9", `${BOTH}; server_max_window_bits=9`],
];

describe("permessage-deflate negotiation (RFC 7692 section 7.1)", () => {
  for (const [offer, expected] of DEFAULT_CASES) {
    test(`default options: ${JSON.stringify(offer)}`, () => {
      assert.equal(negotiateDeflate(offer, DEFAULT_DEFLATE)?.header ?? null, expected);
    });
  }
  for (const [offer, expected] of NARROW_CASES) {
    test(`narrowed options: ${JSON.stringify(offer)}`, () => {
      assert.equal(negotiateDeflate(offer, NARROW)?.header ?? null, expected);
    });
  }

  test("the agreed parameters follow the answer", () => {
    const a = negotiateDeflate(
      "permessage-deflate; server_max_window_bits=11; client_max_window_bits=12",
      DEFAULT_DEFLATE,
    );
    assert.deepEqual(a?.params, {
      serverMaxWindowBits: 11,
      clientMaxWindowBits: 12,
      serverContextTakeover: false,
    });
  });

  test("server context takeover when configured and not forbidden", () => {
    const config = resolveDeflate({ serverContextTakeover: true })!;
    assert.equal(
      negotiateDeflate("permessage-deflate; client_max_window_bits", config)?.header,
      "permessage-deflate; client_no_context_takeover",
    );
    assert.equal(
      negotiateDeflate("permessage-deflate; server_no_context_takeover", config)?.header,
      BOTH,
    );
  });

  test("at most one answer, whatever the number of offers", () => {
    const a = negotiateDeflate("permessage-deflate, permessage-deflate", DEFAULT_DEFLATE);
    assert.equal(a?.header.split(",").length, 1);
  });

  test("parses quoted values and keeps parameter order", () => {
    assert.deepEqual(parseExtensions('a; x="1"; y, b'), [
      { name: "a", params: [["x", "1"], ["y", null]] },
      { name: "b", params: [] },
    ]);
  });
});

describe("perMessageDeflate options", () => {
  test("off, on, options", () => {
    assert.equal(resolveDeflate(false), null);
    assert.equal(resolveDeflate(true), DEFAULT_DEFLATE);
    assert.equal(resolveDeflate({ threshold: 0 })?.threshold, 0);
  });
  test("bad values name the option", () => {
    assert.throws(() => resolveDeflate("yes"), TypeError);
    assert.throws(() => resolveDeflate({ level: 10 }), /perMessageDeflate\.level.*0 to 9/);
    assert.throws(() => resolveDeflate({ serverMaxWindowBits: 8 }), RangeError);
    assert.throws(() => resolveDeflate({ clientMaxWindowBits: "9" }), TypeError);
    assert.throws(
      () => resolveDeflate({ windowBits: 9 }),
      /Unknown option "perMessageDeflate.windowBits"/,
    );
  });
});

describe("the perMessageDeflate setting and upgrade option", () => {
  test("configure and Websocket validate, naming the option, and change nothing on error", () => {
    try {
      assert.throws(
        () => configure({ perMessageDeflate: { level: 10 } }),
        (e: unknown) => e instanceof RangeError && /perMessageDeflate\.level/.test(e.message),
      );
      assert.throws(
        () => {
          (Websocket as { perMessageDeflate: unknown }).perMessageDeflate = "yes";
        },
        (e: unknown) => e instanceof TypeError && /"perMessageDeflate"/.test(e.message),
      );
      assert.equal(settings.perMessageDeflate, false);
      Websocket.perMessageDeflate = { threshold: 10 };
      assert.deepEqual(settings.perMessageDeflate, { threshold: 10 });
    } finally {
      resetSettings();
    }
    assert.equal(settings.perMessageDeflate, false);
  });

  test("upgrade() refuses a bad per-upgrade value with a TypeError naming it", () => {
    const request = new Request("http://x/", {
      headers: {
        upgrade: "websocket",
        connection: "upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
    assert.throws(
      () => planUpgrade(request, { perMessageDeflate: { serverMaxWindowBits: 16 } }),
      /perMessageDeflate\.serverMaxWindowBits/,
    );
    assert.equal(planUpgrade(request, { perMessageDeflate: false }).perMessageDeflate, null);
    assert.equal(planUpgrade(request, {}).perMessageDeflate, undefined);
  });
});
