/**
 * permessage-deflate negotiation
 * ([RFC 7692 section 7.1](https://www.rfc-editor.org/rfc/rfc7692#section-7.1)): read the
 * client's offers from `Sec-WebSocket-Extensions`, take the first one this server can
 * honour, and build the one answer. Pure.
 *
 * The answer always carries `client_no_context_takeover` and, unless the
 * `serverContextTakeover` option is on, `server_no_context_takeover` (RFC 7692 sections
 * 7.1.1.1 and 7.1.1.2 let a server add both to any offer): every message is then
 * compressed and inflated on its own, with no zlib state kept per connection, and a
 * broadcast is compressed once for every receiver.
 *
 * @module
 */

import type { DeflateConfig } from "../../core/deflate_options.ts";
import { TCHAR } from "../../core/protocol/tokens.ts";

/**
 * The parameters both sides agreed on for one connection.
 *
 * @example
 * ```ts
 * import type { DeflateParams } from "./negotiate.ts";
 * const params: DeflateParams = { serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
 * ```
 */
export interface DeflateParams {
  /** The largest window the server compresses with (9 to 15). */
  readonly serverMaxWindowBits: number;
  /** The largest window the client compresses with (8 to 15). */
  readonly clientMaxWindowBits: number;
  /** Whether the server keeps its compression context between messages. */
  readonly serverContextTakeover: boolean;
}

/**
 * An accepted offer: the `Sec-WebSocket-Extensions` value of the 101 and what it means.
 *
 * @example
 * ```ts
 * import type { DeflateAnswer } from "./negotiate.ts";
 * declare const answer: DeflateAnswer;
 * console.log(answer.header);
 * ```
 */
export interface DeflateAnswer {
  /** The response header's value. */
  readonly header: string;
  /** The agreed parameters. */
  readonly params: DeflateParams;
}

/**
 * One extension of a `Sec-WebSocket-Extensions` header: its name and parameters in
 * order, names in lower case, values unquoted (`null` for a parameter without one).
 *
 * @example
 * ```ts
 * import type { Extension } from "./negotiate.ts";
 * const ext: Extension = { name: "permessage-deflate", params: [["client_max_window_bits", null]] };
 * ```
 */
export interface Extension {
  /** The extension's name, in lower case. */
  readonly name: string;
  /** Its parameters in order. */
  readonly params: ReadonlyArray<readonly [string, string | null]>;
}

// RFC 7692 section 7.1.2: 8 to 15, decimal, no leading zero.
const WINDOW_BITS = /^(?:8|9|1[0-5])$/;

// A small scanner over RFC 6455 section 9.1's grammar: extension = token *( ";" param ),
// param = token [ "=" (token | quoted-string) ]. Returns null on a syntax error.
class Scanner {
  #s: string;
  #i = 0;
  constructor(s: string) {
    this.#s = s;
  }
  get done(): boolean {
    this.#ows();
    return this.#i >= this.#s.length;
  }
  #ows(): void {
    while (this.#s[this.#i] === " " || this.#s[this.#i] === "\t") this.#i++;
  }
  eat(c: string): boolean {
    this.#ows();
    if (this.#s[this.#i] !== c) return false;
    this.#i++;
    return true;
  }
  token(): string | null {
    this.#ows();
    const start = this.#i;
    while (this.#i < this.#s.length && TCHAR.test(this.#s[this.#i])) this.#i++;
    return this.#i > start ? this.#s.slice(start, this.#i) : null;
  }
  // A quoted-string's content; RFC 6455 section 9.1 wants a token once unquoted.
  value(): string | null {
    this.#ows();
    if (this.#s[this.#i] !== '"') return this.token();
    let out = "";
    for (this.#i++; this.#i < this.#s.length; this.#i++) {
      let c = this.#s[this.#i];
      if (c === '"') {
        this.#i++;
        return out !== "" && [...out].every((ch) => TCHAR.test(ch)) ? out : null;
      }
      if (c === "\\") c = this.#s[++this.#i] ?? "";
      out += c;
    }
    return null;
  }
}

function extension(scan: Scanner): Extension | null {
  const name = scan.token();
  if (name === null) return null;
  const params: Array<readonly [string, string | null]> = [];
  while (scan.eat(";")) {
    const key = scan.token();
    if (key === null) return null;
    let value: string | null = null;
    if (scan.eat("=") && (value = scan.value()) === null) return null;
    params.push([key.toLowerCase(), value]);
  }
  return { name: name.toLowerCase(), params };
}

/**
 * Parses a `Sec-WebSocket-Extensions` value (several header lines joined with `", "`).
 *
 * @param header The header's value.
 * @returns The extensions in order, or `null` when the header is malformed.
 * @example
 * ```ts
 * import { parseExtensions } from "./negotiate.ts";
 * console.log(parseExtensions("permessage-deflate; client_max_window_bits")?.length); // 1
 * ```
 */
export function parseExtensions(header: string): Extension[] | null {
  const scan = new Scanner(header), out: Extension[] = [];
  while (!scan.done) {
    // Empty list elements (",,") are allowed by RFC 9110's #rule.
    if (scan.eat(",")) continue;
    const ext = extension(scan);
    if (ext === null) return null;
    out.push(ext);
    if (!scan.done && !scan.eat(",")) return null;
  }
  return out;
}

/** What one offer asks for, or null when it must be declined (RFC 7692 section 7.1). */
interface Offer {
  serverNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | undefined | "offered";
}

function readOffer(params: Extension["params"]): Offer | null {
  const offer: Offer = {
    serverNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const [key, value] of params) {
    if (seen.has(key)) return null; // a repeated parameter declines the offer
    seen.add(key);
    if (key === "server_no_context_takeover" || key === "client_no_context_takeover") {
      if (value !== null) return null;
      if (key === "server_no_context_takeover") offer.serverNoContextTakeover = true;
    } else if (key === "server_max_window_bits") {
      if (value === null || !WINDOW_BITS.test(value)) return null;
      offer.serverMaxWindowBits = Number(value);
    } else if (key === "client_max_window_bits") {
      if (value !== null && !WINDOW_BITS.test(value)) return null;
      offer.clientMaxWindowBits = value === null ? "offered" : Number(value);
    } else return null; // an unknown parameter declines the offer
  }
  return offer;
}

// The answer to one valid offer, or null when this server cannot honour it.
function answer(offer: Offer, config: DeflateConfig): DeflateAnswer | null {
  let serverBits = config.serverMaxWindowBits;
  if (offer.serverMaxWindowBits !== undefined) {
    serverBits = Math.min(serverBits, offer.serverMaxWindowBits);
  }
  // zlib's raw deflate has no 8-bit window (it makes 9-bit ones, which a peer with an
  // 8-bit window could not inflate): such an offer is declined, honestly.
  if (serverBits < 9) return null;
  // Server context takeover only when configured and the client did not forbid it.
  const takeover = config.serverContextTakeover && !offer.serverNoContextTakeover;
  let header = takeover
    ? "permessage-deflate; client_no_context_takeover"
    : "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
  if (serverBits < 15 || offer.serverMaxWindowBits !== undefined) {
    header += `; server_max_window_bits=${serverBits}`;
  }
  let clientBits = 15;
  const offered = offer.clientMaxWindowBits;
  if (offered !== undefined) {
    clientBits = Math.min(offered === "offered" ? 15 : offered, config.clientMaxWindowBits ?? 15);
    // Section 7.1.2.2: answered only when offered, and then with a value; an offer
    // that carried a value must see one no larger.
    if (offered !== "offered" || config.clientMaxWindowBits !== undefined) {
      header += `; client_max_window_bits=${clientBits}`;
    }
  }
  const params = {
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: clientBits,
    serverContextTakeover: takeover,
  };
  return { header, params };
}

/**
 * Picks the first permessage-deflate offer this server can honour and builds the answer.
 * Offers with an unknown, repeated or malformed parameter are declined one by one; when
 * none is left (or the header is malformed), the 101 carries no extension: the handshake
 * never fails for it.
 *
 * @param header The request's `Sec-WebSocket-Extensions`, or `null`.
 * @param config The server's resolved options.
 * @returns The answer, or `null` to send no extension.
 * @example Answer a browser's offer
 * ```ts
 * import { negotiateDeflate } from "./negotiate.ts";
 * import { DEFAULT_DEFLATE } from "../../core/deflate_options.ts";
 * const a = negotiateDeflate("permessage-deflate; client_max_window_bits", DEFAULT_DEFLATE);
 * console.log(a?.header);
 * // "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
 * ```
 */
export function negotiateDeflate(
  header: string | null,
  config: DeflateConfig,
): DeflateAnswer | null {
  if (header === null) return null;
  const extensions = parseExtensions(header);
  if (extensions === null) return null;
  for (const ext of extensions) {
    if (ext.name !== "permessage-deflate") continue;
    const offer = readOffer(ext.params);
    const reply = offer === null ? null : answer(offer, config);
    if (reply !== null) return reply;
  }
  return null;
}
