// The servers (each in its own process, on its runtime, with its control channel) and
// the C load generator, as the scenarios use them.

import { setTimeout as sleep } from "node:timers/promises";
import { JsonLines, PIN, spawnTracked } from "./children.mjs";
import { cpuSecondsOf, systemBusySeconds } from "./cpu.mjs";
import { serverCommand, SERVERS } from "./servers.mjs";

/** One echo server in its own process. */
export class ServerProcess {
  /**
   * @param {string} name a key of SERVERS (bench/lib/servers.mjs)
   * @param {{ cpuProfileDir?: string }} options (Node.js servers only)
   */
  static async start(name, options = {}) {
    const [command, args, env] = serverCommand(name, options.cpuProfileDir);
    const child = spawnTracked(command, args, env, PIN?.server);
    const server = new ServerProcess(name, child);
    try {
      server.ready = await server.#lines.next(30_000, `ready line from the ${name} server`);
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`Cannot start the ${name} server: ${error.message}\n${child.stderrText}`);
    }
    server.port = server.ready.port;
    return server;
  }

  #lines;
  constructor(name, child) {
    this.name = name;
    this.child = child;
    this.#lines = new JsonLines(child.stdout);
  }

  /** Whether it speaks plain TCP rather than WebSocket. */
  get raw() {
    return SERVERS[this.name].raw === true;
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Heap and RSS after a full GC, and the connections the server counts. */
  async memory() {
    this.child.stdin.write("mem\n");
    const m = await this.#lines.next(20_000, `memory report from the ${this.name} server`);
    if (m.event !== "mem") throw new Error(`Unexpected control line: ${JSON.stringify(m)}`);
    return m;
  }

  /** Marks the server's CPU profile (see the `mark` command of servers/_control.ts). */
  async mark() {
    this.child.stdin.write("mark\n");
    await this.#lines.next(20_000, `mark from the ${this.name} server`);
  }

  /** Live objects per type (Bun only, for profiling); null elsewhere. */
  async typeCounts() {
    if (SERVERS[this.name].runtime !== "bun") return null;
    this.child.stdin.write("types\n");
    const m = await this.#lines.next(20_000, `object types from the ${this.name} server`);
    return m.event === "types" ? m.counts : null;
  }

  /** Sends the broadcast message `messages` times to every connection, in one turn. */
  async broadcast(messages) {
    this.child.stdin.write(`broadcast ${messages}\n`);
    const m = await this.#lines.next(60_000, `broadcast report from the ${this.name} server`);
    if (m.event !== "sent") throw new Error(`Unexpected control line: ${JSON.stringify(m)}`);
    return m;
  }

  cpuSeconds() {
    return cpuSecondsOf(this.child.pid);
  }

  /**
   * Waits until the server no longer burns CPU on the previous load and the machine is
   * quiet (other processes under a third of a core), checked every 100 ms for at most
   * `maxMs`: on a shared machine this keeps most measurements clear of others' bursts.
   */
  async waitQuiet(maxMs = 1500) {
    const deadline = Date.now() + maxMs;
    let cpu = this.cpuSeconds(), busy = systemBusySeconds();
    while (Date.now() < deadline) {
      await sleep(100);
      const cpu1 = this.cpuSeconds(), busy1 = systemBusySeconds();
      const server = cpu1 - cpu, other = busy1 - busy - server; // CPU seconds per 0.1 s
      if (server <= 0.02 && other <= 0.03) return;
      cpu = cpu1;
      busy = busy1;
    }
  }

  /** Asks the server to quit; kills it if it has not exited within 3 s. */
  async stop() {
    if (!this.alive) return;
    this.child.stdin.end("quit\n");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await this.child.exitPromise;
    clearTimeout(timer);
  }
}

/**
 * Runs the load generator to completion and returns its result line.
 * @param {string} binary
 * @param {(string|number)[]} args
 * @param {number} timeoutMs killed after this long
 * @param {() => void} [onMeasuring] called when the measurement window opens
 */
export async function runLoadgen(binary, args, timeoutMs, onMeasuring) {
  const child = spawnTracked(binary, args.map(String), {}, PIN?.client);
  const lines = new JsonLines(child.stdout);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const result = (async () => {
    for (;;) {
      const line = await lines.next(timeoutMs + 1000, "result from loadgen");
      if (line.event !== "measuring") return line;
      onMeasuring?.();
    }
  })().catch((e) => e);
  const { code, signal } = await child.exitPromise;
  clearTimeout(timer);
  const value = await result;
  if (code !== 0 || value instanceof Error) {
    throw new Error(
      `loadgen ${args[0]} failed (exit ${code ?? signal}): ${
        child.stderrText.trim() || value.message
      }`,
    );
  }
  return value;
}

/**
 * Opens `count` idle connections with the load generator (WebSocket, or plain TCP when
 * `raw`), at most `concurrency` handshakes at a time, and holds them.
 * @returns {Promise<{ ready: object, release: () => Promise<object> }>}
 */
export async function holdConnections(binary, port, count, timeoutMs, { raw, concurrency }) {
  const child = spawnTracked(binary, [
    "hold",
    "--port",
    String(port),
    "--conns",
    String(count),
    "--seconds",
    String(timeoutMs / 1000),
    "--concurrency",
    String(concurrency),
    ...(raw ? ["--raw"] : []),
  ]);
  const lines = new JsonLines(child.stdout);
  let ready;
  try {
    ready = await lines.next(timeoutMs, "ready line from loadgen hold");
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${error.message}\n${child.stderrText}`);
  }
  return {
    ready,
    async release() {
      child.stdin.end();
      const done = await lines.next(10_000, "done line from loadgen hold").catch((e) => ({
        error: e.message,
      }));
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await child.exitPromise;
      clearTimeout(timer);
      return done;
    },
  };
}

/**
 * Broadcast receivers (bench/pubsub/receivers.c): `count` WebSocket connections to `path`
 * that count the data frames arriving on all of them, open once this resolves.
 */
export async function startReceivers(binary, port, count, path = "/all") {
  const child = spawnTracked(binary, [
    "--port",
    String(port),
    "--conns",
    String(count),
    "--path",
    path,
    "--seconds",
    "1800",
  ]);
  const lines = new JsonLines(child.stdout);
  const next = async (event, ms) => {
    for (;;) {
      const line = await lines.next(ms, `${event} from the receivers`).catch((e) => {
        throw new Error(`${e.message}: ${child.stderrText.trim()}`);
      });
      if (line.event === event) return line;
    }
  };
  const ready = await next("ready", 120_000);
  if (ready.open !== count) {
    child.kill("SIGKILL");
    throw new Error(`${ready.open} of ${count} receivers connected`);
  }
  return {
    expected: 0,
    next,
    send: (line) => child.stdin.write(`${line}\n`),
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end("quit\n");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await child.exitPromise;
      clearTimeout(timer);
    },
  };
}
