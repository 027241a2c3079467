/** The model card: everything needed to run a segmentation model the same way it was trained. */

export interface ModelCard {
  id: string;
  name: string;
  description: string;
  /** ONNX file name, relative to the card. */
  file: string;
  /** Optional variants of the same weights (e.g. fp16 for WebGPU), keyed by purpose. */
  variants?: Record<string, string>;
  input: {
    name: string;
    layout: 'NCHW' | 'NHWC';
    channelOrder: 'RGB' | 'BGR';
    /** Pixel values are divided by `scale` (usually 255) before mean/std normalisation. */
    scale: number;
    mean: [number, number, number];
    std: [number, number, number];
  };
  output: {
    name: string;
    /** 'logits' needs a sigmoid; 'probability' is already in [0, 1]. */
    kind: 'logits' | 'probability';
    /** Channel of the glomerulus class (class 1). */
    channel: number;
  };
  /** The working scale: micrometres per pixel, and/or the pyramid downsample from level 0. */
  mpp?: number;
  downsample?: number;
  /** Output tile edge in model pixels. */
  tileSize: number;
  /** Context read on each side of a tile, in model pixels; only the centre is kept. */
  margin: number;
  /** Input sizes must be multiples of this (U-Net pooling depth). */
  sizeMultiple: number;
  threshold: number;
  /** Polygons smaller than this many level-0 square pixels are dropped. */
  minArea?: number;
  provenance?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}
