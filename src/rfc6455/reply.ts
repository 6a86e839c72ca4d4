/**
 * In-place replies: the handoff that lets an echoed payload leave without a copy.
 *
 * The parser unmasks each payload towards the front of its chunk, right after the
 * previous one, leaving in front of it exactly the room our (unmasked, 4 bytes shorter)
 * frame header needs; a payload split across chunks gets the same room at the front of
 * its own buffer. While the message handler runs, that payload is on offer here. When
 * the handler sends that very view back, the outbox writes the header into the room and
 * sends header and payload as one region of the chunk: the frames echoed from one chunk
 * then lie end to end and leave in one write, as a raw TCP echo would send them.
 *
 * One offer at a time for the whole process (the handler runs synchronously inside the
 * parser), taken at most once. The room lies in bytes the parser has consumed (the
 * client's header and masking key) and never writes again, outside every view it handed
 * out, so taking the offer late or from another connection is safe too. Pure.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);

/**
 * The payload on offer for an in-place reply, and where it lies.
 *
 * @example Offer a payload with 2 bytes of room in front of it
 * ```ts
 * import { takeReply, offerReply } from "./reply.ts";
 * const chunk = new Uint8Array([0, 0, 104, 105]), payload = chunk.subarray(2);
 * offerReply(payload, chunk, 0, 2);
 * console.log(takeReply(payload)?.room); // 0
 * ```
 */
export interface ReplyOffer {
  /** The view the handler was given. */
  payload: Uint8Array | null;
  /** The buffer the view lies in: the chunk, or the split frame's own buffer. */
  base: Uint8Array;
  /** Where the header room starts in `base`. */
  room: number;
  /** Where the payload starts in `base`. */
  start: number;
}

const offer: ReplyOffer = { payload: null, base: EMPTY, room: 0, start: 0 };

/**
 * Puts a payload on offer, replacing any earlier offer.
 *
 * @param payload The view about to be handed to the message handler.
 * @param base The buffer it lies in.
 * @param room Where the free bytes in front of it start in `base`.
 * @param start Where it starts in `base`.
 *
 * @example See {@linkcode ReplyOffer}.
 * ```ts
 * import { offerReply } from "./reply.ts";
 * const chunk = new Uint8Array(6);
 * offerReply(chunk.subarray(4), chunk, 0, 4);
 * ```
 */
export function offerReply(
  payload: Uint8Array,
  base: Uint8Array,
  room: number,
  start: number,
): void {
  offer.payload = payload;
  offer.base = base;
  offer.room = room;
  offer.start = start;
}

/**
 * Withdraws the offer, so that the chunk is not kept alive by it.
 *
 * @example Withdraw after the handler returned
 * ```ts
 * import { withdrawReply } from "./reply.ts";
 * withdrawReply();
 * ```
 */
export function withdrawReply(): void {
  offer.payload = null;
  offer.base = EMPTY;
}

/**
 * Takes the offer when `payload` is the very view on offer.
 *
 * @param payload The bytes about to be sent.
 * @returns The offer (valid until the next offer), or `null`.
 *
 * @example Only the offered view matches
 * ```ts
 * import { offerReply, takeReply } from "./reply.ts";
 * const chunk = new Uint8Array(6), payload = chunk.subarray(4);
 * offerReply(payload, chunk, 0, 4);
 * console.log(takeReply(chunk.subarray(4)), takeReply(payload) !== null, takeReply(payload)); // null true null
 * ```
 */
export function takeReply(payload: Uint8Array): ReplyOffer | null {
  if (payload !== offer.payload) return null;
  offer.payload = null;
  return offer;
}
