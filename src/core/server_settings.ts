/**
 * A server's own settings: what its `serve()` options set, and for everything they leave
 * unset the seed's global settings (`Websocket.*`, `configure()`), read live. Built once
 * per server and passed down to its connections, so two servers in one process can hold
 * different limits; the seed's semantics hold for either source (a new `maxMsgSize`
 * applies to messages received after the change, `timeout` is captured when a
 * connection opens).
 *
 * @module
 */

import { type Settings, settings as globalSettings, validateSetting } from "./settings.ts";

/**
 * The settings a server may set for itself in its options.
 *
 * @example
 * ```ts
 * import type { OwnSettings } from "./server_settings.ts";
 * const own: OwnSettings = { maxMsgSize: 1 << 20, timeout: 30 };
 * ```
 */
export type OwnSettings = Partial<Settings>;

const NAMES: readonly (keyof Settings)[] = [
  "maxMsgSize",
  "timeout",
  "pongTimeout",
  "maxBufferedBytes",
  "backpressure",
  "perMessageDeflate",
  "maxStreamSize",
  "streamTimeout",
];

/**
 * Picks and validates the settings a server's options set, with the validators of the
 * global settings (`TypeError`/`RangeError` naming the option).
 *
 * @param options The server's options.
 * @returns The settings they set, frozen.
 * @example
 * ```ts
 * import { checkOwnSettings } from "./server_settings.ts";
 * checkOwnSettings({ maxMsgSize: 1024 }); // { maxMsgSize: 1024 }
 * ```
 */
export function checkOwnSettings(options: OwnSettings): Readonly<OwnSettings> {
  const own: Record<string, unknown> = {};
  for (const name of NAMES) {
    if (options[name] !== undefined) own[name] = validateSetting(name, options[name]);
  }
  return Object.freeze(own as OwnSettings);
}

/**
 * The settings a server's connections read: its own where set, else the global ones,
 * live. A server that sets none reads the global settings object itself.
 *
 * @param own The server's own settings.
 * @param global The settings to fall back on.
 * @returns A read-only view.
 * @example
 * ```ts
 * import { serverSettings } from "./server_settings.ts";
 * import { settings } from "./settings.ts";
 * const view = serverSettings({ maxMsgSize: 1024 });
 * console.log(view.maxMsgSize, view.timeout === settings.timeout); // 1024 true
 * ```
 */
export function serverSettings(
  own: Readonly<OwnSettings>,
  global: Readonly<Settings> = globalSettings,
): Readonly<Settings> {
  if (Object.keys(own).length === 0) return global;
  const view = {} as Settings;
  for (const name of NAMES) {
    const value = own[name];
    Object.defineProperty(view, name, {
      enumerable: true,
      get: value === undefined ? liveGetter(global, name) : () => value,
    });
  }
  return Object.freeze(view);
}

// Reads the global setting live. The global settings' own getter (one property load,
// `settings.ts`; it does not use `this`) rather than `global[name]`: a keyed read shared
// by several names turns generic, and maxMsgSize is read for every incoming message.
function liveGetter(global: Readonly<Settings>, name: keyof Settings): () => unknown {
  const getter = global === globalSettings
    ? Object.getOwnPropertyDescriptor(global, name)?.get
    : undefined;
  return getter ?? (() => global[name]);
}
