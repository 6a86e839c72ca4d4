/**
 * The seed's names, gathered in one facade: the global `Websocket` object and
 * `websocketUpgrade` (facil.io's `websocket_upgrade`). Every one is the seed's name for a
 * canonical function of `mod.ts` and does exactly what it does, so code written for the
 * seed keeps working:
 *
 * | the seed's name                          | canonical                               |
 * | ---------------------------------------- | --------------------------------------- |
 * | `Websocket.upgrade`, `websocketUpgrade`  | `upgrade(request, settings)`            |
 * | `Websocket.maxMsgSize = n` (any setting) | `configure({ maxMsgSize: n })`          |
 * | `Websocket.configure`                    | `configure`                             |
 * | `Websocket.each`, `Websocket.count`      | `each`, `count`                         |
 * | `Websocket.broadcast`, `.publish`, `.clusterCount` | `broadcast`, `publish`, `clusterCount` |
 * | `Websocket.write(ws, ...)` and the other handle functions | `ws.write(...)`, the handle's methods |
 *
 * Reading a setting: `settings.maxMsgSize` (or `Websocket.maxMsgSize`). Assigning
 * `settings.maxMsgSize = n` validates as `configure` does and is kept for the seed.
 *
 * @module
 */

import type { SendData } from "./data.ts";
import type { WriteResult } from "./transport.ts";
import type { UpgradeSettings } from "../types.ts";
import type { WebSocketConnection, WriteOptions } from "./connection.ts";
import { count, each } from "./each.ts";
import { configure, type Settings, settings } from "./settings.ts";
import type { PerMessageDeflate } from "./deflate_options.ts";
import { broadcast, clusterCount, publish } from "./topics.ts";
import { upgrade } from "./upgrade.ts";

/**
 * The shape of the global {@linkcode Websocket} object.
 *
 * @example
 * ```ts
 * import type { WebsocketGlobal } from "./websocket.ts";
 * ```
 */
export interface WebsocketGlobal extends Settings {
  /** Sets several settings at once, all validated first. */
  configure(changes: Partial<Settings>): void;
  /** Upgrades a request; see {@linkcode upgrade}. */
  upgrade<U = unknown>(request: Request, settings: UpgradeSettings<U>): Response;
  /** `ws.write(data, isText, options)`. */
  write(
    ws: WebSocketConnection<unknown>,
    data: SendData,
    isText?: boolean,
    options?: WriteOptions,
  ): WriteResult;
  /** `ws.close(code, reason)`. */
  close(ws: WebSocketConnection<unknown>, code?: number, reason?: string): void;
  /** `ws.getUdata()`. */
  getUdata<U>(ws: WebSocketConnection<U>): U;
  /** `ws.setUdata(udata)`: returns the old user data. */
  setUdata<U>(ws: WebSocketConnection<U>, udata: U): U;
  /** `ws.getUuid()`. */
  getUuid(ws: WebSocketConnection<unknown>): number;
  /** `ws.getServer()`. */
  getServer(ws: WebSocketConnection<unknown>): unknown;
  /** `ws.terminate()`. */
  terminate(ws: WebSocketConnection<unknown>): void;
  /** `ws.subscribe(topic)`: `false` when already subscribed (or not open). */
  subscribe(ws: WebSocketConnection<unknown>, topic: string): boolean;
  /** `ws.unsubscribe(topic)`: `false` when it was not subscribed. */
  unsubscribe(ws: WebSocketConnection<unknown>, topic: string): boolean;
  /** `ws.isSubscribed(topic)`. */
  isSubscribed(ws: WebSocketConnection<unknown>, topic: string): boolean;
  /** Runs a task for every open connection but the originator; see {@linkcode each}. */
  each<A>(
    originator: WebSocketConnection<unknown> | null,
    task: (target: WebSocketConnection<unknown>, arg: A) => void,
    arg: A,
    onFinish?: (originator: WebSocketConnection<unknown> | null, arg: A) => void,
  ): Promise<number>;
  /** Open connections in the process. */
  count(): number;
  /** Sends to every connection of the process but the originator; see {@linkcode broadcast}. */
  broadcast(
    originator: WebSocketConnection<unknown> | null,
    data: SendData,
    isText?: boolean,
  ): number;
  /**
   * Publishes to a topic in every process sharing the engine; see {@linkcode publish}.
   * Unlike the other functions it takes no handle: for `ws.publish(...)`, call the method.
   */
  publish(topic: string, data: SendData, isText?: boolean, exclude?: number): void;
  /** Open connections in every process sharing the engine; see {@linkcode clusterCount}. */
  clusterCount(): Promise<number>;
}

/**
 * The seed's `Websocket` object: the settings (validated on assignment; the seed's name
 * for `configure`), `upgrade`, `write`, `close`, `terminate`, `getUdata`, `setUdata`,
 * `getUuid`, `getServer`, `subscribe`, `unsubscribe`, `isSubscribed`, `each` and
 * `count`, plus `broadcast`, `publish` and `clusterCount` of the topics module. Each is
 * the seed's name for the canonical function or handle method of the same name.
 *
 * @example
 * ```ts
 * import { Websocket } from "./websocket.ts";
 * Websocket.maxMsgSize = 1 << 20;
 * Websocket.timeout = 30;
 * console.log(Websocket.count());
 * ```
 */
export const Websocket: WebsocketGlobal = Object.freeze<WebsocketGlobal>({
  get maxMsgSize(): number {
    return settings.maxMsgSize;
  },
  set maxMsgSize(value: number) {
    settings.maxMsgSize = value;
  },
  get timeout(): number {
    return settings.timeout;
  },
  set timeout(value: number) {
    settings.timeout = value;
  },
  get pongTimeout(): number {
    return settings.pongTimeout;
  },
  set pongTimeout(value: number) {
    settings.pongTimeout = value;
  },
  get maxBufferedBytes(): number {
    return settings.maxBufferedBytes;
  },
  set maxBufferedBytes(value: number) {
    settings.maxBufferedBytes = value;
  },
  get backpressure(): "close" | "drop" {
    return settings.backpressure;
  },
  set backpressure(value: "close" | "drop") {
    settings.backpressure = value;
  },
  get perMessageDeflate(): PerMessageDeflate {
    return settings.perMessageDeflate;
  },
  set perMessageDeflate(value: PerMessageDeflate) {
    settings.perMessageDeflate = value;
  },
  get maxStreamSize(): number {
    return settings.maxStreamSize;
  },
  set maxStreamSize(value: number) {
    settings.maxStreamSize = value;
  },
  get streamTimeout(): number {
    return settings.streamTimeout;
  },
  set streamTimeout(value: number) {
    settings.streamTimeout = value;
  },
  configure,
  upgrade,
  write: (ws, data, isText, options) => ws.write(data, isText, options),
  close: (ws, code, reason) => ws.close(code, reason),
  getUdata: (ws) => ws.getUdata(),
  setUdata: (ws, udata) => ws.setUdata(udata),
  getUuid: (ws) => ws.getUuid(),
  getServer: (ws) => ws.getServer(),
  terminate: (ws) => ws.terminate(),
  subscribe: (ws, topic) => ws.subscribe(topic),
  unsubscribe: (ws, topic) => ws.unsubscribe(topic),
  isSubscribed: (ws, topic) => ws.isSubscribed(topic),
  each,
  count,
  broadcast,
  publish,
  clusterCount,
});

/**
 * The seed's `websocket_upgrade(request, settings)`: the seed's name for
 * {@linkcode upgrade}, which it calls.
 *
 * @typeParam U The type of the user data.
 * @param request The request.
 * @param upgradeSettings Handlers, user data, headers and cookies.
 * @returns The response the request handler must return.
 * @example
 * ```ts
 * import { websocketUpgrade } from "./websocket.ts";
 * const onRequest = (req: Request) => websocketUpgrade(req, { onMessage: (ws, d) => ws.write(d) });
 * ```
 */
export function websocketUpgrade<U = unknown>(
  request: Request,
  upgradeSettings: UpgradeSettings<U>,
): Response {
  return upgrade(request, upgradeSettings);
}
