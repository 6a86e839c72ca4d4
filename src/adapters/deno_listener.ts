/**
 * `Deno.serve` for the native transport, kept listening. When Deno's accept fails (out
 * of file descriptors), the server's `finished` promise rejects ("Too many open files")
 * and it stops listening for good; unhandled, that rejection ends the process. Here it
 * is counted and `Deno.serve` starts again on the same port, retried every 250 ms until
 * descriptors are free. Connections already open are not touched.
 *
 * @module
 */

/** The part of `Deno.HttpServer` wsx uses. */
export interface DenoServer {
  readonly addr: { readonly hostname: string; readonly port: number };
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}

/** `Deno.serve`'s options as wsx passes them. */
export interface DenoServeOptions {
  port: number;
  hostname: string;
  reusePort?: boolean;
  /** TLS: the certificate chain and key, PEM. */
  cert?: string;
  key?: string;
  onListen?: (addr: { hostname: string; port: number }) => void;
}

/** `Deno.serve`, as wsx calls it. */
export type DenoServeFn = (
  options: DenoServeOptions,
  handler: (request: Request) => Response | Promise<Response>,
) => DenoServer;

const RETRY_MS = 250;

/**
 * A `Deno.serve` server that comes back after its listener failed.
 *
 * @example
 * ```ts ignore
 * import { KeptListener } from "./deno_listener.ts";
 * const kept = new KeptListener(Deno.serve, { port: 0, hostname: "127.0.0.1" },
 *   () => new Response("hi"), () => console.log("listener restored"));
 * const { port } = await kept.ready;
 * await kept.shutdown();
 * ```
 */
export class KeptListener {
  /** Resolves with the address once the first server listens. */
  readonly ready: Promise<{ hostname: string; port: number }>;
  #server: DenoServer;
  #stopping = false;
  readonly #serve: DenoServeFn;
  readonly #options: DenoServeOptions;
  readonly #handler: (request: Request) => Response | Promise<Response>;
  readonly #onFailure: () => void;
  readonly #onRestart: (server: DenoServer) => void;

  /**
   * @param serve `Deno.serve`.
   * @param options Its options (a port of 0 is kept once picked).
   * @param handler The request handler.
   * @param onFailure Called each time the listener failed.
   * @param onRestart Called with the new server once it listens again.
   */
  constructor(
    serve: DenoServeFn,
    options: DenoServeOptions,
    handler: (request: Request) => Response | Promise<Response>,
    onFailure: () => void,
    onRestart: (server: DenoServer) => void = () => {},
  ) {
    this.#serve = serve;
    this.#options = options;
    this.#handler = handler;
    this.#onFailure = onFailure;
    this.#onRestart = onRestart;
    let listening!: (addr: { hostname: string; port: number }) => void;
    this.ready = new Promise((resolve) => listening = resolve);
    this.#server = this.#start({ ...options, onListen: (addr) => listening(addr) });
    // The same port again after a restart, even if 0 was asked for.
    this.ready.then((addr) => this.#options.port = addr.port);
  }

  /** The `Deno.HttpServer` listening now. */
  get server(): DenoServer {
    return this.#server;
  }

  /** Stops listening (the current server's graceful shutdown); no restart after it. */
  shutdown(): Promise<void> {
    this.#stopping = true;
    return this.#server.shutdown();
  }

  #start(options: DenoServeOptions): DenoServer {
    const server = this.#serve(options, this.#handler);
    server.finished.catch(() => {
      if (this.#stopping) return;
      this.#onFailure();
      this.#restart();
    });
    return server;
  }

  #restart(): void {
    setTimeout(() => {
      if (this.#stopping) return;
      try {
        this.#server = this.#start({ ...this.#options, onListen: () => {} });
        this.#onRestart(this.#server);
      } catch {
        // Still out of descriptors (or the port is busy): again soon.
        this.#restart();
      }
    }, RETRY_MS);
  }
}
