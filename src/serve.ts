/**
 * `serve()` for code that runs unchanged on every runtime, such as the seed's Hello
 * World: it loads the adapter of the runtime it finds.
 *
 * @example Hello World on any runtime
 * ```ts
 * import { serve } from "./serve.ts";
 * const server = await serve({ port: 0, onRequest: () => new Response("Hello World!") });
 * await server.shutdown();
 * ```
 *
 * @module
 */

import type { ServeOptions, WsxServer } from "./core/server.ts";
import { detectRuntime } from "./runtime.ts";

export type { ServeOptions, ServeTransport, WsxServer } from "./core/server.ts";
// Which runtime this is, for code that picks an adapter itself (examples/hono.ts).
export { detectRuntime, type RuntimeName } from "./runtime.ts";

/**
 * Starts an HTTP server with wsx upgrades: the seed's `start_http_server`. It runs wsx's
 * engine on every runtime: over the runtime's `node:http` on Node.js and Deno, on Bun's
 * own TCP sockets (`Bun.listen`) on Bun. `transport: "native"` runs the runtime's own
 * WebSocket server instead on Deno and Bun (Node.js has only the engine).
 *
 * @param options Port, hostname, the request handler and the transport.
 * @returns The running server, once it listens.
 * @example
 * ```ts
 * import { serve } from "./serve.ts";
 * const server = await serve({ port: 0, onRequest: () => new Response("Hello World!") });
 * console.log(server.port);
 * await server.shutdown();
 * ```
 */
export async function serve(options: ServeOptions): Promise<WsxServer> {
  switch (detectRuntime()) {
    case "deno":
      return (await import("./adapters/deno.ts")).serve(options);
    case "bun":
      return (await import("./adapters/bun.ts")).serve(options);
    case "node":
      return (await import("./adapters/node.ts")).serve(options);
  }
}
