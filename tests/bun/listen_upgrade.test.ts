/**
 * The handshake of wsx's engine on `Bun.listen` (`src/adapters/bun_listen.ts`, `bun test`):
 * what `upgrade()` checks and answers there, seen by raw TCP clients and Bun's own
 * WebSocket client against a real server. The binding takes a shorter path for heads its
 * parser already checked; these pin that it answers as the full checks do.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { Websocket } from "../../mod.ts";
import type { WsxServer } from "../../src/core/server.ts";
import { serveListen } from "../../src/adapters/bun_listen.ts";

let server: WsxServer;
const seen: { path: string; key: string | null; custom: string | null }[] = [];

beforeAll(async () => {
  server = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    allowedOrigins: ["http://good.example"],
    onRequest: (request) => {
      const path = new URL(request.url).pathname;
      const echo = {
        onMessage: (ws: { write(d: unknown, t: boolean): unknown }, d: unknown, t: boolean) =>
          ws.write(d, t),
      };
      if (path === "/headers") {
        return Websocket.upgrade(request, {
          ...echo,
          headers: { "X-Served-By": "listen" },
          cookies: [{ name: "session", value: "abc" }],
        });
      }
      if (path === "/deflate") {
        return Websocket.upgrade(request, { ...echo, perMessageDeflate: true });
      }
      if (path === "/chat") return Websocket.upgrade(request, { ...echo, protocol: "chat" });
      if (path === "/read") {
        seen.push({
          path,
          key: request.headers.get("sec-websocket-key"),
          custom: request.headers.get("x-custom"),
        });
      }
      // The handler changes the request's headers: upgrade() must see the change.
      if (path === "/drop-key") request.headers.delete("sec-websocket-key");
      if (path === "/later") return Bun.sleep(5).then(() => Websocket.upgrade(request, echo));
      return Websocket.upgrade(request, echo);
    },
  });
});

afterAll(() => server.shutdown({ timeoutMs: 1000 }));

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

// An upgrade head with the bench's fields, `extra` lines added, some replaced.
function head(path: string, fields: Record<string, string | null> = {}): string {
  const all: Record<string, string | null> = {
    Host: "127.0.0.1",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": KEY,
    "Sec-WebSocket-Version": "13",
    ...fields,
  };
  const lines = Object.entries(all).filter(([, v]) => v !== null).map(([n, v]) => `${n}: ${v}\r\n`);
  return `GET ${path} HTTP/1.1\r\n${lines.join("")}\r\n`;
}

// Sends a head on a raw TCP connection; resolves with the response, as text: a 101's head,
// or all of a refusal (the server closes after it).
function answer(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const socket = connect(server.port, "127.0.0.1", () => socket.write(text));
    const timer = setTimeout(() => socket.destroy(), 1500);
    socket.on("data", (chunk) => {
      got += chunk.toString("latin1");
      if (got.startsWith("HTTP/1.1 101 ") && got.includes("\r\n\r\n")) socket.destroy();
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got.startsWith("HTTP/1.1 101 ") ? got.slice(0, got.indexOf("\r\n\r\n") + 2) : got);
    });
    socket.on("error", reject);
  });
}

test("a valid head gets the 101 with the accept value", async () => {
  const reply = await answer(head("/"));
  expect(reply).toStartWith("HTTP/1.1 101 Switching Protocols\r\n");
  expect(reply).toContain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
});

test("an Upgrade other than websocket gets a 400 naming the header", async () => {
  const reply = await answer(head("/", { Upgrade: "h2c" }));
  expect(reply).toStartWith("HTTP/1.1 400 ");
  expect(reply).toContain("Invalid Upgrade header");
});

test("a key that is not 16 bytes in base64 gets a 400", async () => {
  expect(await answer(head("/", { "Sec-WebSocket-Key": "short==" }))).toStartWith("HTTP/1.1 400 ");
  expect(await answer(head("/", { "Sec-WebSocket-Key": null }))).toStartWith("HTTP/1.1 400 ");
});

test("a version other than 13 gets a 426 with Sec-WebSocket-Version: 13", async () => {
  for (const version of ["12", null]) {
    const reply = await answer(head("/", { "Sec-WebSocket-Version": version }));
    expect(reply).toStartWith("HTTP/1.1 426 ");
    expect(reply.toLowerCase()).toContain("sec-websocket-version: 13\r\n");
  }
});

test("offered protocols that are not tokens get a 400", async () => {
  const reply = await answer(head("/", { "Sec-WebSocket-Protocol": "a b" }));
  expect(reply).toStartWith("HTTP/1.1 400 ");
});

test("a key sent twice gets a 400", async () => {
  const text = head("/").replace("\r\n\r\n", `\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`);
  expect(await answer(text)).toStartWith("HTTP/1.1 400 ");
});

test("allowedOrigins answers 403 to another origin and lets the allowed one in", async () => {
  expect(await answer(head("/", { Origin: "http://evil.example" }))).toStartWith("HTTP/1.1 403 ");
  expect(await answer(head("/", { Origin: "http://good.example" }))).toStartWith("HTTP/1.1 101 ");
});

test("headers and cookies of the upgrade go out on the 101", async () => {
  const reply = await answer(head("/headers"));
  expect(reply).toStartWith("HTTP/1.1 101 ");
  expect(reply).toContain("X-Served-By: listen\r\n");
  expect(reply).toMatch(/Set-Cookie: session=abc/i);
});

test("the chosen subprotocol is answered, and only one the client offered", async () => {
  const offered = await answer(head("/chat", { "Sec-WebSocket-Protocol": "x, chat" }));
  expect(offered).toContain("Sec-WebSocket-Protocol: chat\r\n");
  const other = await answer(head("/chat", { "Sec-WebSocket-Protocol": "x" }));
  expect(other).toStartWith("HTTP/1.1 101 ");
  expect(other).not.toContain("Sec-WebSocket-Protocol");
});

test("permessage-deflate is agreed when offered and off when not", async () => {
  const offered = await answer(
    head("/deflate", { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" }),
  );
  expect(offered).toMatch(/Sec-WebSocket-Extensions: permessage-deflate/i);
  expect(await answer(head("/deflate"))).not.toMatch(/Sec-WebSocket-Extensions/i);
});

test("a handler reads the request's headers, handshake fields and others alike", async () => {
  seen.length = 0;
  expect(await answer(head("/read", { "X-Custom": "a" }))).toStartWith("HTTP/1.1 101 ");
  expect(seen).toEqual([{ path: "/read", key: KEY, custom: "a" }]);
});

test("a handler that deletes the key from the request's headers gets the 400", async () => {
  expect(await answer(head("/drop-key"))).toStartWith("HTTP/1.1 400 ");
});

test("a handler that upgrades after an await gets the 101, and messages go through", async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/later`);
  const echoed = await new Promise((resolve, reject) => {
    ws.onopen = () => ws.send("late");
    ws.onmessage = (event) => resolve(event.data);
    ws.onerror = () => reject(new Error("client error"));
  });
  expect(echoed).toBe("late");
  ws.close();
});

test("late heads are cut with a 408 while a connection whose head came in time stays open", async () => {
  const own = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    handshakeTimeoutMs: 1000,
    onRequest: (request) =>
      Websocket.upgrade(request, { onMessage: (ws, data, isText) => ws.write(data, isText) }),
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${own.port}/`);
    await new Promise((resolve) => ws.onopen = resolve);
    // Three that never send a head, opened after the WebSocket: behind it in the queue.
    const silent = [1, 2, 3].map(() =>
      new Promise<string>((resolve, reject) => {
        let got = "";
        const socket = connect(own.port, "127.0.0.1");
        socket.on("data", (chunk) => got += chunk.toString("latin1"));
        socket.on("close", () => resolve(got));
        socket.on("error", reject);
      })
    );
    for (const reply of await Promise.all(silent)) expect(reply).toStartWith("HTTP/1.1 408 ");
    await Bun.sleep(300);
    const echoed = new Promise((resolve) => ws.onmessage = (event) => resolve(event.data));
    ws.send("still here");
    expect(await echoed).toBe("still here");
    ws.close();
  } finally {
    await own.shutdown({ timeoutMs: 500 });
  }
});

test(
  "thousands of handshakes in a row, past the JIT's tiers, each get their own answer",
  async () => {
    // A server's handshake path is compiled as it warms (and kept out of FTL on Bun.listen,
    // bun_listen_tiers.ts): valid and refused heads alike keep their answers throughout.
    const keys = Array.from({ length: 2400 }, (_, i) => btoa(`key ${String(i).padStart(12, "0")}`));
    for (let at = 0; at < keys.length; at += 48) {
      const batch = keys.slice(at, at + 48);
      const replies = await Promise.all(batch.map((key, i) =>
        // Every sixth head offers a protocol that is not a token: a 400.
        answer(
          head("/", {
            "Sec-WebSocket-Key": key,
            ...(i % 6 === 5 && { "Sec-WebSocket-Protocol": "a b" }),
          }),
        )
      ));
      replies.forEach((reply, i) => {
        if (i % 6 === 5) return expect(reply).toStartWith("HTTP/1.1 400 ");
        const accept = new Bun.CryptoHasher("sha1")
          .update(batch[i] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
        expect(reply).toStartWith("HTTP/1.1 101 ");
        expect(reply).toContain(`Sec-WebSocket-Accept: ${accept}\r\n`);
      });
    }
  },
  60_000,
);
test("a head sent with a FIN (half-close) still gets its 101 from a handler that awaits first", async () => {
  // The socket reads nothing more until the engine takes it: its FIN comes after the 101.
  const got = await new Promise<string>((resolve, reject) => {
    let text = "";
    const socket = connect(server.port, "127.0.0.1", () => socket.end(head("/later")));
    socket.on("data", (chunk) => text += chunk.toString("latin1"));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
  expect(got).toStartWith("HTTP/1.1 101 ");
});
