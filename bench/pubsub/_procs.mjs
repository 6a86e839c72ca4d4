// Child processes of the pub/sub benchmark: every child is tracked and killed when the
// runner exits (also on errors and signals), every wait has a deadline, and CPU time
// comes from /proc so that each measurement shows whether the receivers kept up.

import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HERE = fileURLToPath(new URL(".", import.meta.url));

// 10,000 receivers need more than the usual 1024 descriptors on each side; a user may
// raise the soft limit up to the hard one only.
const LIMITED = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

const children = new Set();
function killAll() {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
}
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** The descriptor limit the children get. */
export function childFdLimit() {
  return Number(
    execFileSync("bash", ["-c", LIMITED, "bash", "bash", "-c", "ulimit -n"]).toString().trim(),
  );
}

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

/** CPU seconds (user + system) a process has used. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** A free port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A tracked child whose stdout is JSON lines, awaited with deadlines. */
export class Child {
  #queue = [];
  #waiters = [];
  #ended = false;

  constructor(command, args, env = {}) {
    const child = spawn("bash", ["-c", LIMITED, "bash", command, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child = child;
    this.name = args.at(-1) ?? command;
    children.add(child);
    this.exited = new Promise((resolve) =>
      child.once("exit", () => (children.delete(child), resolve()))
    );
    this.stderr = "";
    child.stderr.on("data", (d) => {
      if (this.stderr.length < 20_000) this.stderr += d;
    });
    let buffer = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text) => {
      buffer += text;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line.startsWith("{")) this.#push(JSON.parse(line));
      }
    });
    child.stdout.on("end", () => {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) {
        w.reject(new Error(`${this.name} ended: ${this.stderr.trim()}`));
      }
    });
  }

  get pid() {
    return this.child.pid;
  }

  #push(value) {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(value);
    else this.#queue.push(value);
  }

  /** The next JSON line with `event`, or a rejection after `ms`. */
  async next(event, ms) {
    for (;;) {
      const value = await this.#nextLine(ms, event);
      if (value.event === event) return value;
    }
  }

  #nextLine(ms, what) {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift());
    if (this.#ended) {
      return Promise.reject(new Error(`No ${what}: ${this.name} ended: ${this.stderr.trim()}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`No ${what} from ${this.name} within ${ms} ms`));
      }, ms);
      const waiter = {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.#waiters.push(waiter);
    });
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
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
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
    children.delete(child);
    return null;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () => new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGKILL"))),
  };
}

/** Median, min and max. */
export function summarize(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return {
    median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2,
    min: v[0],
    max: v.at(-1),
    n: v.length,
  };
}
