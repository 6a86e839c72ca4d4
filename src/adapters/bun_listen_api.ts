/**
 * The part of Bun's own TCP API (`Bun.listen`) that wsx's engine on it uses, declared
 * here as small local interfaces rather than taken from Bun's types: its sockets and the
 * handlers a listener sets (`bun_listen_socket.ts`, `bun_listen.ts`).
 *
 * @module
 */

/**
 * One socket of `Bun.listen`, with the data a listener keeps on it.
 *
 * @typeParam D The per-connection data.
 * @example
 * ```ts
 * import type { BunSocket } from "./bun_listen_api.ts";
 * const written = (socket: BunSocket<unknown>) => socket.write("hi");
 * ```
 */
export interface BunSocket<D> {
  /** The per-connection data. */
  data: D | undefined;
  /** Writes what the kernel takes now (a string as UTF-8); returns that byte count (-1 when closed). */
  write(data: Uint8Array | string): number;
  /**
   * Closes after what was written: once Bun holds no unwritten bytes it closes the whole
   * socket, and a peer still sending then gets a reset.
   */
  end(): void;
  /** Half-closes (FIN, `shutdown(SHUT_WR)`): reading goes on until the peer closes. */
  shutdown(halfClose?: boolean): void;
  /** Closes at once. */
  terminate(): void;
  /** Stops reading. */
  pause(): void;
  /** Reads again. */
  resume(): void;
  /** Sets `TCP_NODELAY`. */
  setNoDelay(noDelay?: boolean): boolean;
}

/**
 * The `socket` handlers of a `Bun.listen` server, as wsx sets them.
 *
 * @typeParam D The per-connection data.
 * @example
 * ```ts
 * import type { BunHandlers } from "./bun_listen_api.ts";
 * const quiet: BunHandlers<unknown> = {
 *   open() {}, data() {}, drain() {}, end() {}, close() {}, error() {},
 * };
 * ```
 */
export interface BunHandlers<D> {
  /** A connection was accepted. */
  open(socket: BunSocket<D>): void;
  /** Bytes arrived. */
  data(socket: BunSocket<D>, chunk: Uint8Array): void;
  /** The kernel takes writes again. */
  drain(socket: BunSocket<D>): void;
  /** The peer half-closed (FIN). */
  end(socket: BunSocket<D>): void;
  /** The connection is gone. */
  close(socket: BunSocket<D>): void;
  /** The connection failed. */
  error(socket: BunSocket<D>, error: Error): void;
  /** A TLS connection's handshake ended (TLS listeners only). */
  handshake?(socket: BunSocket<D>, success: boolean, authorizationError: Error | null): void;
}
