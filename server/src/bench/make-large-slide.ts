/**
 * `npm run make-large-slide -- --size 60000 --out /tmp/glomseg-bench/large-60k.tif`: writes a large pyramidal
 * BigTIFF by mirror-tiling the real eval region, and prints what it made (JSON), with its time and peak memory.
 */
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_BENCH_FOLDER } from './bench-paths.js';
import { EVAL_REGION_SLIDE } from '../repo-paths.mjs';
import { makeLargeSlide } from './large-slide.js';

function pixels(value: string): number {
  const n = Number(value.replace(/[_,]/g, '').replace(/k$/i, '000'));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${value}' is not a whole number of pixels`);
  return n;
}

function number(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`'${value}' is not a number`);
  return n;
}

const program = new Command('make-large-slide')
  .description(
    'write a large pyramidal JPEG BigTIFF by mirror-tiling the real HuBMAP eval region (never into the repo)',
  )
  .option(
    '--size <px>',
    'level-0 width (and height unless --height), e.g. 60000 or 60k (default 61440 = 60 x 1024, a whole number of model tiles)',
    pixels,
    61_440,
  )
  .option('--height <px>', 'level-0 height (default: --size)', pixels)
  .option('--out <file>', 'output file', path.join(DEFAULT_BENCH_FOLDER, 'large-61440.tif'))
  .option('--source <file>', 'source image (level 0 is read)', EVAL_REGION_SLIDE)
  .addOption(new Option('--tile <px>', 'stored tile edge').choices(['256', '512']).default('256'))
  .option('--quality <q>', 'JPEG quality', number, 85)
  .option('--mpp <um>', 'level-0 pixel size to record (um/px)', number, 0.5)
  .option(
    '--on-glass',
    'lay the source once on white glass instead of mirror-tiling it (a slide that is mostly background)',
    false,
  )
  .option('--half-glass', 'mirror-tile the source over the left half and leave the right half white glass', false)
  .action(async (opts) => {
    const report = await makeLargeSlide({
      source: opts.source,
      out: opts.out,
      width: opts.size,
      height: opts.height,
      tileSize: Number(opts.tile) as 256 | 512,
      quality: opts.quality,
      mpp: opts.mpp,
      surround: opts.halfGlass ? 'half-glass' : opts.onGlass ? 'glass' : 'mirror',
    });
    // maxRSS is in kilobytes: the whole process's peak, source buffer and libvips included.
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    process.stdout.write(`${JSON.stringify({ ...report, peakRssBytes })}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`make-large-slide: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
