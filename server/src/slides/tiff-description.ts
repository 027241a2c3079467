/**
 * Pixel size and key/value metadata from the places TIFF-based slide formats keep them: Aperio's ImageDescription
 * (`Aperio ...|MPP = 0.499|AppMag = 20`), OME-XML (Pixels PhysicalSizeX/Y with units) and the TIFF
 * XResolution/YResolution/ResolutionUnit tags.
 */

export interface PixelSize {
  mppX: number;
  mppY: number;
}

/** Plausible micrometres per pixel for microscopy; outside it a value is a placeholder (e.g. 72 dpi = 352.8 um/px). */
const MIN_MPP = 0.01;
const MAX_MPP = 50;
/** Whole-number dpi up to this are screen/scanner defaults (72, 96, 300, 600...), not a microscope's resolution. */
const MAX_PLACEHOLDER_DPI = 1200;

function plausible(mpp: number): boolean {
  return Number.isFinite(mpp) && mpp >= MIN_MPP && mpp <= MAX_MPP;
}

export function isAperioDescription(description: string): boolean {
  return description.startsWith('Aperio');
}

export function isOmeXml(description: string): boolean {
  return /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<(\w+:)?OME\b/.test(description);
}

/** Aperio `|key = value` pairs as `aperio.<key>`, and MPP as the pixel size. */
export function parseAperioDescription(description: string): {
  metadata: Record<string, string>;
  pixelSize?: PixelSize;
} {
  const metadata: Record<string, string> = {};
  const parts = description.replace(/\0+$/, '').split('|');
  metadata['aperio.Header'] = parts[0].trim();
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    if (key) metadata[`aperio.${key}`] = part.slice(eq + 1).trim();
  }
  const mpp = Number(metadata['aperio.MPP']);
  return { metadata, pixelSize: plausible(mpp) ? { mppX: mpp, mppY: mpp } : undefined };
}

const MICROMETRES_PER_UNIT: Record<string, number> = {
  µm: 1,
  μm: 1,
  um: 1,
  micron: 1,
  nm: 1e-3,
  Å: 1e-4,
  pm: 1e-6,
  mm: 1e3,
  cm: 1e4,
  m: 1e6,
};

/** The first Pixels element's attributes as `ome.<name>`, and PhysicalSizeX/Y converted to micrometres. */
export function parseOmeXml(xml: string): { metadata: Record<string, string>; pixelSize?: PixelSize } {
  const metadata: Record<string, string> = {};
  const pixels = /<(?:\w+:)?Pixels\b([^>]*)>/.exec(xml);
  if (!pixels) return { metadata };
  for (const match of pixels[1].matchAll(/([\w:]+)\s*=\s*"([^"]*)"/g)) metadata[`ome.${match[1]}`] = match[2];
  const toMicrometres = (axis: 'X' | 'Y'): number => {
    const value = Number(metadata[`ome.PhysicalSize${axis}`]);
    const unit = metadata[`ome.PhysicalSize${axis}Unit`] ?? 'µm';
    const factor = MICROMETRES_PER_UNIT[unit];
    return factor === undefined ? NaN : value * factor;
  };
  const mppX = toMicrometres('X');
  const mppY = metadata['ome.PhysicalSizeY'] === undefined ? mppX : toMicrometres('Y');
  return { metadata, pixelSize: plausible(mppX) && plausible(mppY) ? { mppX, mppY } : undefined };
}

/** A TIFF RATIONAL as geotiff returns it: a number or [numerator, denominator]. */
export function rationalValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const [numerator, denominator] = Array.from(value as ArrayLike<number>);
    return denominator ? numerator / denominator : NaN;
  }
  return NaN;
}

/** Pixels per inch (unit 2) or per centimetre (unit 3) to micrometres per pixel; unit 1 ("none") says nothing. */
export function pixelSizeFromResolution(
  xResolution: unknown,
  yResolution: unknown,
  resolutionUnit: unknown,
): PixelSize | undefined {
  const unit = typeof resolutionUnit === 'number' ? resolutionUnit : 2;
  const micrometresPerUnit = unit === 2 ? 25_400 : unit === 3 ? 10_000 : NaN;
  const x = rationalValue(xResolution);
  const y = yResolution === undefined ? x : rationalValue(yResolution);
  if (unit === 2 && Number.isInteger(x) && x <= MAX_PLACEHOLDER_DPI) return undefined;
  const mppX = micrometresPerUnit / x;
  const mppY = micrometresPerUnit / y;
  return plausible(mppX) && plausible(mppY) ? { mppX, mppY } : undefined;
}
