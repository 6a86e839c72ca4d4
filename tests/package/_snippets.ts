/**
 * The README's code blocks, as a reader pastes them. Every `ts` or `js` block names the
 * runtime whose types it is checked with after the language: "```ts node", "```ts bun",
 * "```ts deno". A block without one is an error, so a new snippet cannot escape the check.
 *
 * @module
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The runtimes a snippet can be written for. */
export type SnippetRuntime = "node" | "bun" | "deno";

/** One code block of the README. */
export interface Snippet {
  readonly runtime: SnippetRuntime;
  readonly language: "ts" | "js";
  /** The README line of the opening fence. */
  readonly line: number;
  readonly code: string;
}

const RUNTIMES: readonly string[] = ["node", "bun", "deno"];

/**
 * Every `ts`/`js` block of a Markdown text.
 *
 * @throws {Error} For a block that names no runtime, or an unclosed block.
 */
export function readmeSnippets(markdown: string): Snippet[] {
  const lines = markdown.split("\n");
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)\s*(.*)$/.exec(lines[i]);
    if (!fence) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith("```"));
    if (end < 0) throw new Error(`README line ${i + 1}: a code block is never closed`);
    const [, info, rest] = fence;
    const language = info === "typescript" ? "ts" : info === "javascript" ? "js" : info;
    if (language === "ts" || language === "js") {
      const runtime = rest.trim().split(/\s+/)[0];
      if (!RUNTIMES.includes(runtime)) {
        throw new Error(
          `README line ${i + 1}: "${lines[i]}" names no runtime (add one of ${
            RUNTIMES.join(", ")
          })`,
        );
      }
      const code = lines.slice(i + 1, end).join("\n") + "\n";
      snippets.push({ runtime: runtime as SnippetRuntime, language, line: i + 1, code });
    }
    i = end;
  }
  return snippets;
}

/**
 * Writes the snippets of one runtime as files named after their README line
 * (`readme_L42.ts`), so that a checker's `readme_L42.ts(3,7)` is README line 45.
 *
 * @returns The paths written, relative to `dir`'s parent.
 */
export async function writeSnippets(
  snippets: readonly Snippet[],
  runtime: SnippetRuntime,
  dir: string,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const snippet of snippets.filter((s) => s.runtime === runtime)) {
    const name = `readme_L${snippet.line}.${snippet.language === "js" ? "mjs" : "ts"}`;
    await writeFile(join(dir, name), snippet.code);
    files.push(join(dir, name));
  }
  return files;
}
