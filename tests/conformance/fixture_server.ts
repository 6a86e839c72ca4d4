/**
 * The server every conformance test talks to, the same file on Deno, Bun and Node. It
 * prints `READY {"port":N}` once listening and one `EVENT {...}` line for every server
 * callback of a connection opened with `?id=`, so the suite sees what the server saw.
 *
 * Paths: `/` Hello World; `/ws/echo`, `/ws/cmd`, `/ws/slow-open`, `/ws/close-in-open`,
 * `/ws/throw`, `/ws/headers`, `/ws/protocol`, `/ws/stream` upgrade; `/settings`, `/count`,
 * `/each`, `/stats`, `/memory`, `/lag`, `/shutdown` control the server. `WSX_TRANSPORT` picks the
 * transport; `WSX_FIXTURE_OWN` (JSON settings) starts a second server with those settings
 * of its own. `WSX_LISTEN=1` (Bun, with `WSX_TRANSPORT=engine`) calls `serveListen`, the
 * engine on `Bun.listen`, directly: what `serve()` runs there anyway; no suite of
 * `npm test` sets it.
 *
 * @module
 */

import {
  configure,
  count,
  each,
  type UpgradeSettings,
  Websocket,
  type WebSocketConnection,
} from "../../mod.ts";
import { broadcast, publish, setErrorReporter } from "../../mod.ts";
import { serve } from "../../src/serve.ts";
import { serveListen } from "../../src/adapters/bun_listen.ts";

type Udata = { id: string | null; tag: string };

const print = (line: string) => console.log(line);
const byId = new Map<string, WebSocketConnection<Udata>>();
if (!process?.env?.WSX_FIXTURE_DEBUG) setErrorReporter(() => {});
// Settings in force before the server starts (JSON), for cases that must hold from the start.
if (process?.env?.WSX_FIXTURE_SETTINGS) configure(JSON.parse(process.env.WSX_FIXTURE_SETTINGS));

function record(
  ws: WebSocketConnection<Udata>,
  type: string,
  extra: Record<string, unknown> = {},
): void {
  const id = ws.getUdata().id;
  if (id !== null) print(`EVENT ${JSON.stringify({ id, type, uuid: ws.getUuid(), ...extra })}`);
}

const recording: UpgradeSettings<Udata> = {
  onOpen(ws) {
    const id = ws.getUdata().id;
    if (id !== null) byId.set(id, ws);
    record(ws, "open", { timeout: ws.timeoutSeconds });
  },
  onShutdown(ws) {
    record(ws, "shutdown");
    ws.write("bye-before-shutdown");
  },
  onDrain(ws) {
    record(ws, "drain");
  },
  onClose(ws, code, reason) {
    const id = ws.getUdata().id;
    if (id !== null && byId.get(id) === ws) byId.delete(id);
    record(ws, "close", { code, reason, same: ws === handles.get(ws.getUuid()) });
    handles.delete(ws.getUuid());
  },
};

// The handle seen in onOpen, to check that every callback gets the same object.
const handles = new Map<number, WebSocketConnection<Udata>>();

function echo(ws: WebSocketConnection<Udata>, data: string | Uint8Array, isText: boolean): void {
  record(ws, "message", { isText, size: data.length, same: handles.get(ws.getUuid()) === ws });
  ws.write(data, isText);
}

function command(ws: WebSocketConnection<Udata>, data: string | Uint8Array): void {
  const [name, ...rest] = String(data).split(" ");
  const arg = rest.join(" ");
  switch (name) {
    case "uuid":
      ws.write(String(ws.getUuid()));
      break;
    case "udata":
      ws.write(ws.getUdata().tag);
      break;
    case "setudata":
      ws.write(`old:${ws.setUdata({ ...ws.getUdata(), tag: arg }).tag}`);
      break;
    case "server":
      ws.write(String(ws.getServer() !== undefined && ws.getServer() !== null));
      break;
    case "close": {
      const [code, ...reason] = rest;
      ws.close(Number(code), reason.join(" "));
      // Writes after close fail without throwing.
      record(ws, "write-after-close", { result: ws.write("late") });
      break;
    }
    case "bad-close":
      try {
        ws.close(Number(arg), "");
        ws.write("no-error");
      } catch (error) {
        ws.write(`${(error as Error).name}: ${(error as Error).message}`);
      }
      break;
    case "sub":
      ws.write(`sub:${ws.subscribe(arg)}`);
      break;
    case "unsub":
      ws.write(`unsub:${ws.unsubscribe(arg)}`);
      break;
    case "issub":
      ws.write(`issub:${ws.isSubscribed(arg)}`);
      break;
    case "pub": {
      const [topic, ...text] = rest;
      ws.publish(topic, text.join(" "));
      break;
    }
    case "pubx": {
      const [topic, ...text] = rest;
      ws.publish(topic, text.join(" "), true, { excludeSelf: true });
      break;
    }
    case "pubbin":
      // Every byte value, to show binary payloads pass intact.
      ws.publish(arg, Uint8Array.from({ length: 256 }, (_, i) => i));
      break;
    case "bcast":
      ws.write(`bcast:${broadcast(ws, `all:${arg}`)}`);
      break;
    case "rtt":
      ws.write(JSON.stringify({ rtt: ws.pingRoundTripMs ?? null, pongs: ws.capabilities.pongs }));
      break;
    case "lastheard":
      ws.write(String(ws.lastHeardAt));
      break;
    case "count":
      ws.write(String(count()));
      break;
    case "empty":
      // Empty messages are messages: each write reports "sent" like any other.
      record(ws, "empty-written", {
        results: [ws.write("", true), ws.write("", false), ws.write(new Uint8Array(0))],
      });
      break;
    case "burst": {
      // Numbered messages, written at once: none may be lost by a shutdown that follows.
      for (let i = 0; i < Number(arg); i++) ws.write(`m${i}`);
      record(ws, "burst-written");
      break;
    }
    case "flood":
      flood(ws, Number(arg));
      break;
    case "stream": {
      // Outbound traffic only: it must not count as a sign of life.
      const timer = setInterval(() => {
        if (ws.write("tick") === "closed") clearInterval(timer);
      }, 100);
      break;
    }
    case "shapes": {
      // Bytes in every shape the platform has: all arrive as their bytes. Another type
      // throws a TypeError.
      const bytes = new TextEncoder().encode("hi there");
      ws.write(bytes.slice(0, 2).buffer, true);
      ws.write(new DataView(bytes.buffer, 3, 5), false);
      ws.write(new Uint16Array([0x6968]), false);
      ws.write(Uint8Array.from({ length: 64 }, (_, i) => i).buffer, false);
      try {
        ws.write(42 as unknown as string);
        ws.write("no-error");
      } catch (error) {
        ws.write(`${(error as Error).name}: ${(error as Error).message}`);
      }
      break;
    }
    case "facil":
      // The seed's function forms on the global object.
      Websocket.write(
        ws,
        `facil:${Websocket.getUuid(ws) === ws.getUuid()}:${Websocket.getUdata(ws).tag}`,
        true,
      );
      break;
    default:
      ws.write(`unknown:${name}`);
  }
}

/** Writes 64 KiB chunks to a client that may not read, and records what write returned. */
function flood(ws: WebSocketConnection<Udata>, total: number): void {
  const chunk = new Uint8Array(65536);
  const results: Record<string, number> = {};
  let written = 0;
  let maxBuffered = 0;
  const step = () => {
    for (let i = 0; i < 16 && written < total; i++) {
      const result = ws.write(chunk, false);
      results[result] = (results[result] ?? 0) + 1;
      maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
      if (result === "closed") return record(ws, "flood-done", { results, maxBuffered });
      written += chunk.length;
    }
    if (written >= total) return record(ws, "flood-done", { results, maxBuffered });
    setTimeout(step, 5);
  };
  step();
}

function udataFor(url: URL): Udata {
  return { id: url.searchParams.get("id"), tag: url.searchParams.get("tag") ?? "" };
}

function withRecording(handlers: UpgradeSettings<Udata>): UpgradeSettings<Udata> {
  return {
    ...recording,
    ...handlers,
    onOpen(ws) {
      handles.set(ws.getUuid(), ws);
      recording.onOpen!(ws);
      return handlers.onOpen?.(ws);
    },
  };
}

const routes: Record<string, (url: URL) => UpgradeSettings<Udata>> = {
  "/ws/echo": (url) => withRecording({ udata: udataFor(url), onMessage: echo }),
  "/ws/cmd": (url) => withRecording({ udata: udataFor(url), onMessage: command }),
  "/ws/slow-open": (url) =>
    withRecording({
      udata: udataFor(url),
      async onOpen(ws) {
        ws.write("opening");
        await new Promise((resolve) => setTimeout(resolve, 300));
        record(ws, "open-done");
      },
      onMessage: echo,
    }),
  "/ws/close-in-open": (url) =>
    withRecording({
      udata: udataFor(url),
      onOpen(ws) {
        ws.close(4100, "closed in onOpen");
        // onClose must not have run yet: it never runs inside close().
        record(ws, "after-close-in-open");
      },
    }),
  "/ws/throw": (url) =>
    withRecording({
      udata: udataFor(url),
      onMessage() {
        throw new Error("handler bug");
      },
    }),
  "/ws/headers": (url) =>
    withRecording({
      udata: udataFor(url),
      headers: [["x-wsx-test", "yes"]],
      cookies: [{ name: "a", value: "1", httpOnly: true }, { name: "b", value: "2", path: "/" }],
      onMessage: echo,
    }),
  // Messages of 100 bytes or more (or of unknown size) as streams: answered with what
  // the stream gave, and whether the runtime streams at all.
  "/ws/stream": (url) =>
    withRecording({
      udata: udataFor(url),
      streamWhen: (info) => info.length >= 100 || !info.fin,
      async onStream(ws, stream, isText) {
        let size = 0, chunks = 0;
        try {
          for await (const chunk of stream) size += chunk.byteLength, chunks++;
        } catch (error) {
          return record(ws, "stream-error", { code: (error as { code?: string }).code });
        }
        const streaming = ws.capabilities.streaming;
        ws.write(JSON.stringify({ isText, size, chunks, streaming }));
      },
      onMessage: echo,
    }),
  "/ws/protocol": (url) =>
    withRecording({
      udata: udataFor(url),
      protocol: (offered) => offered.find((p) => p === "chat.v2"),
      onMessage: (ws) => ws.write(`protocol:${ws.protocol}`),
    }),
};

/**
 * Watches the event loop with a 2 ms timer (runtime-neutral: perf_hooks' monitor is not
 * on every runtime), from the first `/lag` call on. `maxMs` is the longest gap between
 * two ticks beyond 2 ms; `maxCpuMs` the most CPU time the process used within one gap,
 * which is what a blocking task costs even when the machine is busy with other
 * processes (a gap on a loaded machine is mostly time spent waiting for a core).
 */
const lag = {
  max: 0,
  maxCpu: 0,
  last: 0,
  lastCpu: 0,
  timer: undefined as ReturnType<typeof setInterval> | undefined,
  cpuMs(): number {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
  take(): { maxMs: number; maxCpuMs: number } {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const result = { maxMs: round(this.max), maxCpuMs: round(this.maxCpu) };
    this.max = this.maxCpu = 0;
    this.last = performance.now();
    this.lastCpu = this.cpuMs();
    this.timer ??= setInterval(() => {
      const now = performance.now(), cpu = this.cpuMs();
      this.max = Math.max(this.max, now - this.last - 2);
      this.maxCpu = Math.max(this.maxCpu, cpu - this.lastCpu);
      this.last = now;
      this.lastCpu = cpu;
    }, 2);
    return result;
  },
};

// The handlers of /upload/hold waiting for /upload/release.
const uploadGate = new Set<() => void>();
// The reads of /upload/later and /upload/ignore, by the id the client gave.
const laterReads = new Map<string, Promise<{ bytes: number } | { error: string }>>();

// Reads a request's body to its end: its byte count, or the read's error.
async function countBody(request: Request): Promise<{ bytes: number } | { error: string }> {
  let bytes = 0;
  try {
    for await (const chunk of request.body ?? []) bytes += chunk.byteLength;
    return { bytes };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

async function control(url: URL, request: Request): Promise<Response> {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  switch (url.pathname) {
    case "/settings": {
      try {
        configure(await request.json());
        return json({ ok: true, maxMsgSize: Websocket.maxMsgSize, timeout: Websocket.timeout });
      } catch (error) {
        return json(
          { ok: false, name: (error as Error).name, message: (error as Error).message },
          400,
        );
      }
    }
    case "/count":
      return json({ count: count() });
    case "/publish":
      publish(url.searchParams.get("topic") ?? "", url.searchParams.get("text") ?? "");
      return json({ ok: true });
    case "/each": {
      const originator = byId.get(url.searchParams.get("originator") ?? "") ?? null;
      const throwEvery = Number(url.searchParams.get("throwEvery") ?? 0);
      let finishCalls = 0;
      let visited = 0;
      const arg = url.searchParams.get("arg") ?? "";
      const ran = await each(
        originator,
        (target, text: string) => {
          visited++;
          if (throwEvery && visited % throwEvery === 0) throw new Error("task bug");
          target.write(`each:${text}`);
        },
        arg,
        (origin, text) => {
          finishCalls++;
          if (origin !== originator || text !== arg) finishCalls += 1000;
        },
      );
      // Let a second onFinish show up if there were one.
      await new Promise((resolve) => setTimeout(resolve, 50));
      return json({ ran, visited, finishCalls });
    }
    case "/stats":
      return json(server.stats);
    case "/lag":
      // The longest stall of the event loop since the last call, seen by a 2 ms timer.
      return json(lag.take());
    case "/caps":
      return json({ ...server.capabilities, transport: server.transport });
    case "/upload/count": {
      // Reads the body as a stream and counts its bytes.
      let bytes = 0;
      for await (const chunk of request.body ?? []) bytes += chunk.byteLength;
      return json({ bytes });
    }
    case "/upload/hold":
      // Answers without reading the body, once /upload/release is asked.
      await new Promise<void>((resolve) => uploadGate.add(resolve));
      return json({ unread: true });
    case "/upload/later": {
      // Answers at once and reads the body afterwards (started before the answer).
      const id = url.searchParams.get("id") ?? "";
      laterReads.set(id, countBody(request));
      return json({ accepted: true }, 202);
    }
    case "/upload/ignore": {
      // Answers at once; reads the body only 300 ms later.
      const id = url.searchParams.get("id") ?? "";
      laterReads.set(
        id,
        new Promise((resolve) => setTimeout(resolve, 300)).then(() => countBody(request)),
      );
      return json({ accepted: true }, 202);
    }
    case "/upload/result": {
      const read = laterReads.get(url.searchParams.get("id") ?? "");
      if (read === undefined) return json({ missing: true }, 404);
      return json(await read);
    }
    case "/upload/release":
      for (const resolve of uploadGate) resolve();
      uploadGate.clear();
      return json({ ok: true });
    case "/memory":
      // Resident set size after a full collection where the runtime offers one (the
      // harness starts Node.js and Deno with --expose-gc), for the tests that bound what
      // many large messages cost: garbage is not what they look for.
      collectGarbage();
      return json({ rss: process.memoryUsage().rss });
    case "/shutdown": {
      const timeoutMs = Number(url.searchParams.get("timeoutMs") ?? 5000);
      server.shutdown({ timeoutMs }).then(() => {
        print(`SHUTDOWN ${JSON.stringify({ count: count(), lag: lag.take() })}`);
      });
      return json({ ok: true }, 202);
    }
  }
  return new Response("Not Found", { status: 404 });
}

const transport = process?.env?.WSX_TRANSPORT as "engine" | "native" | undefined;

async function onRequest(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/ws/auth") {
    // An async upgrade hook that refuses with any status and headers.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const token = url.searchParams.get("token");
    if (token === "forbidden") return new Response("Forbidden", { status: 403 });
    if (token !== "good") {
      return new Response("Unauthorized", {
        status: 401,
        headers: { "www-authenticate": 'Bearer realm="wsx"' },
      });
    }
    return Websocket.upgrade(request, routes["/ws/echo"](url));
  }
  const route = routes[url.pathname];
  if (route) return Websocket.upgrade(request, route(url));
  if (url.pathname === "/") return new Response("Hello World!");
  return await control(url, request);
}

const serveOn = (
  options: Parameters<typeof serve>[0],
) => (process?.env?.WSX_LISTEN === "1" ? serveListen(options) : serve(options));
const server = await serveOn({
  port: 0,
  transport: transport || undefined,
  hostname: "127.0.0.1",
  allowedOrigins: ["http://good.example"],
  handshakeTimeoutMs: 2000,
  onRequest,
});
// A second server in this process with settings of its own (JSON), the same routes.
const ownSettings = process?.env?.WSX_FIXTURE_OWN;
const own = ownSettings
  ? await serveOn({
    port: 0,
    transport: transport || undefined,
    hostname: "127.0.0.1",
    onRequest,
    ...JSON.parse(ownSettings),
  })
  : undefined;
print(`READY ${JSON.stringify({ port: server.port, own: own?.port })}`);
