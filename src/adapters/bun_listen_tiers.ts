/**
 * Keeps the code a connection runs once, at its handshake, out of JavaScriptCore's top
 * tier (FTL) when wsx's engine runs on `Bun.listen` (`bun_listen.ts`).
 *
 * Every function of the handshake path runs once per connection, so a server that
 * accepts thousands of connections calls each of them thousands of times, and
 * JavaScriptCore compiles them all again with FTL, its slowest compiler, on threads that
 * share the CPU with the server while those connections open. That compile gains next to
 * nothing on code run once per connection (the DFG tier below it stays), and cost a
 * fresh server about as much CPU per handshake as the rest of wsx's JavaScript
 * (bench/README.md, section `listenhs`).
 * Bun's `noFTL` (`bun:jsc`) marks a function's code as never to be compiled by FTL; the
 * per-message path (reads, frames, writes) is not listed and keeps every tier.
 *
 * @module
 */

import process from "node:process";
import { ConnectionDriver } from "../core/driver.ts";
import { capture } from "../core/driver_state.ts";
import { ServerGroup } from "../core/group.ts";
import { Registry } from "../core/registry.ts";
import { Heartbeat } from "../core/heartbeat.ts";
import { isUpgradedResponse, planUpgrade, upgrade } from "../core/upgrade.ts";
import { deflateConfigOf } from "../core/deflate_options.ts";
import { isValidKey } from "../core/protocol/handshake.ts";
import { validFieldValue } from "../core/protocol/responses.ts";
import { agreeDeflate } from "../rfc6455/deflate/session.ts";
import { acceptValue, buildAcceptResponse } from "../rfc6455/handshake.ts";
import { configFor } from "../rfc6455/socket_config.ts";
import { NodeWebSocket } from "../rfc6455/socket.ts";
import { fieldName, parseUpgradeHead } from "./node_head_parser.ts";
import { lazyEmptyResponse } from "./node_lazy.ts";
import { SocketEvents } from "./bun_listen_events.ts";
import { headFields, LazyRequest, lazyRequest, requestUrl, takeUpgrade } from "./node_request.ts";
import { handleUpgrade, NodeUpgrader } from "./node_upgrade.ts";
import { ListenSocket } from "./bun_listen_socket.ts";
import { HeadQueue } from "./bun_listen_heads.ts";

// deno-lint-ignore ban-types
type AnyFunction = Function;

type Methods = Record<string, AnyFunction>;

interface BunJsc {
  noFTL(fn: AnyFunction): AnyFunction;
}

// The functions a connection runs once, at its handshake: nothing a message, a write, a
// close or each plain HTTP request runs (those keep FTL; `listsToken`, which the head
// parser calls, also reads every plain request's `Connection`).
const HANDSHAKE_PATH: readonly AnyFunction[] = [
  ListenSocket,
  SocketEvents.prototype.on,
  HeadQueue.prototype.waiting,
  parseUpgradeHead,
  fieldName,
  handleUpgrade,
  requestUrl,
  lazyRequest,
  LazyRequest,
  LazyRequest.take,
  LazyRequest.fields,
  LazyRequest.mark,
  LazyRequest.marked,
  takeUpgrade,
  headFields,
  upgrade,
  planUpgrade,
  NodeUpgrader.prototype.accept,
  NodeUpgrader.prototype.checked,
  isUpgradedResponse,
  isValidKey,
  agreeDeflate,
  deflateConfigOf,
  acceptValue,
  buildAcceptResponse,
  validFieldValue,
  lazyEmptyResponse,
  ConnectionDriver,
  capture,
  ConnectionDriver.prototype.bind,
  ConnectionDriver.prototype.open,
  (ConnectionDriver.prototype as unknown as Methods).startHeartbeat,
  Heartbeat.prototype.pin,
  Registry.prototype.add,
  ServerGroup.prototype.add,
  NodeWebSocket,
  configFor,
  NodeWebSocket.prototype.greet,
  NodeWebSocket.prototype.start,
  // The engine's own start (protected there).
  (NodeWebSocket.prototype as unknown as Methods).listen,
  (NodeWebSocket.prototype as unknown as Methods).release,
  Object.getOwnPropertyDescriptor(ListenSocket.prototype, "allowHalfOpen")!.set!,
];

let done = false;

// `bun:jsc`, loaded without an import statement, which no other runtime could resolve.
function bunJsc(): BunJsc | undefined {
  const runtime = process as { getBuiltinModule?(id: string): unknown };
  try {
    const jsc = runtime.getBuiltinModule?.("bun:jsc") as Partial<BunJsc> | undefined;
    return typeof jsc?.noFTL === "function" ? jsc as BunJsc : undefined;
  } catch {
    // A Bun without `bun:jsc`: every tier stays, as before.
    return undefined;
  }
}

/**
 * Marks the handshake path, and `more` (the listener's own handlers run once per
 * connection), as never to be compiled by FTL. Once per process; does nothing where
 * `bun:jsc` is missing.
 *
 * @param more Other functions run once per connection.
 * @example
 * ```ts
 * import { keepHandshakeOutOfFtl } from "./bun_listen_tiers.ts";
 * keepHandshakeOutOfFtl([]);
 * ```
 */
export function keepHandshakeOutOfFtl(more: readonly AnyFunction[]): void {
  if (done) return;
  done = true;
  const jsc = bunJsc();
  if (jsc === undefined) return;
  // The constructors a connection's objects run up their class chains, too.
  const chains: AnyFunction[] = [];
  for (const leaf of [ConnectionDriver, NodeWebSocket, ListenSocket]) {
    let c = Object.getPrototypeOf(leaf);
    for (; c !== Function.prototype; c = Object.getPrototypeOf(c)) chains.push(c);
  }
  try {
    for (const fn of [...HANDSHAKE_PATH, ...chains, ...more]) jsc.noFTL(fn);
  } catch {
    // A hint only: a Bun whose noFTL refuses one of them serves as it would without.
  }
}
