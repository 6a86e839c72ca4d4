/**
 * The check of an upgrade request
 * ([RFC 6455 section 4.2.1](https://www.rfc-editor.org/rfc/rfc6455#section-4.2.1)), the
 * part of the opening handshake that does not depend on how a runtime answers it: the
 * core's `upgrade()` and the engine both read it from here. Pure.
 *
 * @module
 */

import { listElements, listsToken, TOKEN, trimOws } from "./tokens.ts";

/**
 * Reads one request header by lower-case name: `null` when absent, repeated headers
 * joined with `", "`.
 *
 * @example With Node's `IncomingMessage`
 * ```ts
 * import type { IncomingMessage } from "node:http";
 * import type { HeaderGetter } from "./handshake.ts";
 * const getter = (req: IncomingMessage): HeaderGetter => (name) => {
 *   const v = req.headers[name];
 *   return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
 * };
 * ```
 */
export type HeaderGetter = (name: string) => string | null;

/**
 * Response headers as `[name, value]` pairs, so a name may repeat (`Set-Cookie`).
 *
 * @example Send two cookies
 * ```ts
 * import type { HeaderList } from "./handshake.ts";
 * const headers: HeaderList = [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]];
 * ```
 */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

/**
 * The verdict on an upgrade request: accepted with the client's key and offered
 * subprotocols, or refused with the status, reason and headers to answer with.
 *
 * @example Describe a verdict
 * ```ts
 * import type { UpgradeCheck } from "./handshake.ts";
 * const describe = (c: UpgradeCheck): string => c.ok ? `key ${c.key}` : `${c.status} ${c.reason}`;
 * ```
 */
export type UpgradeCheck =
  | { readonly ok: true; readonly key: string; readonly protocols: readonly string[] }
  | {
    readonly ok: false;
    readonly status: number;
    readonly reason: string;
    readonly headers: HeaderList;
  };

// 16 random bytes in base64: 22 significant characters and "==" (RFC 6455 section 4.1).
const KEY = /^[A-Za-z0-9+/]{22}==$/;

const NONE_OFFERED: readonly string[] = Object.freeze([]);

/**
 * Whether a `Sec-WebSocket-Key` value, trimmed, is 16 bytes in base64, as
 * {@linkcode checkUpgrade} asks.
 *
 * @param key The value, without surrounding whitespace.
 * @returns `true` for a valid key.
 * @example
 * ```ts
 * import { isValidKey } from "./handshake.ts";
 * console.log(isValidKey("dGhlIHNhbXBsZSBub25jZQ==")); // true
 * ```
 */
export function isValidKey(key: string): boolean {
  return key.length === 24 && KEY.test(key);
}

function refuse(status: number, reason: string, headers: HeaderList = []): UpgradeCheck {
  return { ok: false, status, reason, headers };
}

/**
 * Checks an upgrade request against
 * [RFC 6455 section 4.2.1](https://www.rfc-editor.org/rfc/rfc6455#section-4.2.1): method
 * `GET`, `Upgrade` with the token `websocket`, `Connection` with the token `upgrade`
 * (any case, among other tokens), a `Sec-WebSocket-Key` of 16 bytes in base64, and
 * `Sec-WebSocket-Version: 13`; any other version is refused with 426 and the version
 * this server speaks (section 4.4).
 *
 * @param method The request method.
 * @param header Reads a request header by lower-case name.
 * @returns The verdict; never throws, whatever the headers hold.
 *
 * @example Check a valid request
 * ```ts
 * import { checkUpgrade } from "./handshake.ts";
 * const headers: Record<string, string> = {
 *   upgrade: "websocket", connection: "keep-alive, Upgrade",
 *   "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13",
 * };
 * console.log(checkUpgrade("GET", (name) => headers[name] ?? null));
 * // { ok: true, key: "dGhlIHNhbXBsZSBub25jZQ==", protocols: [] }
 * ```
 */
export function checkUpgrade(method: string, header: HeaderGetter): UpgradeCheck {
  if (method !== "GET") {
    return refuse(405, "Method not allowed: a WebSocket upgrade must be a GET", [["Allow", "GET"]]);
  }
  if (!listsToken(header("upgrade"), "websocket")) {
    return refuse(400, 'Invalid Upgrade header: expected "websocket"');
  }
  if (!listsToken(header("connection"), "upgrade")) {
    return refuse(400, 'Invalid Connection header: expected "upgrade"');
  }
  const rawKey = header("sec-websocket-key");
  // A key of 24 characters has no whitespace to trim and pass KEY (the usual request):
  // the trimming runs only when the length is off.
  const key = rawKey === null ? "" : rawKey.length === 24 ? rawKey : trimOws(rawKey);
  if (!isValidKey(key)) {
    return refuse(400, "Invalid Sec-WebSocket-Key header: expected 16 bytes in base64");
  }
  const version = header("sec-websocket-version");
  if (version !== "13" && (version === null || trimOws(version) !== "13")) {
    return refuse(426, 'Unsupported Sec-WebSocket-Version: expected "13"', [[
      "Sec-WebSocket-Version",
      "13",
    ]]);
  }
  const offered = header("sec-websocket-protocol");
  // Most requests offer no subprotocol: one shared empty list, no closure per request.
  if (offered === null) return { ok: true, key, protocols: NONE_OFFERED };
  const protocols = listElements(offered);
  for (const protocol of protocols) {
    if (!TOKEN.test(protocol)) {
      return refuse(400, "Invalid Sec-WebSocket-Protocol header: expected tokens");
    }
  }
  return { ok: true, key, protocols };
}
