/**
 * The independent side of the slide-reader tests: Debian's OpenSlide (python3-openslide, through openslide_tool.py)
 * reads the reference pixels and writes the Aperio JPEG 2000 slides; libtiff's tiffcp recompresses TIFFs.
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RgbImage } from '@glomseg/shared/slide-source.js';

const run = promisify(execFile);
const TOOL = fileURLToPath(new URL('./openslide_tool.py', import.meta.url));
let regions = 0;

/** OpenSlide's RGB pixels of a region; x and y in the level's own pixels (whole level-0 pixels: see the tool). */
export async function openSlideRegion(
  file: string,
  level: number,
  x: number,
  y: number,
  width: number,
  height: number,
): Promise<RgbImage> {
  const out = path.join(tmpdir(), `glomseg-openslide-${process.pid}-${++regions}.rgb`);
  await run(
    '/usr/bin/python3',
    [TOOL, 'region', file, String(level), String(x), String(y), String(width), String(height), out],
    { maxBuffer: 1 << 20 },
  );
  try {
    return { width, height, data: new Uint8Array(await readFile(out)) };
  } finally {
    await rm(out, { force: true });
  }
}

/**
 * An Aperio SVS of two levels (1000 x 744 and 500 x 372, 256 x 256 tiles) in JPEG 2000: 33005 RGB, or 33003
 * YCbCr with its chroma at half width (422, as Aperio's) or whole (444).
 */
export async function writeAperioJp2k(
  source: string,
  out: string,
  compression: 33003 | 33005,
  chroma: '422' | '444' = '422',
): Promise<void> {
  await run('/usr/bin/python3', [TOOL, 'aperio-jp2k', source, out, String(compression), chroma]);
}

/** An uncompressed tiled (256 x 256) RGB TIFF of the same 1000 x 744 window. */
export async function writeReferenceTiff(source: string, out: string): Promise<void> {
  await run('/usr/bin/python3', [TOOL, 'tiled-tiff', source, out]);
}

/** libtiff's own recompression: `tiffcp -c <codec>`. */
export async function tiffcp(source: string, out: string, codec: string): Promise<void> {
  await run('/usr/bin/tiffcp', ['-c', codec, source, out]);
}

/** How many samples differ by each amount (index = |a - b|), and the largest difference. */
export function differences(a: RgbImage, b: RgbImage): { max: number; counts: number[]; mean: number } {
  if (a.width !== b.width || a.height !== b.height)
    throw new Error(`sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  const counts = new Array<number>(256).fill(0);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    counts[d]++;
    sum += d;
  }
  let max = 255;
  while (max > 0 && counts[max] === 0) max--;
  return { max, counts: counts.slice(0, max + 1), mean: sum / a.data.length };
}
