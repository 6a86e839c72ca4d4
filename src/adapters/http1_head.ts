/**
 * A strict reader of HTTP/1.1 request heads (RFC 9112 sections 2 to 5): it finds where a
 * head ends in the bytes received so far, then parses it. Anything that two parsers
 * could read differently is refused rather than guessed at: a line ending in LF without
 * CR, a folded line (obs-fold), whitespace before a colon, control characters, a
 * missing or repeated Host on HTTP/1.1.
 *
 * @module
 */

import { TOKEN, trimOws } from "../core/protocol/tokens.ts";
import { fromLatin1, HTTP1_REFUSALS as R } from "./http1_refusals.ts";
import type { Refusal } from "./http1_refusals.ts";

const CR = 0x0d;
const LF = 0x0a;

/**
 * A parsed request head.
 *
 * @example
 * ```ts
 * import { parseRequestHead } from "./http1_head.ts";
 * const head = parseRequestHead("GET / HTTP/1.1\r\nHost: a\r\n", 100);
 * ```
 */
export interface RequestHead {
  /** The method, as sent (methods are case-sensitive). */
  readonly method: string;
  /** The request target, as sent. */
  readonly target: string;
  /** The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  /** Names as sent and values without surrounding whitespace, alternating. */
  readonly rawHeaders: readonly string[];
}

/**
 * Finds the end of a head in the bytes received so far, refusing a bare LF as soon as
 * it arrives. Empty lines before the request line are skipped (RFC 9112 section 2.2).
 *
 * @example
 * ```ts
 * import { HeadScanner } from "./http1_head.ts";
 * const scanner = new HeadScanner();
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * scanner.scan(bytes); // bytes.length
 * ```
 */
export class HeadScanner {
  #pos = 0;
  #lineStart = 0;
  #begin = 0;

  /** Where the request line starts, once {@linkcode HeadScanner.scan} found it. */
  get begin(): number {
    return this.#begin;
  }

  /**
   * Reads on from where the last call stopped.
   *
   * @param bytes Everything received since the head began (the same prefix each call).
   * @returns The head's length through its blank line, 0 while incomplete, or a refusal.
   */
  scan(bytes: Uint8Array): number | Refusal {
    for (let i = this.#pos; i < bytes.length; i++) {
      if (bytes[i] !== LF) continue;
      if (i === 0 || bytes[i - 1] !== CR) return R.bareLf;
      const empty = i - 1 === this.#lineStart;
      this.#lineStart = i + 1;
      if (!empty) continue;
      if (this.#begin === i - 1) {
        // An empty line before the request line.
        this.#begin = i + 1;
        continue;
      }
      this.#pos = i + 1;
      return i + 1;
    }
    this.#pos = bytes.length;
    return 0;
  }

  /** Forgets the head, to scan the next one from the start of a new buffer. */
  reset(): void {
    this.#pos = this.#lineStart = this.#begin = 0;
  }
}

const METHOD = TOKEN;
// Visible ASCII: no space, no control character, nothing above 0x7e (RFC 3986).
const TARGET = /^[\x21-\x7e]+$/;
// A field value as received: visible characters, space, tab and obs-text (RFC 9110
// section 5.5); never CR, LF, NUL or another control character.
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// uri-host [":" port] (RFC 3986): reg-name, IPv4 or a bracketed IPv6 literal.
const HOST = /^(?:[A-Za-z0-9\-._~%!$&'()*+,;=]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?$/;

function parseRequestLine(line: string): Refusal | [string, string, 0 | 1] {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  if (a <= 0 || b < 0 || line.indexOf(" ", b + 1) >= 0) return R.badRequestLine;
  const method = line.slice(0, a);
  const target = line.slice(a + 1, b);
  const version = line.slice(b + 1);
  if (!METHOD.test(method) || !TARGET.test(target)) return R.badRequestLine;
  if (!/^HTTP\/[0-9]\.[0-9]$/.test(version)) return R.badRequestLine;
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") return R.unsupportedVersion;
  if (method === "CONNECT") return R.unsupportedMethod;
  const form = target[0] === "/" || (target === "*" && method === "OPTIONS") ||
    /^https?:\/\//i.test(target);
  if (!form) return R.badRequestLine;
  return [method, target, version === "HTTP/1.1" ? 1 : 0];
}

/**
 * Parses a complete head (as Latin-1 text, without its blank line).
 *
 * @param text The request line and header lines, each ending in CRLF.
 * @param maxHeaders The most header fields allowed.
 * @returns The head, or a refusal.
 * @example
 * ```ts
 * import { parseRequestHead } from "./http1_head.ts";
 * const head = parseRequestHead("GET /a HTTP/1.1\r\nHost: x\r\n", 100);
 * console.log("method" in head && head.target); // "/a"
 * ```
 */
export function parseRequestHead(text: string, maxHeaders: number): RequestHead | Refusal {
  const lines = text.split("\r\n");
  lines.pop(); // The text ends in CRLF.
  const line = parseRequestLine(lines[0] ?? "");
  if (!Array.isArray(line)) return line;
  if (lines.length - 1 > maxHeaders) return R.tooManyHeaders;
  const rawHeaders: string[] = [];
  let hosts = 0;
  let host = "";
  for (let i = 1; i < lines.length; i++) {
    const field = lines[i];
    const first = field.charCodeAt(0);
    // obs-fold (RFC 9112 section 5.2): a server must refuse it or replace it; refused.
    if (first === 0x20 || first === 0x09) return R.obsFold;
    const colon = field.indexOf(":");
    if (colon <= 0) return R.badHeader;
    const name = field.slice(0, colon);
    const value = trimOws(field, colon + 1);
    if (!TOKEN.test(name) || !VALUE.test(value)) return R.badHeader;
    if (name.length === 4 && name.toLowerCase() === "host") {
      hosts++;
      host = value;
    }
    rawHeaders.push(name, value);
  }
  // RFC 9112 section 3.2: 400 for an HTTP/1.1 request without Host, or with several.
  if (hosts > 1 || (hosts === 0 && line[2] === 1)) return R.missingHost;
  if (hosts === 1 && !HOST.test(host)) return R.badHost;
  return { method: line[0], target: line[1], minor: line[2], rawHeaders };
}

/**
 * Scans for a head and parses it when complete.
 *
 * @param bytes Everything received since the head began.
 * @param scanner The scanner of this head.
 * @param maxHeadBytes The longest head allowed, blank line included.
 * @param maxHeaders The most header fields allowed.
 * @returns The head and its length, 0 while incomplete, or a refusal.
 * @example
 * ```ts
 * import { HeadScanner, readHead } from "./http1_head.ts";
 * const bytes = new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n");
 * readHead(bytes, new HeadScanner(), 16384, 100);
 * ```
 */
export function readHead(
  bytes: Uint8Array,
  scanner: HeadScanner,
  maxHeadBytes: number,
  maxHeaders: number,
): { head: RequestHead; length: number } | 0 | Refusal {
  const end = scanner.scan(bytes);
  if (typeof end !== "number") return end;
  // Empty lines before the request line count: they too are held until the head ends.
  if (end === 0) return bytes.length > maxHeadBytes ? R.headTooLarge : 0;
  if (end > maxHeadBytes) return R.headTooLarge;
  const head = parseRequestHead(fromLatin1(bytes, scanner.begin, end - 2), maxHeaders);
  return "method" in head ? { head, length: end } : head;
}
