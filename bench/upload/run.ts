/**
 * Upload bench: one large binary message in 1 MiB fragments, answered with its SHA-256
 * digest. ws receives it whole (its only way) and hashes it; wsx's engine streams it
 * into the hash (examples/upload.ts) under Node.js, Deno and Bun, measured in turn round
 * after round. Prints the median throughput and the server's peak RSS growth per target.
 *
 *   node --import tsx bench/upload/run.ts [--mib=256] [--runs=3] [--only=ws,node,deno,bun]
 *
 * @module
 */

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { upload } from "./client.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const mib = Number(arg("mib", "256")), runs = Number(arg("runs", "3"));
const only = arg("only", "ws,node,deno,bun").split(",");
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

const targets: Record<string, [string, string[]]> = {
  ws: [process.execPath, ["bench/upload/server_ws.mjs"]],
  node: [process.execPath, ["--import", "tsx", "examples/upload.ts"]],
  deno: [bin("deno"), [
    "run",
    "--allow-net",
    "--allow-env",
    "--v8-flags=--max-semi-space-size=1",
    "examples/upload.ts",
  ]],
  bun: [bin("bun"), ["run", "examples/upload.ts"]],
};

const rss = (pid: number): number =>
  Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/)![1]) * 1024;

interface Target {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly speeds: number[];
  readonly growths: number[];
  stop(): void;
}

async function launch(name: string): Promise<Target> {
  const [cmd, args] = targets[name];
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1" },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (c) => {
      const m = String(c).match(/(?:READY |:)(\d+)\/?\s*$/m);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  await upload(port, 32 << 20); // warm-up
  return { name, pid: child.pid!, port, speeds: [], growths: [], stop: () => child.kill() };
}

async function round(target: Target): Promise<void> {
  const base = rss(target.pid);
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(target.pid))), 20);
  const r = await upload(target.port, mib << 20);
  clearInterval(sampler);
  if (r.reply !== r.expected) throw new Error(`${target.name}: wrong digest ${r.reply}`);
  target.speeds.push((mib << 20) / 1e6 / (r.ms / 1000));
  target.growths.push((Math.max(peak, rss(target.pid)) - base) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Every target is started first, then measured in turn, round after round: a change of
// the machine's load touches all of them alike.
const started: Target[] = [];
try {
  for (const name of only) started.push(await launch(name));
  for (let i = 0; i < runs; i++) for (const target of started) await round(target);
  console.log(`Upload of one ${mib} MiB message in 1 MiB fragments, ${runs} rounds`);
  console.log("| server | median throughput | range | peak RSS growth |");
  console.log("| --- | --- | --- | --- |");
  for (const t of started) {
    const lo = Math.min(...t.speeds).toFixed(0), hi = Math.max(...t.speeds).toFixed(0);
    console.log(
      `| ${t.name} | ${median(t.speeds).toFixed(0)} MB/s | ${lo}-${hi} | ` +
        `${Math.max(...t.growths).toFixed(0)} MB |`,
    );
  }
} finally {
  for (const t of started) t.stop();
}
