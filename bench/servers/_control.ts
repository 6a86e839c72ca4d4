/**
 * The control channel every benchmark server shares with the runner (`bench/run.mjs`),
 * one JSON object a line on stdout, one command a line on stdin:
 *
 * - on start: `{"event":"ready","port":N,...}`
 * - `mem`: full GC (the runner starts servers with `--expose-gc`), then
 *   `{"event":"mem","heapUsed":N,"heapTotal":N,"rss":N,"external":N,"arrayBuffers":N,"connections":N}`
 * - `quit`, or stdin closing (the runner exited, even when killed): stop and exit.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";

/** What a benchmark server tells the control channel. */
export interface BenchServer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Extra facts for the ready line (library version, native add-ons loaded, ...). */
  readonly info: Record<string, unknown>;
  /** Connections open now, as the server sees them. */
  connections(): number;
  /** Stops listening and drops every connection. */
  stop(): Promise<void>;
}

const gc = (globalThis as { gc?: () => void }).gc;

function send(line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function memory(server: BenchServer): Record<string, unknown> {
  if (gc === undefined) throw new Error("Cannot measure memory: start node with --expose-gc");
  // Twice: the first pass may only queue finalizers whose memory the second one frees.
  gc();
  gc();
  const m = process.memoryUsage();
  return {
    event: "mem",
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    rss: m.rss,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    connections: server.connections(),
  };
}

/**
 * Announces the server and serves the control commands until told to quit.
 *
 * @param server The running server.
 */
export function control(server: BenchServer): void {
  let stopping = false;
  const quit = async () => {
    if (stopping) return;
    stopping = true;
    // A stop that hangs must not keep the process alive.
    setTimeout(() => process.exit(0), 2000).unref();
    await server.stop().catch(() => {});
    process.exit(0);
  };
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const command = line.trim();
    if (command === "mem") send(memory(server));
    else if (command === "quit") void quit();
    else send({ event: "error", message: `Unknown command: "${command}"` });
  });
  lines.on("close", () => void quit());
  send({ event: "ready", port: server.port, pid: process.pid, ...server.info });
}
