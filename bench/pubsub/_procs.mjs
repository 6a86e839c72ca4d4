// Child processes of the pub/sub benchmark, on the main benchmark's helpers
// (bench/lib/children.mjs: tracked, killed when the runner exits, waits with deadlines;
// bench/lib/cpu.mjs: CPU time from /proc), plus what only this benchmark needs: the C
// receivers and a redis-server of its own.

import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { childFdLimit, JsonLines, spawnTracked, track } from "../lib/children.mjs";
import { cpuSecondsOf } from "../lib/cpu.mjs";
import { summarize } from "../lib/stats.mjs";

export { childFdLimit, summarize };
export const cpuSeconds = cpuSecondsOf;

const HERE = fileURLToPath(new URL(".", import.meta.url));

/** Compiles receivers.c with the system compiler (into the temp directory). */
export function buildReceivers() {
  const binary = join(tmpdir(), `wsx-bench-pubsub-receivers-${process.getuid?.() ?? 0}`);
  try {
    execFileSync("cc", ["-O2", "-Wall", "-Wextra", "-o", binary, join(HERE, "receivers.c")], {
      stdio: ["ignore", "inherit", "pipe"],
    });
  } catch (error) {
    throw new Error(
      `Cannot build receivers.c with "cc -O2": ${error.stderr?.toString() ?? error.message}`,
    );
  }
  return binary;
}

/** A free port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A tracked child whose stdout is JSON lines, each with an `event`, awaited with deadlines. */
export class Child {
  #lines;

  constructor(command, args, env = {}) {
    this.child = spawnTracked(command, args, env);
    this.name = args.at(-1) ?? command;
    this.exited = this.child.exitPromise;
    this.#lines = new JsonLines(this.child.stdout);
  }

  get pid() {
    return this.child.pid;
  }

  /** The next JSON line with `event`, or a rejection after `ms`. */
  async next(event, ms) {
    for (;;) {
      let value;
      try {
        value = await this.#lines.next(ms, `${event} from ${this.name}`);
      } catch (error) {
        throw new Error(`${error.message}: ${this.child.stderrText.trim()}`);
      }
      if (value.event === event) return value;
    }
  }

  send(line) {
    this.child.stdin.write(`${line}\n`);
  }

  /** Asks it to quit (stdin ends), kills it after 3 s. */
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.end("quit\n");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A redis-server of the benchmark's own (no persistence), or null without the binary. */
export async function startRedis() {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = track(spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] }));
  const ok = await new Promise((resolve) => {
    let out = "";
    const timer = setTimeout(() => resolve(false), 10_000);
    child.once("error", () => (clearTimeout(timer), resolve(false)));
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) (clearTimeout(timer), resolve(true));
    });
  });
  if (!ok) {
    child.kill("SIGKILL");
    return null;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () => new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGKILL"))),
  };
}
