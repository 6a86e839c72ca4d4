/**
 * WebSocket routes for Hono, with the same connection handle, registry, `each`/`count`,
 * limits and timeouts as direct use. Middleware before the route runs as usual; the route
 * can refuse an upgrade by returning a `Response`. Serve the app with the adapter's
 * wrapper: `Deno.serve(fetchHandler(app.fetch))` (`@wsx/wsx/deno`),
 * `Bun.serve({ fetch: fetchHandler(app.fetch), websocket: websocketHandler() })`
 * (`@wsx/wsx/bun`), or `attach(serve({ fetch: app.fetch }), app.fetch)` with
 * `@hono/node-server` (`@wsx/wsx/node`).
 *
 * @example A chat route behind an auth check
 * ```ts ignore
 * import { Hono } from "hono";
 * import { websocket } from "./hono.ts";
 *
 * const app = new Hono();
 * app.get("/ws", websocket((c) =>
 *   c.req.query("token") === "secret"
 *     ? { onMessage: (ws, data, isText) => ws.write(data, isText) }
 *     : new Response("Unauthorized", { status: 401 })
 * ));
 * ```
 *
 * @module
 */

import { upgrade } from "../core/upgrade.ts";
import type { UpgradeSettings } from "../types.ts";

/**
 * The part of Hono's `Context` the helper reads. Hono's own `Context` fits it, and a
 * settings function receives Hono's full context.
 *
 * @example
 * ```ts
 * import type { HonoContext } from "./hono.ts";
 * const upgrading = (c: HonoContext): boolean => c.req.header("upgrade") === "websocket";
 * ```
 */
export interface HonoContext {
  /** The request. */
  readonly req: {
    /** The standard request. */
    readonly raw: Request;
    /** A request header. */
    header(name: string): string | undefined;
  };
}

/**
 * Upgrade settings for a route, or a function of the request context that returns them
 * (or a `Response` to refuse the upgrade).
 *
 * @typeParam U The type of the user data.
 * @typeParam C Hono's context type.
 * @example
 * ```ts
 * import type { RouteSettings } from "./hono.ts";
 * const settings: RouteSettings = { onMessage: (ws, data) => ws.write(data) };
 * ```
 */
export type RouteSettings<U = unknown, C extends HonoContext = HonoContext> =
  | UpgradeSettings<U>
  | ((c: C) => UpgradeSettings<U> | Response | Promise<UpgradeSettings<U> | Response>);

/**
 * A Hono route handler (middleware signature).
 *
 * @typeParam C Hono's context type.
 * @example
 * ```ts
 * import type { RouteHandler } from "./hono.ts";
 * ```
 */
export type RouteHandler<C extends HonoContext = HonoContext> = (
  c: C,
  next: () => Promise<void>,
) => Promise<Response | void>;

/**
 * A Hono handler that upgrades WebSocket requests with wsx. Requests that do not ask for
 * a WebSocket go on to the next handler.
 *
 * @typeParam U The type of the user data.
 * @typeParam C Hono's context type (inferred).
 * @param settings Upgrade settings, or a function of the context returning them or a
 * refusal `Response`.
 * @returns The Hono handler.
 * @example
 * ```ts ignore
 * import { Hono } from "hono";
 * import { websocket } from "./hono.ts";
 * const app = new Hono();
 * app.get("/ws", websocket({ onMessage: (ws, data, isText) => ws.write(data, isText) }));
 * ```
 */
export function websocket<U = unknown, C extends HonoContext = HonoContext>(
  settings: RouteSettings<U, C>,
): RouteHandler<C> {
  return async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return await next();
    const resolved = typeof settings === "function" ? await settings(c) : settings;
    if (resolved instanceof Response) return resolved;
    return upgrade(c.req.raw, resolved);
  };
}
