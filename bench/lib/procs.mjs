// The servers (each in its own Node.js process, with its control channel) and the C
// load generator, as the scenarios use them.

import { setTimeout as sleep } from "node:timers/promises";
import { JsonLines, spawnTracked } from "./children.mjs";
import { cpuSecondsOf, systemBusySeconds } from "./cpu.mjs";

export const SERVER_FILES = Object.freeze({
  wsx: "bench/servers/wsx.ts",
  ws: "bench/servers/ws.ts",
  raw: "bench/servers/raw_tcp.ts",
});

/** One echo server in its own Node.js process. */
export class ServerProcess {
  /**
   * @param {"wsx"|"ws"|"raw"} name
   * @param {{ cpuProfileDir?: string }} options
   */
  static async start(name, options = {}) {
    const flags = ["--expose-gc", "--import", "tsx"];
    if (options.cpuProfileDir) flags.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`);
    const child = spawnTracked(process.execPath, [...flags, SERVER_FILES[name]]);
    const server = new ServerProcess(name, child);
    try {
      server.ready = await server.#lines.next(20_000, `ready line from the ${name} server`);
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
  const child = spawnTracked(binary, args.map(String));
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
 * `raw`) and holds them.
 * @returns {Promise<{ ready: object, release: () => Promise<object> }>}
 */
export async function holdConnections(binary, port, count, timeoutMs, raw) {
  const child = spawnTracked(binary, [
    "hold",
    "--port",
    String(port),
    "--conns",
    String(count),
    "--seconds",
    String(timeoutMs / 1000),
    "--concurrency",
    "256",
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
