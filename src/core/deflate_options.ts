/**
 * The `perMessageDeflate` setting (RFC 7692): its options, checked and resolved once.
 * Runtime-free: the engine negotiates with the resolved options (`src/rfc6455/deflate/`).
 *
 * @module
 */

/**
 * What a server offers for permessage-deflate. Every field is optional.
 *
 * @example Compress messages of 256 bytes and more, with 12-bit windows
 * ```ts
 * import type { PerMessageDeflateOptions } from "./deflate_options.ts";
 * const options: PerMessageDeflateOptions = { threshold: 256, serverMaxWindowBits: 12 };
 * ```
 */
export interface PerMessageDeflateOptions {
  /** Outgoing messages shorter than this many bytes are sent uncompressed. @default {1024} */
  readonly threshold?: number;
  /** The zlib compression level, 0 (none) to 9 (smallest, slowest). @default {1} */
  readonly level?: number;
  /** The zlib `memLevel` of the compressor, 1 to 9: less memory, less speed. @default {8} */
  readonly memLevel?: number;
  /**
   * The largest LZ77 window (9 to 15 bits) the server compresses with; below 15 it is
   * announced as `server_max_window_bits`. @default {15}
   */
  readonly serverMaxWindowBits?: number;
  /**
   * The window (8 to 15 bits) asked of clients that offer `client_max_window_bits`.
   * @default {undefined} (clients keep their window)
   */
  readonly clientMaxWindowBits?: number;
  /**
   * Keep the server's compression context from one message to the next, when the client
   * allows it: smaller messages, for a history of up to 2^`serverMaxWindowBits` bytes per
   * connection and more CPU per message; a broadcast is then compressed per receiver.
   * @default {false}
   */
  readonly serverContextTakeover?: boolean;
}

/**
 * The `perMessageDeflate` setting: off, on with the defaults, or on with options.
 *
 * @example
 * ```ts
 * import type { PerMessageDeflate } from "./deflate_options.ts";
 * const on: PerMessageDeflate = { threshold: 512 };
 * ```
 */
export type PerMessageDeflate = boolean | PerMessageDeflateOptions;

/**
 * Options with every default filled in, frozen: what the engine negotiates with.
 *
 * @example
 * ```ts
 * import { resolveDeflate } from "./deflate_options.ts";
 * console.log(resolveDeflate(true)?.threshold); // 1024
 * ```
 */
export interface DeflateConfig {
  /** Messages under this many bytes are sent uncompressed. */
  readonly threshold: number;
  /** The zlib level, 0 to 9. */
  readonly level: number;
  /** The zlib memLevel, 1 to 9. */
  readonly memLevel: number;
  /** The server's largest window, 9 to 15. */
  readonly serverMaxWindowBits: number;
  /** The window asked of clients that offer to limit theirs, or undefined. */
  readonly clientMaxWindowBits: number | undefined;
  /** Whether the server keeps its compression context between messages. */
  readonly serverContextTakeover: boolean;
}

const KEYS = [
  "threshold",
  "level",
  "memLevel",
  "serverMaxWindowBits",
  "clientMaxWindowBits",
  "serverContextTakeover",
];

function integer(name: string, value: unknown, min: number, max: number): number {
  const allowed = `expected an integer from ${min} to ${max}`;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`Invalid "${name}": ${allowed}, got ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Invalid "${name}": ${allowed}, got ${value}`);
  }
  return value;
}

function option(o: PerMessageDeflateOptions, key: string, min: number, max: number, dflt: number) {
  const value = (o as Record<string, unknown>)[key];
  return value === undefined ? dflt : integer(`perMessageDeflate.${key}`, value, min, max);
}

/**
 * Checks a `perMessageDeflate` value and fills in the defaults.
 *
 * @param value `false`, `true` or a {@linkcode PerMessageDeflateOptions} object.
 * @returns `null` when off, else the frozen options.
 * @throws {TypeError} For a value of the wrong type or an unknown option, naming it.
 * @throws {RangeError} For a number out of range, naming the option.
 * @example
 * ```ts
 * import { resolveDeflate } from "./deflate_options.ts";
 * console.log(resolveDeflate(false)); // null
 * console.log(resolveDeflate({ level: 6 })?.level); // 6
 * ```
 */
export function resolveDeflate(value: unknown): DeflateConfig | null {
  if (value === false) return null;
  if (value === true) return DEFAULT_DEFLATE;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Invalid "perMessageDeflate": expected true, false or an options object, got ${
        value === null ? "null" : typeof value
      }`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) {
      throw new TypeError(
        `Unknown option "perMessageDeflate.${key}": expected one of ${KEYS.join(", ")}`,
      );
    }
  }
  const o = value as PerMessageDeflateOptions;
  const client = o.clientMaxWindowBits, takeover = o.serverContextTakeover ?? false;
  if (typeof takeover !== "boolean") {
    throw new TypeError(
      `Invalid "perMessageDeflate.serverContextTakeover": expected a boolean, got ${typeof takeover}`,
    );
  }
  return Object.freeze({
    threshold: option(o, "threshold", 0, Number.MAX_SAFE_INTEGER, 1024),
    level: option(o, "level", 0, 9, 1),
    memLevel: option(o, "memLevel", 1, 9, 8),
    serverMaxWindowBits: option(o, "serverMaxWindowBits", 9, 15, 15),
    clientMaxWindowBits: client === undefined
      ? undefined
      : integer("perMessageDeflate.clientMaxWindowBits", client, 8, 15),
    serverContextTakeover: takeover,
  });
}

/**
 * The options `perMessageDeflate: true` stands for.
 *
 * @example
 * ```ts
 * import { DEFAULT_DEFLATE } from "./deflate_options.ts";
 * console.log(DEFAULT_DEFLATE.level); // 1
 * ```
 */
export const DEFAULT_DEFLATE: DeflateConfig = Object.freeze({
  threshold: 1024,
  level: 1,
  memLevel: 8,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: undefined,
  serverContextTakeover: false,
});

const resolved = new WeakMap<object, DeflateConfig | null>();
/**
 * {@linkcode resolveDeflate} for a value already checked (the setting), resolved once
 * per options object.
 *
 * @param value The setting's value.
 * @returns `null` when off, else the options.
 * @example
 * ```ts
 * import { deflateConfigOf } from "./deflate_options.ts";
 * console.log(deflateConfigOf(false)); // null
 * ```
 */
export function deflateConfigOf(value: PerMessageDeflate): DeflateConfig | null {
  if (typeof value !== "object") return value ? DEFAULT_DEFLATE : null;
  let config = resolved.get(value);
  if (config === undefined) resolved.set(value, config = resolveDeflate(value));
  return config;
}
