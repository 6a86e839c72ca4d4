/**
 * Counters a server keeps, readable at any time.
 *
 * @module
 */

import type { WsxErrorCode } from "../errors.ts";

/**
 * A server's counters.
 *
 * @example
 * ```ts
 * import { createStats } from "./stats.ts";
 * const stats = createStats();
 * console.log(stats.open, stats.openedTotal); // 0 0
 * ```
 */
export interface ServerStats {
  /** Connections open now. */
  open: number;
  /** Connections opened since the server started. */
  openedTotal: number;
  /** Closed connections by the code `onClose` reported. */
  closedByCode: Record<number, number>;
  /** Connections closed with 1009 for a message over `maxMsgSize`. */
  oversize: number;
  /** Connections closed because no frame followed a timeout ping in time. */
  pingTimeouts: number;
  /** Writes that returned `"dropped"`. */
  droppedWrites: number;
  /** Upgrade requests answered with an error status instead of 101. */
  refusedUpgrades: number;
  /**
   * Times the server failed to accept connections (out of file descriptors) and
   * restored its listener, where the runtime lets wsx see it (`capabilities.reportsAcceptErrors`).
   */
  acceptErrors: number;
}

/**
 * Fresh counters, all zero.
 *
 * @returns New counters.
 * @example
 * ```ts
 * import { createStats } from "./stats.ts";
 * createStats().closedByCode; // {}
 * ```
 */
export function createStats(): ServerStats {
  return {
    open: 0,
    openedTotal: 0,
    closedByCode: {},
    oversize: 0,
    pingTimeouts: 0,
    droppedWrites: 0,
    refusedUpgrades: 0,
    acceptErrors: 0,
  };
}

const OVERSIZE: ReadonlySet<WsxErrorCode | undefined> = new Set<WsxErrorCode>([
  "message-too-big",
  "stream-too-big",
]);

/**
 * Counts a connection's close by its code, and an oversized message among them: where
 * every path meets (the core's own check, Bun's cap, and the engine's checks at the
 * frame header all end as a close that carries the error table's code; the reason's
 * text, which a peer can send too, is never matched).
 *
 * @param stats The server's counters.
 * @param code The close code reported to `onClose`.
 * @param error The error-table entry that ended the connection, if any.
 * @example
 * ```ts
 * import { countClose, createStats } from "./stats.ts";
 * const stats = createStats();
 * countClose(stats, 1009, "message-too-big");
 * console.log(stats.oversize, stats.closedByCode[1009]); // 1 1
 * ```
 */
export function countClose(stats: ServerStats, code: number, error?: WsxErrorCode): void {
  stats.closedByCode[code] = (stats.closedByCode[code] ?? 0) + 1;
  if (OVERSIZE.has(error)) stats.oversize++;
}
