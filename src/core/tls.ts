/**
 * The `tls` option of `serve()`: a certificate and its key, as PEM text, checked once.
 *
 * @module
 */

/**
 * What `serve({ tls })` takes: PEM text (a file's contents, not its path). The server
 * then speaks HTTPS, its requests' URLs start with `https:` and its connections report
 * `secure: true` (`wss:`).
 *
 * @example Certificate files read at start-up
 * ```ts ignore
 * import type { TlsOptions } from "./tls.ts";
 * const tls: TlsOptions = {
 *   cert: await Deno.readTextFile("cert.pem"),
 *   key: await Deno.readTextFile("key.pem"),
 * };
 * ```
 */
export interface TlsOptions {
  /** The server's certificate, PEM; intermediate certificates may follow it. */
  readonly cert: string;
  /** Its private key, PEM. */
  readonly key: string;
  /** The key's passphrase, when the key is encrypted (not with Deno's native transport). */
  readonly passphrase?: string;
  /**
   * More PEM certificates sent after `cert` to complete its chain (intermediate CAs,
   * up to a root the clients trust). Clients do not have to present certificates.
   */
  readonly ca?: string;
}

const PEM = "-----BEGIN ";

function pem(value: unknown, name: string): string {
  if (typeof value !== "string" || !value.includes(PEM)) {
    const got = typeof value === "string" ? `"${value.slice(0, 40)}"` : typeof value;
    throw new TypeError(
      `Invalid "tls.${name}": expected PEM text (the file's contents, not its path), got ${got}`,
    );
  }
  return value;
}

/**
 * Checks the `tls` option, throwing `TypeError` naming the field.
 *
 * @param tls The option as given.
 * @returns A frozen copy, or undefined without TLS.
 * @example
 * ```ts
 * import { checkTls } from "./tls.ts";
 * checkTls(undefined); // undefined
 * ```
 */
export function checkTls(tls: unknown): Readonly<TlsOptions> | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError('Invalid "tls": expected an object with cert and key (PEM text)');
  }
  const given = tls as Record<string, unknown>;
  const checked: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = {
    cert: pem(given.cert, "cert"),
    key: pem(given.key, "key"),
  };
  if (given.passphrase !== undefined) {
    if (typeof given.passphrase !== "string") {
      throw new TypeError(
        `Invalid "tls.passphrase": expected a string, got ${typeof given.passphrase}`,
      );
    }
    checked.passphrase = given.passphrase;
  }
  if (given.ca !== undefined) checked.ca = pem(given.ca, "ca");
  return Object.freeze(checked);
}

/**
 * The certificate chain to present: `cert`, then `ca` when given.
 *
 * @param tls The checked option.
 * @returns PEM text.
 * @example
 * ```ts
 * import { certChain } from "./tls.ts";
 * declare const cert: string, key: string, intermediate: string;
 * const chain = certChain({ cert, key, ca: intermediate }); // cert, then intermediate
 * ```
 */
export function certChain(tls: Readonly<TlsOptions>): string {
  return tls.ca === undefined ? tls.cert : `${tls.cert.trimEnd()}\n${tls.ca}`;
}
