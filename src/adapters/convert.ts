/**
 * Text and bytes for runtimes whose send picks the frame type from the value's type
 * (Deno, Bun): a text message given as bytes is decoded, a binary one given as a string
 * is encoded.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The message as a string, for a text frame.
 *
 * @param data The message.
 * @returns A string.
 * @example
 * ```ts
 * import { asText } from "./convert.ts";
 * asText(new Uint8Array([104, 105])); // "hi"
 * ```
 */
export function asText(data: string | Uint8Array): string {
  return typeof data === "string" ? data : decoder.decode(data);
}

/**
 * The message as bytes, for a binary frame.
 *
 * @param data The message.
 * @returns The bytes (UTF-8 for a string).
 * @example
 * ```ts
 * import { asBytes } from "./convert.ts";
 * asBytes("hi"); // Uint8Array [104, 105]
 * ```
 */
export function asBytes(data: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return (typeof data === "string" ? encoder.encode(data) : data) as Uint8Array<ArrayBuffer>;
}
