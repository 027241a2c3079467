/**
 * Bearer tokens from a file, one per line ('#' starts a comment). A presented token is compared with every
 * known one in constant time (SHA-256 digests of equal length through timingSafeEqual, no early exit), so
 * neither the token's length nor its first differing byte shows in the response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export class BearerTokens {
  private constructor(private readonly digests: Buffer[]) {}

  static fromList(tokens: readonly string[]): BearerTokens {
    const kept = tokens.map((t) => t.trim()).filter((t) => t && !t.startsWith('#'));
    if (kept.length === 0) throw new Error('the token list is empty: every client would be refused');
    return new BearerTokens(kept.map(digest));
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
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const presented = digest(match?.[1] ?? '');
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(known, presented) || ok;
    return ok && match !== null;
  }
}
