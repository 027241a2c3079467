/**
 * Bearer tokens from a file, one per line ('#' starts a comment): `TOKEN`, or `NAME TOKEN` to name who holds it
 * (the author saved annotations are credited to; an unnamed token is "token N", its line's place among the tokens).
 * A presented token is compared with every known one in constant time (SHA-256 digests of equal length through
 * timingSafeEqual, no early exit), so neither the token's length nor its first differing byte shows in the
 * response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

interface KnownToken {
  digest: Buffer;
  name: string;
}

export class BearerTokens {
  private constructor(private readonly known: KnownToken[]) {}

  static fromList(lines: readonly string[]): BearerTokens {
    const kept = lines.map((t) => t.trim()).filter((t) => t && !t.startsWith('#'));
    if (kept.length === 0) throw new Error('the token list is empty: every client would be refused');
    return new BearerTokens(
      kept.map((line, index) => {
        const words = line.split(/\s+/);
        if (words.length > 2)
          throw new Error(`token line ${index + 1} has ${words.length} words: write TOKEN or NAME TOKEN`);
        const [name, token] = words.length === 2 ? words : [`token ${index + 1}`, words[0]];
        return { digest: digest(token), name };
      }),
    );
  }

  static async load(file: string, signal?: AbortSignal): Promise<BearerTokens> {
    const text = await readFile(file, { encoding: 'utf8', signal });
    try {
      return BearerTokens.fromList(text.split(/\r?\n/));
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`);
    }
  }

  /** True when `authorization` is `Bearer <a known token>` (scheme case-insensitive). */
  accepts(authorization: string | undefined): boolean {
    return this.nameOf(authorization) !== undefined;
  }

  /** The name of the known token `authorization` presents, or undefined; every known token is compared. */
  nameOf(authorization: string | undefined): string | undefined {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const presented = digest(match?.[1] ?? '');
    let found: string | undefined;
    for (const known of this.known) if (timingSafeEqual(known.digest, presented)) found ??= known.name;
    return match !== null ? found : undefined;
  }
}
