/**
 * A chat room with a browser page, on any runtime:
 *
 *   npm start (Node.js)   npm run start:deno   npm run start:bun
 *
 * `GET /` serves the page, `GET /ws?name=alice` joins the room. Every message is sent to
 * everyone as JSON `{type: "message", from, text}`; joins and leaves as
 * `{type: "join" | "leave", name}`. The client sends `{"text": "..."}`.
 *
 * PORT (default 8080; 0 picks a free port) and HOST (default 127.0.0.1, this machine only;
 * 0.0.0.0 for every interface) come from the environment.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { Websocket } from "../../mod.ts";
import { serve } from "../../src/serve.ts";

type Member = { readonly name: string };

/** A user name: 1 to 32 letters, digits, `_` or `-` (also safe in a cookie and a URL). */
const NAME = /^[A-Za-z0-9_-]{1,32}$/;
/** Longest chat line, in UTF-16 code units (what the page's `maxlength` counts). */
const MAX_TEXT = 1000;

// Chat lines are short: anything much bigger is refused by wsx before it reaches us (1009).
Websocket.maxMsgSize = 16 * 1024;
// Chat events are repetitive JSON: permessage-deflate shrinks them (where the runtime can).
Websocket.perMessageDeflate = true;

function env(name: string): string | undefined {
  const g = globalThis as {
    Deno?: { env: { get(n: string): string | undefined } };
    process?: { env: Record<string, string | undefined> };
  };
  return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
}

// Read once at start; node:fs/promises works on Node.js, Deno and Bun alike.
const page = await readFile(new URL("./index.html", import.meta.url), "utf8");
const script = await readFile(new URL("./client.js", import.meta.url), "utf8");

const staticHeaders = {
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  // The page loads nothing but its own script and talks only to its own server.
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/** Sends one event to every open connection. */
function broadcast(event: Record<string, string>): void {
  Websocket.each(null, (ws, json) => ws.write(json), JSON.stringify(event));
}

/** The text of a client message, or a close code and reason when it breaks the rules. */
function parseText(data: string | Uint8Array, isText: boolean): string | [number, string] {
  if (!isText) return [1003, "Binary messages are not supported: send JSON text"];
  let message: unknown;
  try {
    message = JSON.parse(data as string);
  } catch {
    return [1007, 'Invalid message: expected JSON such as {"text": "hi"}'];
  }
  const text = (message as { text?: unknown } | null)?.text;
  if (typeof text !== "string") return [1008, 'Invalid message: expected a string "text"'];
  if (text.length > MAX_TEXT) return [1009, `Message too long: at most ${MAX_TEXT} characters`];
  return text;
}

function join(request: Request, url: URL): Response {
  const name = url.searchParams.get("name") ?? "";
  if (!NAME.test(name)) {
    return new Response("Invalid name: use 1 to 32 letters, digits, '_' or '-'\n", {
      status: 400,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return Websocket.upgrade<Member>(request, {
    udata: { name },
    cookies: [{ name: "chat_name", value: encodeURIComponent(name), path: "/", sameSite: "Lax" }],
    onOpen: (ws) => broadcast({ type: "join", name: ws.getUdata().name }),
    onMessage(ws, data, isText) {
      const text = parseText(data, isText);
      if (Array.isArray(text)) return ws.close(...text);
      if (text.trim() === "") return;
      broadcast({ type: "message", from: ws.getUdata().name, text });
    },
    onClose: (ws) => broadcast({ type: "leave", name: ws.getUdata().name }),
  });
}

function onRequest(request: Request): Response {
  const url = new URL(request.url);
  if (url.pathname === "/ws") return join(request, url);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (url.pathname === "/") {
    return new Response(page, {
      headers: { ...staticHeaders, "content-type": "text/html; charset=utf-8" },
    });
  }
  if (url.pathname === "/client.js") {
    return new Response(script, {
      headers: { ...staticHeaders, "content-type": "text/javascript; charset=utf-8" },
    });
  }
  return new Response("Not found\n", { status: 404 });
}

const server = await serve({
  port: Number(env("PORT") || 8080),
  hostname: env("HOST") || "127.0.0.1",
  shutdownOnSignals: true,
  onRequest,
});
console.log(`Chat on http://localhost:${server.port}/`);
