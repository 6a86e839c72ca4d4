/**
 * Helpers of the TLS tests (tls_test.ts, tls_limits_test.ts): the TLS fixture server
 * (tls_fixture.ts) on the runtime and transport under test, and clients from Node.js.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { get } from "node:https";
import { connect as tcpConnect, createServer as createTcpServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import type { TestCerts } from "./_certs.ts";
import { commandFor, runtime, transport } from "./_harness.ts";

export const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
export const root: string = here("../../");

export interface TlsServer {
  readonly port: number;
  /** `server.capabilities.handshakeTimeout` of the running server. */
  readonly handshakeTimeout: string;
  stop(): Promise<void>;
}

/** Starts tls_fixture.ts with the leaf of `certs` and a head timeout of `headTimeoutMs`. */
export async function startTls(
  certs: TestCerts,
  headTimeoutMs: number,
  env: Record<string, string> = {},
): Promise<TlsServer> {
  const [cmd, args] = commandFor(runtime, here("./tls_fixture.ts"));
  const child: ChildProcess = spawn(cmd, args, {
    cwd: root,
    env: {
      ...process.env,
      TLS_CERT: certs.certPath,
      TLS_KEY: certs.keyPath,
      WSX_TLS_TRANSPORT: transport,
      WSX_HEAD_TIMEOUT_MS: String(headTimeoutMs),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => stderr += chunk);
  const ready = await new Promise<{ port: number; handshakeTimeout: string }>(
    (resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no READY: ${stderr}`)), 20_000);
      child.once("exit", (code) => {
        // A server that refuses to start must not leave its 20 s timer holding this process.
        clearTimeout(timer);
        reject(new Error(`exited ${code}: ${stderr}`));
      });
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (!line.startsWith("READY ")) return;
        clearTimeout(timer);
        const ready = JSON.parse(line.slice(6));
        // The transport asked for is the one that runs.
        if (ready.transport !== transport) reject(new Error(`got ${ready.transport}`));
        resolve(ready);
      });
    },
  );
  return {
    port: ready.port,
    handshakeTimeout: ready.handshakeTimeout,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** GET over HTTPS trusting the test CA; resolves with the body. */
export function httpsGet(certs: TestCerts, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path, ca: certs.ca }, (response) => {
      let body = "";
      response.on("data", (chunk) => body += chunk);
      response.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

/**
 * Opens wss://.../ws/echo with `ws`, sends one message; the server's first message tells
 * what the handle saw.
 */
export async function wssEcho(
  certs: TestCerts,
  port: number,
): Promise<{ opened: { secure: boolean; url: string }; echo: string }> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws/echo`, { ca: certs.ca });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (data) => {
      got.push(String(data));
      if (got.length === 1) ws.send("ping over tls");
      else resolve();
    });
  });
  ws.close();
  return { opened: JSON.parse(got[0]), echo: got[1] };
}

/** The first bytes a real TLS client sends: its ClientHello, caught by a TCP server. */
export function clientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const catcher = createTcpServer((socket) => {
      socket.once("data", (chunk: Buffer) => {
        socket.destroy();
        catcher.close();
        resolve(chunk);
      });
    });
    catcher.listen(0, "127.0.0.1", () => {
      const { port } = catcher.address() as { port: number };
      tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }).on("error", () => {});
    }).on("error", reject);
  });
}

/**
 * Opens a TCP connection, sends `bytes` (if any; with `byteEveryMs`, one byte at a time),
 * and waits for the server to close it. Resolves with how long that took and what the
 * server sent.
 */
export function heldFor(
  port: number,
  bytes?: Uint8Array,
  byteEveryMs?: number,
): Promise<{ ms: number; got: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let timer: ReturnType<typeof setInterval> | undefined;
    const socket = tcpConnect(port, "127.0.0.1", () => {
      if (bytes === undefined) return;
      if (byteEveryMs === undefined) return void socket.write(bytes);
      // A byte at a time (slowloris on the handshake).
      let sent = 0;
      timer = setInterval(() => {
        if (sent < bytes.length && socket.writable) socket.write(bytes.subarray(sent, ++sent));
      }, byteEveryMs);
    });
    socket.on("error", () => {});
    socket.once("close", () => clearInterval(timer));
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.once("close", () => {
      resolve({ ms: Date.now() - started, got: Buffer.concat(received).toString("latin1") });
    });
  });
}
