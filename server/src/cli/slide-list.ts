/** Slide lists for cohorts too long for a command line (`--list`), and folder globs for `merge`. */
import { readFile } from 'node:fs/promises';
import fg from 'fast-glob';

/** One slide per line; blank lines and `#` comments skipped. */
export async function readSlideList(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** Folder arguments with globs expanded (sorted), so `merge results/shard-*` works without a shell. */
export async function expandFolders(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args)
    out.push(...(fg.isDynamicPattern(arg) ? (await fg(arg, { onlyDirectories: true })).sort() : [arg]));
  return out;
}
