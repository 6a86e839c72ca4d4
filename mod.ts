/**
 * wsx: one WebSocket API for Deno, Bun and Node.js, after facil.io's Websocket
 * extension. This entry point is runtime-free: settings, `upgrade`, the connection
 * handle, `each` and `count`. Start a server with the adapter of your runtime.
 *
 * @example Quick start on Deno
 * ```ts
 * import { Websocket } from "@wsx/wsx";
 * import { serve } from "@wsx/wsx/deno";
 *
 * await serve({
 *   port: 8080,
 *   onRequest: (req) =>
 *     req.headers.get("upgrade") === "websocket"
 *       ? Websocket.upgrade(req, { onMessage: (ws, data, isText) => ws.write(data, isText) })
 *       : new Response("Hello World!"),
 * });
 * ```
 *
 * @example Quick start on Bun
 * ```ts
 * import { Websocket } from "@wsx/wsx";
 * import { serve } from "@wsx/wsx/bun";
 *
 * await serve({
 *   port: 8080,
 *   onRequest: (req) => Websocket.upgrade(req, { onMessage: (ws, data) => ws.write(data) }),
 * });
 * ```
 *
 * @example Quick start on Node.js
 * ```ts
 * import { Websocket } from "@wsx/wsx";
 * import { serve } from "@wsx/wsx/node";
 *
 * await serve({
 *   port: 8080,
 *   onRequest: (req) => Websocket.upgrade(req, { onMessage: (ws, data) => ws.write(data) }),
 * });
 * ```
 *
 * @module
 */

export { Websocket, type WebsocketGlobal, websocketUpgrade } from "./src/core/websocket.ts";
export { upgrade } from "./src/core/upgrade.ts";
export { count, each } from "./src/core/each.ts";
export {
  broadcast,
  clusterCount,
  type Deliver,
  InProcessEngine,
  PROCESS_ID,
  publish,
  type PubSubEngine,
  type PubSubMessage,
  setPubSubEngine,
} from "./src/core/topics.ts";
export {
  configure,
  DEFAULT_SETTINGS,
  resetSettings,
  type Settings,
  settings,
} from "./src/core/settings.ts";
export { WebSocketConnection, type WriteOptions } from "./src/core/connection.ts";
export type { MessageData, SendData } from "./src/core/data.ts";
export { type ErrorReporter, setErrorReporter } from "./src/core/report.ts";
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
export { ERRORS, WsxError, type WsxErrorCode } from "./src/errors.ts";
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
