// Server CPU time per keep-alive request: wsx's HTTP/1.1 connection (src/adapters/
// http1_*.ts) on node:net against node:http with the same web Request/Response handler
// (what wsx's Node serve() runs today) and against plain node:http (res.end, no web
// objects: the floor), each in its own child process, answering
// "hello" to GET requests pipelined 64 at a time on one connection by a raw TCP client
// here. CPU time (user + system, read in the child) holds under a shared machine's load
// where requests per second do not. Rounds alternate the servers.
// Usage: node --import tsx bench/http1/cpu.ts [requests=20000] [rounds=3]
//        HTTP1_BENCH_PROF=wsx writes that child's CPU profile to bench/results/profiles/
//        (the children run on the same runtime as this script: `npx bun bench/http1/cpu.ts`;
//        on Bun, Bun.serve is measured too)
import { spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import process from "node:process";
import { serveHttp1Socket } from "../../src/adapters/http1_net.ts";
import { toRequest, writeResponse } from "../../src/adapters/node_http.ts";
import { resolveHttp1Options } from "../../src/adapters/http1_options.ts";

const role = process.env.HTTP1_BENCH_ROLE;

interface BunServeApi {
  serve(options: { port: number; hostname: string; fetch: () => Response }): { port: number };
}

function child(kind: string): void {
  if (kind === "Bun.serve") {
    // Bun's native HTTP server (uWebSockets in C++), the peer of a Bun.listen binding.
    const bun = (globalThis as unknown as { Bun: BunServeApi }).Bun;
    const { port } = bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response("hello"),
    });
    process.stdout.write(`port ${port}\n`);
    return void process.stdin.on("data", (chunk: Buffer) => {
      if (chunk.toString() === "q") process.exit(0);
      const { user, system } = process.cpuUsage();
      process.stdout.write(`cpu ${user + system}\n`);
    });
  }
  const server = kind === "wsx"
    ? (() => {
      const settings = resolveHttp1Options({ handler: () => new Response("hello") });
      return createServer({ allowHalfOpen: true }, (s) => serveHttp1Socket(s, settings));
    })()
    : kind === "node:http+fetch"
    // What wsx's Node serve() does for a plain request: node:http, then a web Request
    // and Response (src/adapters/node_http.ts).
    ? createHttpServer(async (req, res) => {
      toRequest(req);
      await writeResponse(new Response("hello"), res);
    })
    : createHttpServer((_, res) => res.end("hello"));
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(`port ${port}\n`);
  });
  process.stdin.on("data", (chunk: Buffer) => {
    // "q" ends the child cleanly, so that a CPU profile (HTTP1_BENCH_PROF) is written.
    if (chunk.toString() === "q") process.exit(0);
    const { user, system } = process.cpuUsage();
    process.stdout.write(`cpu ${user + system}\n`);
  });
}

async function drive(port: number, requests: number): Promise<void> {
  const socket = connect(port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  const one = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  let answered = 0;
  let sent = 0;
  const send = (n: number) => {
    const k = Math.min(n, requests - sent);
    if (k > 0) socket.write(one.repeat(k));
    sent += k;
  };
  await new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      const text = chunk.toString("latin1");
      let got = 0;
      for (let i = text.indexOf("hello"); i >= 0; i = text.indexOf("hello", i + 5)) got++;
      answered += got;
      send(got);
      if (answered >= requests) resolve();
    });
    send(64);
  });
  socket.destroy();
}

function line(proc: ReturnType<typeof spawn>, prefix: string): Promise<number> {
  return new Promise((resolve) => {
    const on = (chunk: Buffer) => {
      const m = chunk.toString().match(new RegExp(`${prefix} (\\d+)`));
      if (m) {
        proc.stdout!.off("data", on);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on("data", on);
  });
}

async function measure(kind: string, requests: number): Promise<number> {
  const prof = process.env.HTTP1_BENCH_PROF === kind
    ? ["--cpu-prof", "--cpu-prof-dir", "bench/results/profiles"]
    : [];
  const args = process.versions.bun
    ? [process.argv[1]]
    : [...prof, "--import", "tsx", process.argv[1]];
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, HTTP1_BENCH_ROLE: kind },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await line(proc, "port");
  await drive(port, 2000); // warm-up
  proc.stdin!.write("x");
  const before = await line(proc, "cpu");
  await drive(port, requests);
  proc.stdin!.write("x");
  const after = await line(proc, "cpu");
  proc.stdin!.write("q");
  await new Promise((r) => proc.once("exit", r));
  return (after - before) / requests;
}

if (role) child(role);
else {
  const requests = Number(process.argv[2] ?? 20_000);
  const rounds = Number(process.argv[3] ?? 3);
  const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.version}`;
  console.log(`${runtime}: server CPU µs per request, ${requests} pipelined GETs a round`);
  for (let round = 1; round <= rounds; round++) {
    const wsx = await measure("wsx", requests);
    const fetchLike = await measure("node:http+fetch", requests);
    const node = await measure("node:http", requests);
    const native = process.versions.bun ? await measure("Bun.serve", requests) : undefined;
    const bunServe = native === undefined
      ? ""
      : `, Bun.serve ${native.toFixed(1)} (wsx ${(wsx / native).toFixed(2)}x)`;
    console.log(
      `round ${round}: wsx ${wsx.toFixed(1)}, node:http with Request/Response ${
        fetchLike.toFixed(1)
      } (wsx ${(wsx / fetchLike).toFixed(2)}x), plain node:http ${node.toFixed(1)} (wsx ${
        (wsx / node).toFixed(2)
      }x)${bunServe}`,
    );
  }
}
