// The fast upgrade path's head parser (src/adapters/node_head_parser.ts): table tests,
// then a differential test against node:http itself, which must agree on every head the
// parser takes.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { parseUpgradeHead } from "../../src/adapters/node_head_parser.ts";
import { headersFrom, lazyHeaders } from "../../src/adapters/node_headers.ts";
import { prng } from "./_frames.ts";

const PLAIN = "GET /chat?room=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\n" +
  "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\n\r\n";

describe("parseUpgradeHead", () => {
  test("parseUpgradeHead takes a plain upgrade head with names as sent and trimmed values", () => {
    const head = parseUpgradeHead(PLAIN + "\x81\x85");
    assert.deepEqual(head, {
      method: "GET",
      target: "/chat?room=1",
      rawHeaders: [
        "Host",
        "example.com:8080",
        "Upgrade",
        "websocket",
        "Connection",
        "keep-alive, Upgrade",
        "Sec-WebSocket-Key",
        "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version",
        "13",
      ],
      length: PLAIN.length,
      fields: {
        upgrade: "websocket",
        connection: "keep-alive, Upgrade",
        key: "dGhlIHNhbXBsZSBub25jZQ==",
        version: "13",
        protocol: null,
        extensions: null,
      },
    });
    const spaced = parseUpgradeHead(
      "GET / HTTP/1.1\r\nupgrade:websocket \t\r\nCONNECTION: \tupgrade\r\nX-Empty:\r\n\r\n",
    );
    assert.deepEqual(spaced?.rawHeaders, [
      "upgrade",
      "websocket",
      "CONNECTION",
      "upgrade",
      "X-Empty",
      "",
    ]);
  });

  test("parseUpgradeHead leaves incomplete, non-upgrade and unusual heads to node:http", () => {
    const without = (name: string) => PLAIN.replace(new RegExp(`${name}: [^\\r]*\\r\\n`), "");
    const cases: Record<string, string> = {
      "incomplete": PLAIN.slice(0, -2),
      "no Upgrade field": without("Upgrade"),
      "no Connection field": without("Connection"),
      "Connection without the token": PLAIN.replace("keep-alive, Upgrade", "keep-alive, Upgrade2"),
      "POST": PLAIN.replace("GET", "POST"),
      "lower-case method": PLAIN.replace("GET", "get"),
      "HTTP/1.0": PLAIN.replace("HTTP/1.1", "HTTP/1.0"),
      "absolute-form target": PLAIN.replace("/chat?room=1", "http://x/chat"),
      "asterisk target": PLAIN.replace("/chat?room=1", "*"),
      "fragment": PLAIN.replace("/chat?room=1", "/chat#x"),
      "quote in the target": PLAIN.replace("/chat?room=1", '/ch"at'),
      "two spaces in the request line": PLAIN.replace("GET ", "GET  "),
      "leading blank line": "\r\n" + PLAIN,
      "space before the colon": PLAIN.replace("Host:", "Host :"),
      "obs-fold": PLAIN.replace("Upgrade\r\n", "Upgrade\r\n  , close\r\n"),
      "bare LF": PLAIN.replace("Host: example.com:8080\r\n", "Host: example.com:8080\n"),
      "bare CR": PLAIN.replace("websocket\r\n", "web\rsocket\r\n"),
      "NUL in a value": PLAIN.replace("websocket", "web\x00socket"),
      "obs-text in a value": PLAIN.replace("websocket", "websock\xe9t"),
      "empty name": PLAIN.replace("Host:", ":"),
      "Content-Length": PLAIN.replace("Host:", "Content-Length: 0\r\nHost:"),
      "Transfer-Encoding": PLAIN.replace("Host:", "transfer-encoding: chunked\r\nHost:"),
    };
    for (const [label, text] of Object.entries(cases)) {
      assert.equal(parseUpgradeHead(text), undefined, label);
    }
  });

  test("parseUpgradeHead stays within its byte and field limits", () => {
    const filler = (n: number) => PLAIN.replace("Host:", `X-Fill: ${"a".repeat(n)}\r\nHost:`);
    const fits = filler(8192 - PLAIN.length - 10);
    assert.equal(fits.length, 8192);
    assert.ok(parseUpgradeHead(fits));
    assert.equal(parseUpgradeHead(filler(8192 - PLAIN.length - 9)), undefined);
    assert.equal(parseUpgradeHead(PLAIN, PLAIN.length - 1), undefined);
    assert.ok(parseUpgradeHead(PLAIN, PLAIN.length, 5));
    assert.equal(parseUpgradeHead(PLAIN, PLAIN.length, 4), undefined);
    const many = PLAIN.replace("Host:", "X-A: 1\r\n".repeat(59) + "Host:");
    assert.ok(parseUpgradeHead(many));
    assert.equal(parseUpgradeHead(many.replace("Host:", "X-A: 1\r\nHost:")), undefined);
  });
});

// What node:http makes of a head: an upgrade (with what the parser must match), an
// ordinary request, or a client error.
type Verdict =
  | { kind: "upgrade"; method: string; url: string; rawHeaders: string[] }
  | { kind: "request" | "error" | "nothing" };

describe("parseUpgradeHead against node:http", () => {
  const server = createServer();
  const verdicts = new Map<string, (v: Verdict) => void>();
  let port = 0;
  const report = (socket: Socket, verdict: Verdict) => {
    const id = `${socket.remotePort}`;
    verdicts.get(id)?.(verdict);
    verdicts.delete(id);
    socket.destroy();
  };
  before(async () => {
    server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
      const { method = "", url = "", rawHeaders } = req;
      report(socket, { kind: "upgrade", method, url, rawHeaders });
    });
    server.on("request", (req: IncomingMessage) => report(req.socket, { kind: "request" }));
    server.on("clientError", (_e: Error, socket: Socket) => report(socket, { kind: "error" }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  function nodeVerdict(text: string): Promise<Verdict> {
    return new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        verdicts.set(`${socket.localPort}`, resolve);
        socket.write(Buffer.from(text, "latin1"));
        setTimeout(() => resolve({ kind: "nothing" }), 300).unref();
      });
      socket.on("error", () => {});
      socket.on("close", () => setTimeout(() => resolve({ kind: "nothing" }), 50));
    });
  }

  // Mutations of the plain head: whitespace, separators, control and non-ASCII bytes,
  // case changes, duplicated and dropped lines.
  const PIECES = [" ", "\t", ":", ",", ";", "\r", "\n", "\r\n", "\x00", "\x7f", "\xe9", "#", '"'];
  function mutate(random: () => number): string {
    let text = PLAIN.slice(0, -2);
    const edits = 1 + Math.floor(random() * 3);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(random() * text.length);
      const pick = random();
      if (pick < 0.5) {
        const piece = PIECES[Math.floor(random() * PIECES.length)];
        text = text.slice(0, at) + piece + text.slice(at);
      } else if (pick < 0.65) {
        text = text.slice(0, at) + text.slice(at + 1);
      } else if (pick < 0.8) {
        text = text.slice(0, at) + text.slice(at).replace(/[a-z]/, (c) => c.toUpperCase());
      } else {
        const lines = text.split("\r\n");
        const line = 1 + Math.floor(random() * (lines.length - 1));
        if (random() < 0.5) lines.splice(line, 0, lines[line]);
        else lines.splice(line, 1);
        text = lines.join("\r\n");
      }
    }
    return text + "\r\n";
  }

  test("every head the parser takes is an upgrade to node:http, with the same fields", async () => {
    const random = prng(6455);
    const heads = [PLAIN];
    for (let i = 0; i < 400; i++) heads.push(mutate(random));
    let taken = 0;
    for (const text of heads) {
      const head = parseUpgradeHead(text);
      if (head === undefined) continue;
      taken++;
      const verdict = await nodeVerdict(text);
      assert.deepEqual(verdict, {
        kind: "upgrade",
        method: head.method,
        url: head.target,
        rawHeaders: head.rawHeaders,
      }, JSON.stringify(text));
    }
    assert.ok(taken > 50, `only ${taken} heads taken`);
  });

  test("the fields picked out while parsing read as undici's Headers would", () => {
    const random = prng(1455);
    const heads = [PLAIN, PLAIN.replace("Upgrade\r\n", "Upgrade\r\nconnection: close\r\n")];
    for (let i = 0; i < 2000; i++) heads.push(mutate(random));
    const names = [
      "upgrade",
      "connection",
      "sec-websocket-key",
      "sec-websocket-version",
      "sec-websocket-protocol",
      "sec-websocket-extensions",
    ];
    let repeated = 0;
    for (const text of heads) {
      const head = parseUpgradeHead(text);
      if (head === undefined) continue;
      if (Object.values(head.fields).includes(undefined)) repeated++;
      const lazy = lazyHeaders(head.rawHeaders, head.fields);
      const full = headersFrom(head.rawHeaders);
      for (const name of names) assert.equal(lazy.get(name), full.get(name), JSON.stringify(text));
    }
    assert.ok(repeated > 5, `only ${repeated} heads with a repeated field`);
  });
});
