/**
 * The TIFF compressions the TIFF reader decodes. Each codec registers itself from its own file (imported by
 * index.ts): its name in slide metadata and, where geotiff has no decoder that runs here, its own, which goes
 * into geotiff's decoder registry (geotiff's `addDecoder`). geotiff's worker pool runs our worker
 * (codec-worker.ts), which imports the same codec files, so a codec registered here also decodes there.
 */
import { addDecoder, type BaseDecoder } from 'geotiff';

export interface TiffCodec {
  /** Values of the TIFF Compression tag it decodes. */
  codes: readonly number[];
  /** Its name in slide metadata ('jpeg2000'). */
  name: string;
  /** The decoder class, loaded on first use; none: geotiff's own decoder. */
  decoder?: () => Promise<typeof BaseDecoder>;
  /** False for a decoder that already works off the calling thread (sharp's on libuv's threads). */
  preferWorker?: boolean;
  /** False for a compression named only, which nothing here decodes. */
  decodes?: boolean;
}

const codecs = new Map<number, TiffCodec>();

export function registerTiffCodec(codec: TiffCodec): void {
  for (const code of codec.codes) codecs.set(code, codec);
  if (codec.decoder) addDecoder([...codec.codes], codec.decoder, undefined, codec.preferWorker ?? true);
}

export function isDecodableCompression(code: number): boolean {
  const codec = codecs.get(code);
  return codec !== undefined && codec.decodes !== false;
}

export function tiffCompressionName(code: number): string {
  return codecs.get(code)?.name ?? `tiff-compression-${code}`;
}
