/**
 * A strict parser for the one request head wsx answers without `node:http`: a WebSocket
 * upgrade that arrives whole in the first chunk of a connection. It accepts a narrow,
 * plain subset of HTTP/1.1 (RFC 9112) and says "not mine" to everything else, which
 * then goes to `node:http` unchanged: it never answers 400 or 431 itself, so no request
 * is judged differently from how `node:http` judges it.
 *
 * Accepted: `GET <origin-form target> HTTP/1.1`, at most {@linkcode MAX_FAST_HEAD}
 * bytes and {@linkcode MAX_FAST_HEADERS} fields, every field `token ":" OWS value OWS`
 * with visible ASCII, space and tab only (no obs-fold, no obs-text, no bare CR or LF),
 * no `Content-Length` or `Transfer-Encoding` (no body), and the `Upgrade` field and the
 * `upgrade` token in `Connection` that make `node:http` emit `upgrade`.
 *
 * @module
 */

import { listsToken } from "../core/protocol/tokens.ts";

/**
 * The longest head taken without `node:http`, terminator included (Node.js refuses heads
 * over 16 KiB with 431; anything longer than this goes there).
 *
 * @example
 * ```ts
 * import { MAX_FAST_HEAD } from "./node_head_parser.ts";
 * console.log(MAX_FAST_HEAD); // 8192
 * ```
 */
export const MAX_FAST_HEAD = 8192;

/**
 * The most header fields taken without `node:http`.
 *
 * @example
 * ```ts
 * import { MAX_FAST_HEADERS } from "./node_head_parser.ts";
 * console.log(MAX_FAST_HEADERS); // 64
 * ```
 */
export const MAX_FAST_HEADERS = 64;

/**
 * An upgrade request head, as `node:http` would give it.
 *
 * @example
 * ```ts
 * import type { UpgradeHead } from "./node_head_parser.ts";
 * ```
 */
export interface UpgradeHead {
  /** Always `GET`. */
  readonly method: string;
  /** The request target, as sent (`IncomingMessage#url`). */
  readonly target: string;
  /** Names as sent and values without surrounding whitespace, alternating. */
  readonly rawHeaders: string[];
  /** The length of the head, blank line included: what follows is the WebSocket stream. */
  readonly length: number;
  /** The fields of the handshake, read while parsing. */
  readonly fields: HeadFields;
}

/**
 * The values of the fields an upgrade reads, picked out while the head is parsed, so
 * that the request's headers answer them without a search (`node_headers.ts`): `null`
 * when the field is absent, `undefined` when it repeats (the headers then search and
 * join as usual). Names are token characters and values plain visible ASCII here, so a
 * value is exactly what `Headers#get` would return.
 *
 * @example
 * ```ts
 * import { parseUpgradeHead } from "./node_head_parser.ts";
 * const head = parseUpgradeHead(
 *   "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
 * );
 * console.log(head?.fields.upgrade); // "websocket"
 * ```
 */
export interface HeadFields {
  /** `Upgrade`. */
  upgrade: string | null | undefined;
  /** `Connection`. */
  connection: string | null | undefined;
  /** `Sec-WebSocket-Key`. */
  key: string | null | undefined;
  /** `Sec-WebSocket-Version`. */
  version: string | null | undefined;
  /** `Sec-WebSocket-Protocol`. */
  protocol: string | null | undefined;
  /** `Sec-WebSocket-Extensions`. */
  extensions: string | null | undefined;
}

// A field's value the first time it is seen, undefined once it repeats.
function once(seen: string | null | undefined, value: string): string | undefined {
  return seen === null ? value : undefined;
}

/**
 * The lower-case name of a field that matters to {@linkcode parseUpgradeHead}, or "".
 * Names as clients spell them (browsers, Node.js, ws) are matched as they are, one
 * comparison after the length: no lower-cased copy of each.
 *
 * @param name A field name as sent.
 * @returns Its lower-case form when the parser reads it, else "".
 * @example
 * ```ts
 * import { fieldName } from "./node_head_parser.ts";
 * fieldName("Sec-WebSocket-Key"); // "sec-websocket-key"
 * fieldName("Host"); // ""
 * ```
 */
export function fieldName(name: string): string {
  switch (name.length) {
    case 7:
      return name === "Upgrade" ? "upgrade" : name.toLowerCase();
    case 10:
      return name === "Connection" ? "connection" : name === "User-Agent" ? "" : name.toLowerCase();
    case 17:
      return name === "Sec-WebSocket-Key" ? "sec-websocket-key" : name.toLowerCase();
    case 21:
      return name === "Sec-WebSocket-Version" ? "sec-websocket-version" : name.toLowerCase();
    case 22:
      return name === "Sec-WebSocket-Protocol" ? "sec-websocket-protocol" : name.toLowerCase();
    case 24:
      return name === "Sec-WebSocket-Extensions" ? "sec-websocket-extensions" : name.toLowerCase();
  }
  // Other lengths of 14 or more: Content-Length and Transfer-Encoding among them.
  return name.length >= 14 ? name.toLowerCase() : "";
}

// RFC 3986 path and query characters: unreserved, sub-delims, ":", "@", "/", "?" and
// percent escapes; no fragment, no characters that need quoting.
const TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;
const CRLF = "\r\n";
const BLANK_LINE = "\r\n\r\n";
// Every field line at once, from the first to the blank line: a token, ":", and a value
// of visible ASCII, space and tab. (Trimmed of spaces and tabs, such a value is exactly
// one that starts and ends with a visible character: RFC 9110 section 5.5.) One match
// per head instead of two per field.
const FIELD_LINES = /(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e]*\r\n)*\r\n/y;
const REQUEST_LINE_START = "GET ";
const REQUEST_LINE_END = " HTTP/1.1";

/**
 * Parses the head of an upgrade request from the first bytes of a connection.
 *
 * @param text The first chunk decoded as Latin-1 (one character a byte), or its start.
 * @param maxBytes The longest head to take, blank line included. @default {MAX_FAST_HEAD}
 * @param maxFields The most header fields to take. @default {MAX_FAST_HEADERS}
 * @returns The head, or `undefined` when it is incomplete, not an upgrade, or outside
 * the plain subset this parser takes (let `node:http` have it).
 * @example
 * ```ts
 * import { parseUpgradeHead } from "./node_head_parser.ts";
 * const head = parseUpgradeHead(
 *   "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
 * );
 * console.log(head?.target); // "/chat"
 * ```
 */
export function parseUpgradeHead(
  text: string,
  maxBytes: number = MAX_FAST_HEAD,
  maxFields: number = MAX_FAST_HEADERS,
): UpgradeHead | undefined {
  const end = text.indexOf(BLANK_LINE);
  if (end < 0 || end + 4 > maxBytes) return undefined;
  // Read in place, line by line (no split, no line strings): every handshake pays this.
  let lineEnd = text.indexOf(CRLF);
  if (
    !text.startsWith(REQUEST_LINE_START) ||
    lineEnd < REQUEST_LINE_START.length + REQUEST_LINE_END.length ||
    !text.startsWith(REQUEST_LINE_END, lineEnd - REQUEST_LINE_END.length)
  ) return undefined;
  const target = text.slice(REQUEST_LINE_START.length, lineEnd - REQUEST_LINE_END.length);
  if (!TARGET.test(target)) return undefined;
  FIELD_LINES.lastIndex = lineEnd + 2;
  if (!FIELD_LINES.test(text) || FIELD_LINES.lastIndex !== end + 4) return undefined;
  const rawHeaders: string[] = [];
  const known: HeadFields = {
    upgrade: null,
    connection: null,
    key: null,
    version: null,
    protocol: null,
    extensions: null,
  };
  let upgrade = false, connectionUpgrade = false;
  for (let fields = 1; lineEnd < end; fields++) {
    const start = lineEnd + 2;
    lineEnd = text.indexOf(CRLF, start);
    if (fields > maxFields) return undefined;
    // Every line is `name:value` (FIELD_LINES), and a name has no ":".
    const colon = text.indexOf(":", start);
    const name = text.slice(start, colon);
    // FIELD_LINES let only visible ASCII, space and tab through, so the native trim()
    // removes exactly the optional whitespace (spaces and tabs) and nothing else: one call
    // instead of a loop per end, which a fresh server runs in its slowest tiers first.
    const value = text.slice(colon + 1, lineEnd).trim();
    switch (fieldName(name)) {
      case "upgrade":
        upgrade = true;
        known.upgrade = once(known.upgrade, value);
        break;
      case "connection":
        connectionUpgrade ||= listsToken(value, "upgrade");
        known.connection = once(known.connection, value);
        break;
      case "sec-websocket-key":
        known.key = once(known.key, value);
        break;
      case "sec-websocket-version":
        known.version = once(known.version, value);
        break;
      case "sec-websocket-protocol":
        known.protocol = once(known.protocol, value);
        break;
      case "sec-websocket-extensions":
        known.extensions = once(known.extensions, value);
        break;
      case "content-length":
      case "transfer-encoding":
        return undefined;
    }
    rawHeaders.push(name, value);
  }
  if (!upgrade || !connectionUpgrade) return undefined;
  return { method: "GET", target, rawHeaders, length: end + 4, fields: known };
}
