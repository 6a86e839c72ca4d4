/**
 * What the pub/sub tests share: a real `redis-server` of their own (free port, no
 * persistence, killed and restarted on the same port at will), wsx fixture servers on
 * any runtime in their own process group (so that workers and copies die with them), and
 * a small `ws` client with an inbox.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { connect, createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import WebSocket from "ws";

export type Runtime = "node" | "bun" | "deno";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const fixture = fileURLToPath(new URL("./fixture_server.ts", import.meta.url));

export const REDIS_MISSING =
  "redis-server not found on PATH: the pub/sub tests need a real Redis " +
  "(Debian: apt-get install -y redis-server)";

/** Waits until `check` returns something other than undefined, polling; fails after `ms`. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** A `redis-server` of the test's own. */
export class RedisServer {
  readonly port: number;
  #child: ChildProcess | undefined;
  #client: Redis | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<RedisServer> {
    const redis = new RedisServer(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port; resolves once Redis accepts connections. */
  async start(): Promise<void> {
    const child = spawn("redis-server", [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start: ${output}`)),
        10_000,
      );
      child.once("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(error.code === "ENOENT" ? new Error(REDIS_MISSING) : error);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with code ${code}: ${output}`));
      });
      child.stdout!.on("data", (chunk) => {
        output += chunk;
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.removeAllListeners("exit");
  }

  /**
   * Starts again on the same port and returns when (by `performance.now()`) Redis first
   * accepted a TCP connection: a probe connects every 2 ms while it starts.
   */
  async startTimed(): Promise<number> {
    let accepted: number | undefined;
    let probing = true;
    const probe = (async () => {
      while (probing && accepted === undefined) {
        await new Promise<void>((resolve) => {
          const socket = connect(this.port, "127.0.0.1");
          socket.once("connect", () => {
            accepted ??= performance.now();
            socket.destroy();
            resolve();
          });
          socket.once("error", () => resolve());
        });
        if (accepted === undefined) await sleep(2);
      }
    })();
    try {
      await this.start();
    } catch (error) {
      probing = false;
      throw error;
    }
    await probe;
    return accepted!;
  }

  /** Stops (SIGSTOP) or resumes (SIGCONT) Redis: a hung server whose connections stay open. */
  signal(signal: "SIGSTOP" | "SIGCONT"): void {
    this.#child?.kill(signal);
  }

  /** Kills Redis at once (SIGKILL): what a crash looks like to its clients. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill("SIGKILL");
    await exited(child);
    this.#child = undefined;
  }

  /** A plain client for checks; it reconnects by itself after a restart. */
  client(): Redis {
    if (!this.#client) {
      this.#client = new Redis(this.port, "127.0.0.1", { lazyConnect: false });
      this.#client.on("error", () => {});
    }
    return this.#client;
  }

  /** Subscribers of a channel, as Redis counts them. */
  async numsub(channel: string): Promise<number> {
    const reply = await this.client().pubsub("NUMSUB", channel) as [string, number];
    return Number(reply[1]);
  }

  /** Waits until `channel` has `n` subscribers. */
  waitNumsub(channel: string, n: number, ms = 10_000): Promise<true> {
    return waitFor(
      async () => (await this.numsub(channel).catch(() => -1)) === n ? true : undefined,
      ms,
      `${n} subscribers of ${channel}`,
    );
  }

  /** Waits until `n` connections named `name` (`wsx-pub`, `wsx-sub`) are connected. */
  waitClients(name: string, n: number, ms = 10_000): Promise<true> {
    return waitFor(
      async () => {
        const list = await this.client().client("LIST").catch(() => "") as string;
        const named = list.split("\n").filter((line) => line.includes(` name=${name} `));
        return named.length === n ? true : undefined;
      },
      ms,
      `${n} ${name} connections`,
    );
  }

  async stop(): Promise<void> {
    this.#client?.disconnect();
    this.#client = undefined;
    await this.kill();
  }
}

/** The command that runs the fixture on a runtime; Deno gets what `processes` needs. */
function commandFor(runtime: Runtime): [string, string[]] {
  switch (runtime) {
    case "node":
      return [process.execPath, ["--import", "tsx", fixture]];
    case "bun":
      return [bin("bun"), ["run", fixture]];
    case "deno":
      return [bin("deno"), [
        "run",
        "--unstable-net",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        `--allow-run=${realpathSync(bin("deno"))}`,
        fixture,
      ]];
  }
}

/**
 * Runs the fixture with Deno and the given permission flags until it exits (bounded by
 * `ms`): for starts that must fail.
 */
export function denoFixtureFails(
  flags: string[],
  env: Record<string, string>,
  ms = 30_000,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(bin("deno"), ["run", ...flags, fixture], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => stderr += chunk);
  const timer = setTimeout(() => killGroup(child), ms);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    })
  );
}

/** A fixture server process (with its workers or copies, in its own process group). */
export class ServerProcess {
  readonly runtime: Runtime;
  readonly port: number;
  readonly pid: number;
  readonly lines: string[];
  readonly #child: ChildProcess;
  readonly #stderr: { text: string };

  private constructor(
    runtime: Runtime,
    child: ChildProcess,
    port: number,
    lines: string[],
    stderr: { text: string },
  ) {
    this.runtime = runtime;
    this.#child = child;
    this.port = port;
    this.pid = child.pid!;
    this.lines = lines;
    this.#stderr = stderr;
  }

  /** What the process wrote to stderr so far. */
  get stderr(): string {
    return this.#stderr.text;
  }

  static async start(runtime: Runtime, env: Record<string, string>): Promise<ServerProcess> {
    const [cmd, args] = commandFor(runtime);
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: stop() ends workers and copies too
    });
    const lines: string[] = [];
    const stderr = { text: "" };
    child.stderr!.on("data", (chunk) => stderr.text += chunk);
    createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
    try {
      const ready = await waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
          return lines.find((line) => line.startsWith("READY "));
        },
        60_000,
        `the ${runtime} server`,
      );
      return new ServerProcess(runtime, child, JSON.parse(ready.slice(6)).port, lines, stderr);
    } catch (error) {
      // Workers or copies left behind by a first process that exited are a bug to report.
      const leftovers = child.exitCode !== null && groupAlive(child.pid!)
        ? " (processes left behind)"
        : "";
      await killGroup(child);
      throw new Error(
        `${runtime} server did not start${leftovers}: ${(error as Error).message}\n${stderr.text}`,
      );
    }
  }

  url(path = "/ws"): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  async get(path: string): Promise<Record<string, unknown>> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`);
    return await response.json() as Record<string, unknown>;
  }

  /** Whether the first process is still running. */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Kills the whole process group. */
  stop(): Promise<void> {
    return killGroup(this.#child);
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killGroup(child: ChildProcess): Promise<void> {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // The group is gone already.
  }
  await exited(child);
}

type Received = { data: Buffer; isBinary: boolean };

/** A `ws` client with an inbox. */
export class Client {
  readonly ws: WebSocket;
  readonly #inbox: Received[] = [];
  #wake: (() => void) | undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.#inbox.push({ data, isBinary });
      this.#wake?.();
    });
  }

  static connect(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new Client(ws);
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    });
  }

  /** The next message, or a rejection after `ms`. */
  async next(ms = 5000): Promise<Received> {
    const deadline = Date.now() + ms;
    while (this.#inbox.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no message in time");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#inbox.shift()!;
  }

  /** Sends a command and returns the text answer. */
  async ask(text: string): Promise<string> {
    this.ws.send(text);
    return (await this.next()).data.toString();
  }

  /** The text messages that arrive within `ms`. */
  async drain(ms = 300): Promise<string[]> {
    const got: string[] = [];
    for (;;) {
      try {
        got.push((await this.next(ms)).data.toString());
      } catch {
        return got;
      }
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * Opens clients until one lands on each of `n` different processes of a shared port
 * (bounded: at most 20 tries per process).
 */
export async function clientsOnEachProcess(url: string, n: number): Promise<Map<string, Client>> {
  const byPid = new Map<string, Client>();
  const spare: Client[] = [];
  for (let i = 0; i < n * 20 && byPid.size < n; i++) {
    const client = await Client.connect(url);
    const who = await client.ask("who");
    if (byPid.has(who)) spare.push(client);
    else byPid.set(who, client);
  }
  for (const client of spare) client.close();
  if (byPid.size < n) throw new Error(`Clients reached ${byPid.size} of ${n} processes`);
  return byPid;
}
