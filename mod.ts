/**
 * wsx: one WebSocket API for Deno, Bun and Node.js, after facil.io's Websocket
 * extension. This entry point is runtime-free: settings, `upgrade`, the connection
 * handle, `each` and `count`, pub/sub. Start a server with the adapter of your runtime
 * (`@wsx/wsx/deno`, `@wsx/wsx/bun`, `@wsx/wsx/node`) or with `@wsx/wsx/serve`, which
 * picks it.
 *
 * One canonical way per operation:
 *
 * | operation                 | canonical                                   |
 * | ------------------------- | ------------------------------------------- |
 * | accept a WebSocket        | `upgrade(request, settings)`                |
 * | change settings           | `configure({ maxMsgSize, timeout, ... })`   |
 * | read settings             | `settings.maxMsgSize`, ...                  |
 * | send, close, user data    | the handle's methods: `ws.write(...)`, ...  |
 * | visit / count connections | `each(...)`, `count()`                      |
 * | pub/sub                   | `ws.subscribe`, `publish`, `broadcast`      |
 *
 * The seed's names stay, gathered in one facade (src/core/websocket.ts): the global
 * `Websocket` object (`Websocket.upgrade`, `Websocket.maxMsgSize = n`,
 * `Websocket.write(ws, ...)`, ...) and `websocketUpgrade`. Each is the seed's name for
 * the canonical function and does exactly what it does.
 *
 * @example Quick start on Deno
 * ```ts
 * import { configure, upgrade } from "@wsx/wsx";
 * import { serve } from "@wsx/wsx/deno";
 *
 * configure({ maxMsgSize: 1 << 20 });
 * await serve({
 *   port: 8080,
 *   onRequest: (req) =>
 *     req.headers.get("upgrade") === "websocket"
 *       ? upgrade(req, { onMessage: (ws, data, isText) => ws.write(data, isText) })
 *       : new Response("Hello World!"),
 * });
 * ```
 *
 * @example Quick start on Bun
 * ```ts
 * import { upgrade } from "@wsx/wsx";
 * import { serve } from "@wsx/wsx/bun";
 *
 * await serve({
 *   port: 8080,
 *   onRequest: (req) => upgrade(req, { onMessage: (ws, data) => ws.write(data) }),
 * });
 * ```
 *
 * @example Quick start on Node.js
 * ```ts
 * import { upgrade } from "@wsx/wsx";
 * import { serve } from "@wsx/wsx/node";
 *
 * await serve({
 *   port: 8080,
 *   onRequest: (req) => upgrade(req, { onMessage: (ws, data) => ws.write(data) }),
 * });
 * ```
 *
 * @example The seed's names, as in facil.io's Hello World
 * ```ts
 * import { Websocket } from "@wsx/wsx";
 * import { serve } from "@wsx/wsx/serve";
 *
 * Websocket.maxMsgSize = 1 << 20;
 * await serve({
 *   port: 8080,
 *   onRequest: (req) => Websocket.upgrade(req, { onMessage: (ws, data) => ws.write(data) }),
 * });
 * ```
 *
 * @module
 */

// ---- The canonical API ----
export { upgrade } from "./src/core/upgrade.ts";
export {
  configure,
  DEFAULT_SETTINGS,
  resetSettings,
  type Settings,
  settings,
} from "./src/core/settings.ts";
export { WebSocketConnection, type WriteOptions } from "./src/core/connection.ts";
export { count, each } from "./src/core/each.ts";
export { broadcast, clusterCount, publish } from "./src/core/topics.ts";
export { type ErrorReporter, setErrorReporter } from "./src/core/report.ts";
export { ERRORS, WsxError, type WsxErrorCode } from "./src/errors.ts";

// ---- The seed's names for the same operations, in one facade ----
export { Websocket, type WebsocketGlobal, websocketUpgrade } from "./src/core/websocket.ts";

// ---- Pub/sub engines: what an engine implements (src/pubsub/redis.ts is one) ----
export {
  type Deliver,
  InProcessEngine,
  PROCESS_ID,
  type PubSubEngine,
  type PubSubMessage,
  setPubSubEngine,
} from "./src/core/topics.ts";

// ---- Types of the API above ----
export type { MessageData, SendData } from "./src/core/data.ts";
export type {
  ProcessInfo,
  ServeOptions,
  ServerCapabilities,
  ServeTransport,
  TlsOptions,
  WsxServer,
} from "./src/core/server.ts";
export type { ShutdownOptions } from "./src/core/group.ts";
export type { ServerStats } from "./src/core/stats.ts";
export type {
  Cookie,
  HeadersLike,
  MessageStart,
  PerMessageDeflate,
  PerMessageDeflateOptions,
  UpgradeSettings,
  WebSocketHandlers,
  WriteResult,
} from "./src/types.ts";
export type { Capabilities } from "./src/core/transport.ts";
