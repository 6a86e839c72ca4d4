/**
 * Hono with wsx: ordinary routes, middleware (logging, CORS-style headers, an auth check)
 * and a WebSocket route, on any runtime:
 *
 *   npm run hono:node   npm run hono:deno   npm run hono:bun
 *
 * PORT (default 8080; 0 picks a free port) and HOST (default 127.0.0.1, this machine only;
 * 0.0.0.0 for every interface) come from the environment, and on Deno and Bun
 * WS_TRANSPORT: `engine` serves the app with wsx's `serve()` (wsx's engine, the
 * default), `native` with the runtime's own `Deno.serve`/`Bun.serve` and wsx's native
 * adapter. On Node.js the app runs on `@hono/node-server` with
 * `attach()`, wsx's engine on the application's own server.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { count, Websocket, type WebSocketConnection } from "../mod.ts";
import { websocket } from "../src/integrations/hono.ts";
import { detectRuntime } from "../src/serve.ts";

type User = { name: string; messages: number };
type AppEnv = { Variables: { user: string } };

const app = new Hono<AppEnv>();
const log: string[] = [];

app.use("*", async (c, next) => {
  log.push(`${c.req.method} ${new URL(c.req.url).pathname}`);
  await next();
  c.header("x-served-by", "wsx+hono");
});
app.use("/ws/*", async (c, next) => {
  const token = c.req.query("token");
  if (token === undefined || token.length === 0) {
    return c.text("Unauthorized", 401, { "www-authenticate": "Bearer" });
  }
  c.set("user", token);
  await next();
});

app.get("/", (c) => c.text("Hello from Hono and wsx!"));
app.get("/count", (c) => c.json({ count: count(), log: log.length }));
app.get(
  "/ws/echo",
  // Annotating the context gives the settings function Hono's full, typed context.
  websocket((c: Context<AppEnv>) => ({
    udata: { name: c.get("user"), messages: 0 },
    onOpen: (ws) => void ws.write(`hello ${ws.getUdata().name}`),
    onMessage(ws: WebSocketConnection<User>, data, isText) {
      ws.getUdata().messages++;
      if (data === "whoami") {
        return void ws.write(`${ws.getUdata().name}:${ws.getUdata().messages}:${ws.getUuid()}`);
      }
      if (data === "broadcast") {
        return void Websocket.each(ws, (other) => other.write(`from ${ws.getUdata().name}`), null);
      }
      ws.write(data, isText);
    },
  })),
);
app.get("/ws/refuse", websocket(() => new Response("Not today", { status: 403 })));

function env(name: string): string | undefined {
  const g = globalThis as {
    Deno?: { env: { get(n: string): string | undefined } };
    process?: { env: Record<string, string | undefined> };
  };
  return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
}

async function listen(port: number, hostname: string): Promise<number> {
  const runtime = detectRuntime();
  const transport = env("WS_TRANSPORT") || "engine";
  if (runtime !== "node" && transport === "engine") {
    const { serve } = await import("../src/serve.ts");
    return (await serve({ port, hostname, transport: "engine", onRequest: app.fetch })).port;
  }
  switch (runtime) {
    case "deno": {
      const { fetchHandler } = await import("../src/adapters/deno.ts");
      const deno = (globalThis as unknown as {
        Deno: {
          serve(
            o: { port: number; hostname: string; onListen(a: { port: number }): void },
            h: unknown,
          ): unknown;
        };
      }).Deno;
      return await new Promise((resolve) =>
        deno.serve({ port, hostname, onListen: (a) => resolve(a.port) }, fetchHandler(app.fetch))
      );
    }
    case "bun": {
      const { fetchHandler, websocketHandler } = await import("../src/adapters/bun.ts");
      const bun = (globalThis as unknown as {
        Bun: { serve(o: Record<string, unknown>): { port: number } };
      }).Bun;
      const websocket = websocketHandler();
      return bun.serve({ port, hostname, fetch: fetchHandler(app.fetch), websocket }).port;
    }
    case "node": {
      const { serve } = await import("@hono/node-server");
      const { attach } = await import("../src/adapters/node.ts");
      return await new Promise((resolve) => {
        const server = serve({ fetch: app.fetch, port, hostname }, (info) => resolve(info.port));
        attach(server, app.fetch);
      });
    }
  }
}

const port = await listen(Number(env("PORT") ?? 8080), env("HOST") || "127.0.0.1");
console.log(`Hono and wsx on http://localhost:${port}/ (WebSocket: /ws/echo?token=<name>)`);
