/**
 * The public vocabulary of wsx: handlers, upgrade settings, cookies and close info.
 *
 * @module
 */

import type { WebSocketConnection } from "./core/connection.ts";
import type { PerMessageDeflate } from "./core/deflate_options.ts";

export type { PerMessageDeflate, PerMessageDeflateOptions } from "./core/deflate_options.ts";
import type { MessageStart } from "./core/transport.ts";

export type { MessageStart, WriteResult } from "./core/transport.ts";

/**
 * A cookie to set on the 101 response of an upgrade.
 *
 * @example
 * ```ts
 * import type { Cookie } from "./types.ts";
 * const session: Cookie = { name: "sid", value: "abc", httpOnly: true, sameSite: "Lax" };
 * ```
 */
export interface Cookie {
  /** Cookie name: an RFC 6265 token. */
  readonly name: string;
  /** Cookie value: no control characters, spaces, quotes, commas, semicolons or backslashes. */
  readonly value: string;
  /** `Path` attribute. */
  readonly path?: string;
  /** `Domain` attribute. */
  readonly domain?: string;
  /** `Max-Age` attribute, in whole seconds. */
  readonly maxAgeSeconds?: number;
  /** `Expires` attribute. */
  readonly expires?: Date;
  /** `HttpOnly` attribute. */
  readonly httpOnly?: boolean;
  /** `Secure` attribute. */
  readonly secure?: boolean;
  /** `SameSite` attribute. */
  readonly sameSite?: "Strict" | "Lax" | "None";
}

/**
 * The callbacks of one connection. The same handle object reaches every callback of its
 * life; `onMessage` never runs before `onOpen` has returned (or, when it returns a
 * promise, settled); `onClose` runs exactly once for every `onOpen`.
 *
 * @typeParam U The type of the connection's user data.
 * @example An echo server's handlers
 * ```ts
 * import type { WebSocketHandlers } from "./types.ts";
 * const echo: WebSocketHandlers = {
 *   onMessage(ws, data, isText) { ws.write(data, isText); },
 * };
 * ```
 */
export interface WebSocketHandlers<U = unknown> {
  /** The connection is open. A returned promise holds back messages until it settles. */
  onOpen?: (ws: WebSocketConnection<U>) => void | Promise<void>;
  /** A whole message: a string when `isText`, otherwise an exact `Uint8Array` view. */
  onMessage?: (ws: WebSocketConnection<U>, data: string | Uint8Array, isText: boolean) => void;
  /** The server is shutting down; runs before the close frame is sent and before `onClose`. */
  onShutdown?: (ws: WebSocketConnection<U>) => void;
  /** The connection ended, with the close code and reason (1005 without a code, 1006 when abnormal). */
  onClose?: (ws: WebSocketConnection<U>, code: number, reason: string) => void;
  /** The outbound queue emptied after a write returned `"queued"`. */
  onDrain?: (ws: WebSocketConnection<U>) => void;
  /**
   * A message taken as a stream while it arrives, instead of whole through `onMessage`
   * (which `streamWhen` decides). The stream gives the payload's bytes in order (text as
   * UTF-8, never cut inside a code point) and ends when the message does; it errors with
   * a `WsxError` of code `"stream-interrupted"` when the connection closes first.
   * While it is not read, the connection stops reading; left unread for `streamTimeout`
   * seconds, it errors and the connection closes with 1011. Cancelling it discards the
   * rest of the message and keeps the connection open. `maxStreamSize` limits its size
   * (1009 past it), not `maxMsgSize`. Where the transport cannot stream
   * (`ws.capabilities.streaming` false: `transport: "native"`, an app's own `Deno.serve`
   * or `Bun.serve`), the message arrives whole, within `maxMsgSize`, as a stream of one chunk. A throw, or a
   * returned promise that rejects, is reported and closes the connection with 1011.
   *
   * @example Hash every binary message as it arrives
   * ```ts
   * import { createHash } from "node:crypto";
   * import type { WebSocketHandlers } from "./types.ts";
   * const handlers: WebSocketHandlers = {
   *   streamWhen: (info) => !info.isText,
   *   async onStream(ws, stream) {
   *     const hash = createHash("sha256");
   *     for await (const chunk of stream) hash.update(chunk);
   *     ws.write(hash.digest("hex"));
   *   },
   * };
   * ```
   */
  onStream?: (
    ws: WebSocketConnection<U>,
    stream: ReadableStream<Uint8Array>,
    isText: boolean,
  ) => void | Promise<void>;
  /**
   * Chooses, from the header of a message's first frame, whether `onStream` takes it;
   * `onMessage` gets it whole otherwise. Without it, `onStream` takes every message.
   * For a fragmented message (`fin` false), `length` is that of the first frame only.
   * A compressed message (permessage-deflate) is offered with `compressed` true and
   * `length` its compressed size; streamed, it is inflated as it arrives.
   * Messages that arrive while an async `onOpen` runs are held whole (within
   * `maxMsgSize`) and offered once it settles, seen whole (`fin` true, their full length).
   */
  streamWhen?: (info: MessageStart) => boolean;
}

/**
 * Headers for the 101 response: a `Headers` object, a list of pairs (repeat a name to
 * send it several times, as for `Set-Cookie`) or a record.
 *
 * @example
 * ```ts
 * import type { HeadersLike } from "./types.ts";
 * const h: HeadersLike = [["set-cookie", "a=1"], ["set-cookie", "b=2"]];
 * ```
 */
export type HeadersLike =
  | Headers
  | ReadonlyArray<readonly [string, string]>
  | Readonly<Record<string, string>>;

/**
 * Everything `upgrade` takes: the handlers, the first user data, and what goes on the
 * 101 response.
 *
 * @typeParam U The type of the connection's user data.
 * @example
 * ```ts
 * import type { UpgradeSettings } from "./types.ts";
 * const settings: UpgradeSettings<{ name: string }> = {
 *   udata: { name: "guest" },
 *   cookies: [{ name: "seen", value: "1" }],
 *   onMessage(ws, data) { console.log(ws.getUdata().name, data); },
 * };
 * ```
 */
export interface UpgradeSettings<U = unknown> extends WebSocketHandlers<U> {
  /** The first user data of the connection. */
  udata?: U;
  /** Extra headers for the 101 response. */
  headers?: HeadersLike;
  /** Cookies for the 101 response, one `Set-Cookie` each. */
  cookies?: readonly Cookie[];
  /**
   * The subprotocol: a name that is used only when the client offered it, or a function
   * choosing among the offered names (return `undefined` for none).
   */
  protocol?: string | ((offered: readonly string[]) => string | undefined);
  /**
   * permessage-deflate for this connection, overriding the `perMessageDeflate` setting:
   * `false`, `true` or options. Only wsx's engine negotiates it (see the README).
   * @default {settings.perMessageDeflate}
   */
  perMessageDeflate?: PerMessageDeflate;
}
