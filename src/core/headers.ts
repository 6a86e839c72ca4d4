/**
 * Headers and cookies for the 101 response, as a list of pairs so that several
 * `Set-Cookie` lines survive on every runtime.
 *
 * @module
 */

import type { Cookie, HeadersLike } from "../types.ts";
import { FIELD_VALUE, TOKEN } from "./protocol/tokens.ts";

// RFC 6265 cookie-octets.
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const ATTRIBUTE_VALUE = /^[\x20-\x3A\x3C-\x7E]*$/;

/**
 * One `Set-Cookie` value, validated.
 *
 * @param cookie The cookie.
 * @returns The header value.
 * @throws {TypeError} Naming the cookie field that is not allowed.
 * @example
 * ```ts
 * import { serializeCookie } from "./headers.ts";
 * serializeCookie({ name: "sid", value: "1", httpOnly: true }); // "sid=1; HttpOnly"
 * ```
 */
export function serializeCookie(cookie: Cookie): string {
  if (typeof cookie.name !== "string" || !TOKEN.test(cookie.name)) {
    throw new TypeError(
      `Invalid cookie "name": expected an RFC 6265 token, got ${JSON.stringify(cookie.name)}`,
    );
  }
  if (typeof cookie.value !== "string" || !COOKIE_VALUE.test(cookie.value)) {
    throw new TypeError(
      `Invalid cookie "value" for "${cookie.name}": expected cookie octets (no spaces, quotes, commas, semicolons or backslashes)`,
    );
  }
  let out = `${cookie.name}=${cookie.value}`;
  const attribute = (field: string, label: string, value: string | undefined) => {
    if (value === undefined) return;
    if (!ATTRIBUTE_VALUE.test(value)) {
      throw new TypeError(
        `Invalid cookie "${field}" for "${cookie.name}": no control characters or semicolons`,
      );
    }
    out += `; ${label}=${value}`;
  };
  attribute("path", "Path", cookie.path);
  attribute("domain", "Domain", cookie.domain);
  if (cookie.maxAgeSeconds !== undefined) {
    if (!Number.isInteger(cookie.maxAgeSeconds)) {
      throw new RangeError(
        `Invalid cookie "maxAgeSeconds" for "${cookie.name}": expected an integer`,
      );
    }
    out += `; Max-Age=${cookie.maxAgeSeconds}`;
  }
  if (cookie.expires !== undefined) out += `; Expires=${cookie.expires.toUTCString()}`;
  if (cookie.httpOnly) out += "; HttpOnly";
  if (cookie.secure) out += "; Secure";
  if (cookie.sameSite !== undefined) {
    if (!["Strict", "Lax", "None"].includes(cookie.sameSite)) {
      throw new TypeError(
        `Invalid cookie "sameSite" for "${cookie.name}": expected "Strict", "Lax" or "None"`,
      );
    }
    out += `; SameSite=${cookie.sameSite}`;
  }
  return out;
}

/**
 * The extra headers of a 101 response as validated pairs.
 *
 * @param headers Headers in any accepted form.
 * @param cookies Cookies, one `Set-Cookie` each.
 * @returns The pairs, in order.
 * @throws {TypeError} For a header name or value that would break the response.
 * @example
 * ```ts
 * import { headerPairs } from "./headers.ts";
 * headerPairs({ "x-a": "1" }, [{ name: "c", value: "2" }]); // [["x-a","1"],["set-cookie","c=2"]]
 * ```
 */
export function headerPairs(
  headers: HeadersLike | undefined,
  cookies: readonly Cookie[] | undefined,
): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (headers !== undefined) {
    if (typeof Headers !== "undefined" && headers instanceof Headers) {
      headers.forEach((value, name) => {
        if (name !== "set-cookie") pairs.push([name, value]);
      });
      for (const value of headers.getSetCookie()) pairs.push(["set-cookie", value]);
    } else if (Array.isArray(headers)) {
      for (const [name, value] of headers as ReadonlyArray<readonly [string, string]>) {
        pairs.push([name, value]);
      }
    } else if (typeof headers === "object" && headers !== null) {
      for (const [name, value] of Object.entries(headers)) pairs.push([name, value]);
    } else {
      throw new TypeError(
        'Invalid "headers": expected a Headers object, a list of pairs or a record',
      );
    }
  }
  for (const [name, value] of pairs) {
    if (typeof name !== "string" || !TOKEN.test(name)) {
      throw new TypeError(`Invalid "headers": bad header name ${JSON.stringify(name)}`);
    }
    if (typeof value !== "string" || !FIELD_VALUE.test(value)) {
      throw new TypeError(
        `Invalid "headers": bad value for "${name}" (visible ASCII only: no CR, LF or control characters)`,
      );
    }
  }
  for (const cookie of cookies ?? []) pairs.push(["set-cookie", serializeCookie(cookie)]);
  return pairs;
}
