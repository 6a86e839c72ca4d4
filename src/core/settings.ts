/**
 * The process-wide settings of the seed's `Websocket` object, validated on every change.
 *
 * @module
 */

import { type PerMessageDeflate, resolveDeflate } from "./deflate_options.ts";

/**
 * The process-wide settings. `maxMsgSize` and `maxStreamSize` are read live for every
 * incoming message, `streamTimeout` for every streamed one;
 * `timeout`, `pongTimeout` and `maxBufferedBytes` are captured by each connection
 * when it opens.
 *
 * @example
 * ```ts
 * import { settings } from "./settings.ts";
 * settings.maxMsgSize = 1024 * 1024; // 1 MiB
 * settings.timeout = 30; // seconds
 * ```
 */
export interface Settings {
  /** Largest incoming message in bytes; a larger one closes the connection with 1009. @default {262144} */
  maxMsgSize: number;
  /** Seconds of silence (0 to 255) after which a ping is sent; 0 never pings. @default {40} */
  timeout: number;
  /** Seconds (0 to 255) to wait for any frame after a timeout ping before closing; 0 means "the timeout again". @default {0} */
  pongTimeout: number;
  /** Largest outbound backlog per connection in bytes before `backpressure` applies. @default {4194304} */
  maxBufferedBytes: number;
  /** What a write does over `maxBufferedBytes`: `"close"` with 1008, or `"drop"` the message. @default {"close"} */
  backpressure: "close" | "drop";
  /**
   * permessage-deflate (RFC 7692): `false`, `true` for the defaults, or options; read at
   * each upgrade (`upgrade()` may override it). @default {false}
   */
  perMessageDeflate: PerMessageDeflate;
  /**
   * Largest message in bytes taken as a stream (`onStream`); a larger one closes the
   * connection with 1009. `maxMsgSize` does not apply to streamed messages.
   * @default {274877906944} (256 GiB)
   */
  maxStreamSize: number;
  /**
   * Seconds (1 to 255) a streamed message may wait for its reader: past it, the stream
   * errors and the connection closes with 1011. @default {30}
   */
  streamTimeout: number;
}

/** The default value of every setting. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  maxMsgSize: 262_144,
  timeout: 40,
  pongTimeout: 0,
  maxBufferedBytes: 4 * 1024 * 1024,
  backpressure: "close",
  perMessageDeflate: false,
  maxStreamSize: 2 ** 38,
  streamTimeout: 30,
});

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Invalid "${name}": expected an integer from ${min} to ${max}, got ${typeof value}`,
    );
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Invalid "${name}": expected an integer from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}

const validators: { [K in keyof Settings]: (value: unknown) => Settings[K] } = {
  maxMsgSize: (v) => checkInteger("maxMsgSize", v, 1, Number.MAX_SAFE_INTEGER),
  timeout: (v) => checkInteger("timeout", v, 0, 255),
  pongTimeout: (v) => checkInteger("pongTimeout", v, 0, 255),
  maxBufferedBytes: (v) => checkInteger("maxBufferedBytes", v, 1024, Number.MAX_SAFE_INTEGER),
  maxStreamSize: (v) => checkInteger("maxStreamSize", v, 1, Number.MAX_SAFE_INTEGER),
  streamTimeout: (v) => checkInteger("streamTimeout", v, 1, 255),
  backpressure: (v) => {
    if (v !== "close" && v !== "drop") {
      throw new TypeError(
        `Invalid "backpressure": expected "close" or "drop", got ${JSON.stringify(v)}`,
      );
    }
    return v;
  },
  perMessageDeflate: (v) => {
    resolveDeflate(v);
    return typeof v === "object" ? Object.freeze({ ...v }) : v as boolean;
  },
};

/**
 * Validates one setting, throwing `TypeError` or `RangeError` naming the setting and the
 * allowed values.
 *
 * @param name The setting.
 * @param value The proposed value.
 * @returns The value, typed.
 * @example
 * ```ts
 * import { validateSetting } from "./settings.ts";
 * validateSetting("timeout", 30); // 30
 * ```
 */
export function validateSetting<K extends keyof Settings>(name: K, value: unknown): Settings[K] {
  const check = validators[name] as ((v: unknown) => Settings[K]) | undefined;
  if (!check) {
    throw new TypeError(
      `Unknown setting ${JSON.stringify(name)}: expected one of ${
        Object.keys(validators).join(", ")
      }`,
    );
  }
  return check(value);
}

type Listener = (name: keyof Settings) => void;
const listeners = new Set<Listener>();

/**
 * Calls `listener` after every change of a setting (adapters that push a limit down to
 * the runtime use it). Returns a function that stops the calls.
 *
 * @param listener Called with the name of the changed setting.
 * @returns A function that removes the listener.
 * @example
 * ```ts
 * import { onSettingsChange } from "./settings.ts";
 * const stop = onSettingsChange((name) => console.log("changed", name));
 * stop();
 * ```
 */
export function onSettingsChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Each setting's value lives in a box of its own: the getters all come from one function,
// so they share one feedback slot, and a box's `value` is one property load where
// `values[name]` with eight names became a generic keyed lookup (maxMsgSize is read for
// every incoming message).
function accessor<K extends keyof Settings>(name: K): PropertyDescriptor {
  const box = { value: DEFAULT_SETTINGS[name] as Settings[K] };
  return {
    enumerable: true,
    get: () => box.value,
    set: (value: unknown) => {
      box.value = validateSetting(name, value);
      for (const listener of listeners) listener(name);
    },
  };
}

/**
 * The live settings object: reading gives the value in force, assigning validates.
 *
 * @example
 * ```ts
 * import { settings } from "./settings.ts";
 * try {
 *   settings.timeout = 300;
 * } catch (e) {
 *   console.log((e as RangeError).message); // Invalid "timeout": expected an integer from 0 to 255, got 300
 * }
 * ```
 */
export const settings: Settings = Object.seal(
  Object.defineProperties({} as Settings, {
    maxMsgSize: accessor("maxMsgSize"),
    timeout: accessor("timeout"),
    pongTimeout: accessor("pongTimeout"),
    maxBufferedBytes: accessor("maxBufferedBytes"),
    backpressure: accessor("backpressure"),
    perMessageDeflate: accessor("perMessageDeflate"),
    maxStreamSize: accessor("maxStreamSize"),
    streamTimeout: accessor("streamTimeout"),
  }),
);

/**
 * Sets several settings at once; all are validated before any changes.
 *
 * @param changes The settings to change.
 * @example
 * ```ts
 * import { configure } from "./settings.ts";
 * configure({ maxMsgSize: 65536, timeout: 10 });
 * ```
 */
export function configure(changes: Partial<Settings>): void {
  if (typeof changes !== "object" || changes === null) {
    throw new TypeError("Invalid settings: expected an object");
  }
  const checked = Object.entries(changes).map(([name, value]) =>
    [name, validateSetting(name as keyof Settings, value)] as const
  );
  for (const [name, value] of checked) {
    (settings as unknown as Record<string, unknown>)[name] = value;
  }
}

/**
 * Puts every setting back to its default (for tests and restarts).
 *
 * @example
 * ```ts
 * import { resetSettings } from "./settings.ts";
 * resetSettings();
 * ```
 */
export function resetSettings(): void {
  configure({ ...DEFAULT_SETTINGS });
}
