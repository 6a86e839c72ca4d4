// examples/upload.ts on wsx's engine under WSX_RUNTIME (node by default; deno and bun
// run the engine too: transport "engine"): one 1 GiB binary message in 1 MiB fragments is
// hashed while it arrives, the digest matches the client's, and the server's resident
// memory grows by less than 64 MB meanwhile.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { upload } from "../../bench/upload/client.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runtime = process.env.WSX_RUNTIME ?? "node";
const GiB = 1 << 30, MiB = 1 << 20;

function command(): [string, string[]] {
  const file = "examples/upload.ts";
  if (runtime === "deno") {
    // As `npm run upload:deno`: a small young generation, so Deno's read buffers (a new
    // 64 KiB one per read) are collected soon after they are hashed.
    const flags = ["--allow-net", "--allow-env", "--v8-flags=--max-semi-space-size=1"];
    return [`${root}node_modules/.bin/deno`, ["run", ...flags, file]];
  }
  if (runtime === "bun") return [`${root}node_modules/.bin/bun`, ["run", file]];
  return [process.execPath, ["--import", "tsx", file]];
}

let child: ChildProcess | undefined;
after(() => child?.kill());

function startServer(): Promise<{ port: number; pid: number }> {
  const [cmd, args] = command();
  child = spawn(cmd, args, { cwd: root, env: { ...process.env, PORT: "0", HOST: "127.0.0.1" } });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 30_000);
    child!.stdout!.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/ws:\/\/[^:]+:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), pid: child!.pid! });
      }
    });
    child!.stderr!.on("data", (chunk) => (out += chunk));
    child!.once("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

// Resident set size in bytes, from /proc (Linux).
function rss(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return Number(m![1]) * 1024;
}

test(`a 1 GiB upload is hashed as it arrives, in bounded memory (${runtime})`, {
  timeout: 180_000,
}, async () => {
  const { port, pid } = await startServer();
  // A first upload warms the server up (code compiled, buffers allocated).
  const warm = await upload(port, 128 * MiB);
  assert.equal(warm.reply, warm.expected);
  const base = rss(pid);
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 25);
  try {
    const result = await upload(port, GiB);
    assert.equal(result.reply, result.expected);
    console.log(
      `# ${runtime}: 1 GiB in ${(result.ms / 1000).toFixed(2)} s ` +
        `(${(GiB / 1e6 / (result.ms / 1000)).toFixed(0)} MB/s), ` +
        `RSS ${(base / 1e6).toFixed(0)} MB -> peak ${(peak / 1e6).toFixed(0)} MB`,
    );
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, rss(pid));
  assert.ok(peak - base < 64e6, `RSS grew by ${((peak - base) / 1e6).toFixed(1)} MB`);
});
