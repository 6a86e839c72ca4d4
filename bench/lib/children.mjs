// Spawning the benchmark's child processes: every child is tracked and killed when the
// runner exits, also on errors and signals, and reads of its output have deadlines.

import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BENCH = fileURLToPath(new URL("..", import.meta.url));
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

// 10,000 connections need more than the usual 1024 descriptors on each side. A
// non-root user can raise the soft limit up to the hard one only, hence the fallback.
const WANTED_FDS = 65536;
const LIMITED = `ulimit -n ${WANTED_FDS} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;

const children = new Set();

/** Tracks a child spawned elsewhere, so it is killed with the others when the runner exits. */
export function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

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

// BENCH_PIN: where the servers and the load generator run. Unpinned, the scheduler
// puts a lone echo's server and client on one core (a round trip of about 20 us here)
// or on two (about 55 us: each message wakes an idle core), and a round's latency
// follows where they landed rather than the server.
const PINS = {
  same: { server: "0", client: "0" },
  split: { server: "0", client: "1" },
};
const pinName = process.env.BENCH_PIN ?? "";
if (pinName !== "" && !Object.hasOwn(PINS, pinName)) {
  throw new RangeError(`Invalid "BENCH_PIN": expected "same" or "split", got "${pinName}"`);
}
/** The CPU of each role (`server`, `client`) under BENCH_PIN, or undefined: unpinned. */
export const PIN = PINS[pinName];

/**
 * Spawns `command args` with the raised descriptor limit (`bash -c ... exec` keeps the
 * pid), with `env` added to this process's environment, on `cpu` when given (`taskset`).
 */
export function spawnTracked(command, args, env = {}, cpu = undefined) {
  if (cpu !== undefined) [command, args] = ["taskset", ["-c", cpu, command, ...args]];
  const child = spawn("bash", ["-c", LIMITED, "bash", command, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  child.exitPromise = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    })
  );
  child.stderrText = "";
  child.stderr.on("data", (d) => {
    if (child.stderrText.length < 20_000) child.stderrText += d;
  });
  return child;
}

/** The descriptor limit children get; checked once, before anything depends on it. */
export function childFdLimit() {
  return Number(
    execFileSync("bash", ["-c", LIMITED, "bash", "bash", "-c", "ulimit -n"]).toString().trim(),
  );
}

/** JSON lines from a child's stdout, awaited one by one with a deadline. */
export class JsonLines {
  #queue = [];
  #waiters = [];
  #buffer = "";
  #ended = false;

  constructor(stream) {
    stream.setEncoding("utf8");
    stream.on("data", (text) => {
      this.#buffer += text;
      let nl;
      while ((nl = this.#buffer.indexOf("\n")) >= 0) {
        const line = this.#buffer.slice(0, nl).trim();
        this.#buffer = this.#buffer.slice(nl + 1);
        if (line.startsWith("{")) this.#push(JSON.parse(line));
      }
    });
    stream.on("end", () => {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w.reject(new Error("Child output ended"));
    });
  }

  #push(value) {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(value);
    else this.#queue.push(value);
  }

  /** The next JSON line, or a rejection after `timeoutMs`. */
  next(timeoutMs, what) {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift());
    if (this.#ended) return Promise.reject(new Error(`No ${what}: child output ended`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`No ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.#waiters.push(waiter);
    });
  }
}
