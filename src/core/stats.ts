/**
 * Counters a server keeps, readable at any time.
 *
 * @module
 */

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
  };
}
