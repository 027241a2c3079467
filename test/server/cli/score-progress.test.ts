/**
 * The progress bar `glomseg score --progress bar` draws on stderr (cli-progress, real), read back as written: the time
 * left is a dash until a tile is done (it printed "ETA NFs"), then the server's estimate.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REPORTERS, etaText } from '../../../server/src/cli/score-progress.js';

afterEach(() => vi.restoreAllMocks());

/** What one bar writes for one progress update, up to stop(). */
function barOutput(done: number, total: number, etaMs: number): string {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => (written.push(String(chunk)), true));
  const reporter = REPORTERS.bar();
  reporter.start('/slides/a.tif');
  reporter.progress('/slides/a.tif', done, total, etaMs, 0);
  reporter.stop();
  vi.restoreAllMocks();
  return written.join('');
}

describe('score progress bar', () => {
  it.each([
    ['no tile done, no estimate', 0, 12, Number.NaN],
    ['no tile done, an estimate of 0', 0, 12, 0],
    ['no tile done, an infinite estimate', 0, 12, Number.POSITIVE_INFINITY],
  ])('shows "ETA –" with %s', (_name, done, total, etaMs) => {
    const text = barOutput(done, total, etaMs);
    expect(text).toMatch(/a \|.*\| 0\/12 tiles \(0 glass\) \| ETA –/);
    expect(text).not.toMatch(/NF|NaN|Infinity/);
  });

  it('shows the server estimate once tiles are done, and 0s at the end', () => {
    expect(barOutput(6, 12, 30_400)).toMatch(/6\/12 tiles \(0 glass\) \| ETA 30s/);
    expect(barOutput(12, 12, 0)).toMatch(/12\/12 tiles \(0 glass\) \| ETA 0s/);
    expect([etaText(1, 9, 185_000), etaText(1, 9, 4_860_000)]).toEqual(['3m05s', '1h21m']);
  });
});
