/**
 * The runtime's own clients over TLS, for tls_test.ts: `fetch` and `WebSocket` against
 * `https://127.0.0.1:PORT` trusting the test CA (Deno: `--cert` on its command line;
 * Bun: the `tls.ca` option of its `fetch` and `WebSocket`). Prints one `RESULT {...}` line.
 *
 * Usage: `<runtime> tls_client.ts PORT CA_FILE`
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";

const [port, caFile] = process.argv.slice(2);
const ca = readFileSync(caFile, "utf8");
// Bun takes the CA per request; Deno takes it from --cert.
const tls = "Bun" in globalThis ? { tls: { ca } } : undefined;

const body = await (await fetch(`https://127.0.0.1:${port}/`, tls as RequestInit)).text();
const messages = await new Promise<string[]>((resolve, reject) => {
  const WebSocketWithTls = WebSocket as unknown as new (url: string, options: unknown) => WebSocket;
  const ws = new WebSocketWithTls(`wss://127.0.0.1:${port}/ws/echo`, tls);
  const got: string[] = [];
  const timer = setTimeout(() => reject(new Error(`no echo, got ${JSON.stringify(got)}`)), 5000);
  ws.onmessage = (event) => {
    got.push(String(event.data));
    if (got.length === 1) ws.send("hello over tls");
    else {
      clearTimeout(timer);
      ws.close();
      resolve(got);
    }
  };
  ws.onerror = (event) => reject(new Error(`WebSocket error: ${(event as ErrorEvent).message}`));
});
console.log(`RESULT ${JSON.stringify({ body, messages })}`);
