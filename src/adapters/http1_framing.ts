/**
 * How long a request's body is (RFC 9112 section 6): from `Transfer-Encoding` and
 * `Content-Length`, refusing every combination two servers in a chain could read
 * differently (request smuggling): both at once, a `Content-Length` that is not one
 * field holding one decimal number, a coding list whose last coding is not `chunked`, `Transfer-Encoding`
 * in an HTTP/1.0 request.
 *
 * @module
 */

import { listElements } from "../core/protocol/tokens.ts";
import { HTTP1_REFUSALS as R } from "./http1_refusals.ts";
import type { Refusal } from "./http1_refusals.ts";
import type { RequestHead } from "./http1_head.ts";

/**
 * A request body's framing: none, a length in bytes, or chunked.
 *
 * @example
 * ```ts
 * import type { Framing } from "./http1_framing.ts";
 * const framing: Framing = { kind: "length", length: 5 };
 * ```
 */
export type Framing =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" };

const NONE: Framing = { kind: "none" };
const CHUNKED: Framing = { kind: "chunked" };
// Up to 15 digits: always a safe integer.
const DIGITS = /^[0-9]{1,15}$/;

// One Content-Length field with one decimal value. A repeated field, or a list, even
// of one value sent twice, is refused: RFC 9110 section 8.6 lets a recipient refuse it,
// and Node.js does, so no proxy in front of either can read it otherwise.
function contentLength(values: string[]): Framing | Refusal {
  if (values.length !== 1 || !DIGITS.test(values[0])) return R.badContentLength;
  const length = Number(values[0]);
  return length === 0 ? NONE : { kind: "length", length };
}

function transferEncoding(values: string[], minor: 0 | 1): Framing | Refusal {
  // RFC 9112 section 6.1: the framing of an HTTP/1.0 message with Transfer-Encoding is
  // faulty; a server must not trust it.
  if (minor === 0) return R.transferEncodingOnHttp10;
  const codings = values.flatMap(listElements).map((c) => c.toLowerCase());
  if (codings.length === 0 || codings[codings.length - 1] !== "chunked") {
    return R.chunkedNotFinal;
  }
  // chunked applied twice is as ambiguous as not last; any other coding is one wsx does
  // not decode (RFC 9112 section 6.1: 501).
  if (codings.indexOf("chunked") !== codings.length - 1) return R.chunkedNotFinal;
  if (codings.length > 1) return R.unknownCoding;
  return CHUNKED;
}

/**
 * The framing of a request's body.
 *
 * @param head The request's head.
 * @returns The framing, or a refusal after which the connection must close.
 * @example
 * ```ts
 * import { requestFraming } from "./http1_framing.ts";
 * requestFraming({
 *   method: "POST",
 *   target: "/",
 *   minor: 1,
 *   rawHeaders: ["Host", "a", "Content-Length", "3"],
 * }); // { kind: "length", length: 3 }
 * ```
 */
export function requestFraming(head: RequestHead): Framing | Refusal {
  const lengths: string[] = [];
  const codings: string[] = [];
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 14 && name.toLowerCase() === "content-length") lengths.push(raw[i + 1]);
    else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") {
      codings.push(raw[i + 1]);
    }
  }
  if (codings.length > 0 && lengths.length > 0) return R.contentLengthWithTransferEncoding;
  if (codings.length > 0) return transferEncoding(codings, head.minor);
  return lengths.length > 0 ? contentLength(lengths) : NONE;
}
