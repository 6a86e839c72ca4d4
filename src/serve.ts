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

/**
 * Starts the runtime's own HTTP server with wsx upgrades: the seed's `start_http_server`.
 *
 * @param options Port, hostname and the request handler.
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
