/**
 * Starts the fixture server on the runtime named by `WSX_RUNTIME` (deno, bun or node)
 * and gives the suite its port, its event log and small client helpers.
 *
 * A timer or socket a test leaves behind keeps its file's process alive after the last
 * test, and `node --test` waits for that process to exit before the next file: clear a
 * bound (`setTimeout` in a `Promise.race`, a give-up timer) once what it bounds happened.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

export type Runtime = "deno" | "bun" | "node";

export const runtime: Runtime = (process.env.WSX_RUNTIME ?? "node") as Runtime;

export type Transport = "engine" | "native";

/**
 * The transport under test (`WSX_TRANSPORT`): wsx's engine, or the runtime's native
 * server (Deno, Bun). Unset, the default of `serve()`: the engine.
 */
export const transport: Transport = (process.env.WSX_TRANSPORT ?? "engine") as Transport;

/** What the suite runs against, for test names: `deno`, `deno-native`, `bun`, `bun-native`, `node`. */
export const target: string = transport === "native" ? `${runtime}-native` : runtime;

/** Deno's native server: no close frame on protocol errors, no head timeout, no pongs. */
export const denoNative: boolean = runtime === "deno" && transport === "native";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

/** The command that runs a TypeScript file on a runtime. */
export function commandFor(rt: Runtime, file: string): [string, string[]] {
  switch (rt) {
    case "deno":
      return [bin("deno"), [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--v8-flags=--expose-gc",
        file,
      ]];
    case "bun":
      return [bin("bun"), ["run", file]];
    case "node":
      return [process.execPath, ["--expose-gc", "--import", "tsx", file]];
  }
}

// deno-lint-ignore no-explicit-any -- control answers are read field by field in the tests
type Json = any;

export interface ServerEvent {
  id: string;
  type: string;
  uuid: number;
  [key: string]: unknown;
}

export class Fixture {
  readonly port: number;
  /** The port of the second server, started with `WSX_FIXTURE_OWN`. */
  readonly ownPort: number | undefined;
  readonly events: ServerEvent[] = [];
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  #waiters = new Set<() => void>();

  constructor(child: ChildProcess, port: number, ownPort?: number) {
    this.#child = child;
    this.port = port;
    this.ownPort = ownPort;
  }

  url(path: string): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  http(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  push(line: string): void {
    this.lines.push(line);
    if (line.startsWith("EVENT ")) this.events.push(JSON.parse(line.slice(6)));
    for (const wake of this.#waiters) wake();
  }

  eventsOf(id: string): ServerEvent[] {
    return this.events.filter((e) => e.id === id);
  }

  /** Waits until `check` returns a value other than undefined, or fails after `ms`. */
  waitFor<T>(check: () => T | undefined, ms = 5000, what = "condition"): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value !== undefined) {
          clearTimeout(timer);
          clearInterval(poll);
          this.#waiters.delete(attempt);
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        clearInterval(poll);
        this.#waiters.delete(attempt);
        reject(new Error(`Timed out waiting for ${what}`));
      }, ms);
      // Client-side conditions change without a server line: look again now and then.
      const poll = setInterval(attempt, 25);
      this.#waiters.add(attempt);
      attempt();
    });
  }

  waitEvent(id: string, type: string, ms = 5000): Promise<ServerEvent> {
    return this.waitFor(
      () => this.events.find((e) => e.id === id && e.type === type),
      ms,
      `${type} of ${id}`,
    );
  }

  async post(path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await fetch(this.http(path), {
      method: "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  async get(path: string): Promise<{ status: number; body: Json }> {
    const res = await fetch(this.http(path));
    return { status: res.status, body: await res.json() };
  }

  /** The server's process id. */
  get pid(): number {
    return this.#child.pid!;
  }

  /** Whether the server process is still running. */
  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** What the server process wrote to stderr so far. */
  stderr = "";

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.kill("SIGKILL");
    await exited;
  }
}

/**
 * Starts the fixture server on the suite's runtime. `openFileLimit` starts it under
 * `ulimit -n` (through `sh`), for the tests that run a server out of file descriptors.
 */
export async function startFixture(
  env: Record<string, string> = {},
  options: { openFileLimit?: number } = {},
): Promise<Fixture> {
  let [cmd, args] = commandFor(
    runtime,
    fileURLToPath(new URL("./fixture_server.ts", import.meta.url)),
  );
  if (options.openFileLimit !== undefined) {
    args = ["-c", `ulimit -n ${options.openFileLimit} && exec "$0" "$@"`, cmd, ...args];
    cmd = "sh";
  }
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, WSX_TRANSPORT: transport, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
    if (fixture) fixture.stderr = stderr;
  });
  const lines = createInterface({ input: child.stdout! });
  let fixture: Fixture | undefined;
  const early: string[] = [];
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`fixture on ${runtime} did not start: ${stderr}`)),
      20_000,
    );
    child.once("exit", (code) => {
      if (fixture) return;
      // Cleared, or a fixture that failed to start keeps the test process alive for 20 s.
      clearTimeout(timer);
      reject(new Error(`fixture on ${runtime} exited ${code}: ${stderr}`));
    });
    lines.on("line", (line) => {
      if (fixture) return fixture.push(line);
      if (line.startsWith("READY ")) {
        clearTimeout(timer);
        const ready = JSON.parse(line.slice(6));
        fixture = new Fixture(child, ready.port, ready.own);
        for (const e of early) fixture.push(e);
        resolve(fixture);
      } else early.push(line);
    });
  });
}

type Received = { data: Buffer; isBinary: boolean };
const inboxes = new WeakMap<WebSocket, { queue: Received[]; wake?: () => void }>();

/**
 * Opens a `ws` client and waits for the open event. Messages are queued from the start
 * (a message can arrive in the same packet as the 101) for {@linkcode nextMessage}.
 */
export function connect(
  url: string,
  options: WebSocket.ClientOptions = {},
  protocols?: string[],
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    const inbox: { queue: Received[]; wake?: () => void } = { queue: [] };
    inboxes.set(ws, inbox);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      inbox.queue.push({ data, isBinary });
      inbox.wake?.();
    });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** The next message of a client opened with {@linkcode connect}. */
export function nextMessage(ws: WebSocket, ms = 5000): Promise<Received> {
  const inbox = inboxes.get(ws)!;
  return new Promise((resolve, reject) => {
    const take = () => {
      const next = inbox.queue.shift();
      if (!next) return false;
      clearTimeout(timer);
      inbox.wake = undefined;
      resolve(next);
      return true;
    };
    const timer = setTimeout(() => {
      inbox.wake = undefined;
      reject(new Error("no message in time"));
    }, ms);
    if (!take()) inbox.wake = take;
  });
}

/** Waits for a client's close event. */
export function closed(ws: WebSocket, ms = 5000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return reject(new Error("already closed"));
    const timer = setTimeout(() => reject(new Error("no close in time")), ms);
    ws.once("close", (code: number, reason: Buffer) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/** Sends a command on a /ws/cmd connection and returns the text answer. */
export async function ask(ws: WebSocket, text: string): Promise<string> {
  const reply = nextMessage(ws);
  ws.send(text);
  return (await reply).data.toString();
}

let counter = 0;
/** A fresh id for `?id=`. */
export function newId(prefix = "c"): string {
  return `${prefix}${process.pid}-${++counter}`;
}

/** A masked client frame, built by hand for raw TCP clients. */
export function maskedFrame(opcode: number, payload: Uint8Array | string, fin = true): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const len = body.length;
  const head = len < 126
    ? Buffer.from([0, 0x80 | len])
    : len < 65536
    ? Buffer.from([0, 0x80 | 126, len >> 8, len & 0xff])
    : (() => {
      const h = Buffer.alloc(10);
      h[1] = 0x80 | 127;
      h.writeBigUInt64BE(BigInt(len), 2);
      return h;
    })();
  head[0] = (fin ? 0x80 : 0) | opcode;
  const masked = Buffer.from(body.map((b, i) => b ^ mask[i & 3]));
  return Buffer.concat([head, mask, masked]);
}

/** A raw TCP socket that completed a WebSocket handshake (or got a refusal). */
export function rawUpgrade(
  port: number,
  path: string,
  extra = "",
): Promise<{ socket: import("node:net").Socket; status: number; head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    import("node:net").then(({ connect: tcp }) => {
      const socket = tcp(port, "127.0.0.1", () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
        );
      });
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        socket.pause();
        const head = buffered.subarray(0, end).toString("latin1");
        resolve({
          socket,
          status: Number(head.split(" ")[1]),
          head,
          rest: buffered.subarray(end + 4),
        });
      };
      socket.on("data", onData);
      socket.once("error", reject);
    }, reject);
  });
}

/** Starts an example on the suite's runtime with PORT=0; resolves its port and a stop function. */
export async function startExample(
  relativePath: string,
  env: Record<string, string> = {},
): Promise<{ port: number; stop: () => void }> {
  const [cmd, args] = commandFor(
    runtime,
    fileURLToPath(new URL(`../../${relativePath}`, import.meta.url)),
  );
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, PORT: "0", WS_TRANSPORT: transport, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stop = () => void child.kill("SIGKILL");
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${relativePath} did not start on ${runtime}`)),
      20_000,
    );
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${relativePath} exited with ${code} on ${runtime}`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = line.match(/localhost:(\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  }).catch((error) => {
    stop();
    throw error;
  });
  return { port, stop };
}

/**
 * Whether the fixture reports the end of its shutdown within `ms`: a refused connection
 * during shutdown is fine only once the shutdown is over (the listener stops last).
 */
export async function shutdownLineFollows(fx: Fixture, ms = 2000): Promise<boolean> {
  return await fx.waitFor(
    () => fx.lines.some((l) => l.startsWith("SHUTDOWN ")) ? true : undefined,
    ms,
    "the SHUTDOWN line",
  ).catch(() => false);
}
