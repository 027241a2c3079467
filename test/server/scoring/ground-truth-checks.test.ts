/**
 * Ground truth over the real gRPC API, read before any inference: annotations sent empty are refused (not taken for
 * "none"), `truth_classes` picks the shapes that count (by default the glomerulus names), and what was left out or
 * repaired comes back in ScoreResult.warnings. Real server, real model, the evaluation region.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { AnnotationFormat, type ScoreSlideEvent } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { KIDNEY_REGION_GEOJSON } from '../../helpers/paths.js';
import { ConnectError } from '@connectrpc/connect';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const SLIDE = 'kidney-region.tif';
/** One Dice tile of the region: a few model tiles. */
const REGION = { x: 0, y: 0, width: 1600, height: 1200 };

const served = useGrpcApp({ warm: true });

/** Every event of a ScoreSlide call, and the status it ended with. */
async function scoreSlide(annotations: {
  content: string;
  truthClasses?: string[];
}): Promise<{ events: ScoreSlideEvent[]; code: number; details: string }> {
  const events: ScoreSlideEvent[] = [];
  try {
    for await (const event of served.client.scoreSlide({
      slideId: SLIDE,
      region: REGION,
      annotations: { ...annotations, format: AnnotationFormat.AUTO, name: 'truth.geojson' },
    }))
      events.push(event);
    return { events, code: 0, details: '' };
  } catch (error) {
    const e = ConnectError.from(error);
    return { events, code: e.code, details: e.rawMessage };
  }
}

function summaryOf(events: ScoreSlideEvent[]) {
  const last = events.at(-1)?.event;
  if (last?.case !== 'result') throw new Error('the stream ended without its result');
  return last.value;
}

function withTissue(): string {
  const collection = JSON.parse(readFileSync(KIDNEY_REGION_GEOJSON, 'utf8'));
  const tissue = [
    [0, 0],
    [6400, 0],
    [6400, 4800],
    [0, 4800],
    [0, 0],
  ];
  collection.features.push({
    type: 'Feature',
    properties: { objectType: 'annotation', classification: { name: 'Tissue' } },
    geometry: { type: 'Polygon', coordinates: [tissue] },
  });
  return JSON.stringify(collection);
}

describe('ScoreSlide reads the ground truth before any inference', () => {
  it('refuses annotations sent empty with INVALID_ARGUMENT, before a single tile or progress event', async () => {
    const before = served.app.service.stats().tilesComputed;
    for (const content of ['', '  \n']) {
      const { events, code, details } = await scoreSlide({ content });
      expect(code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(details).toMatch(/the annotation file is empty/);
      expect(events).toEqual([]);
    }
    expect(served.app.service.stats().tilesComputed).toBe(before);
  });

  it('refuses an empty truth class by name', async () => {
    const { code, details } = await scoreSlide({ content: withTissue(), truthClasses: ['Tissue', ' '] });
    expect(code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(details).toBe('annotations.truth_classes[1] is empty; name a class (or "*" for every shape)');
  });

  it('counts the glomerulus classes by default and says what it left out; truth_classes counts others', async () => {
    const plain = summaryOf((await scoreSlide({ content: readFileSync(KIDNEY_REGION_GEOJSON, 'utf8') })).events);
    expect(plain.warnings).toEqual([]);
    expect(plain.metrics!.truthCount).toBeGreaterThan(3);

    const byDefault = summaryOf((await scoreSlide({ content: withTissue() })).events);
    expect(byDefault.metrics).toEqual(plain.metrics);
    expect(byDefault.warnings).toEqual([expect.stringMatching(/left out 1 shape of other classes \("Tissue" 1\)/)]);

    const tissue = summaryOf((await scoreSlide({ content: withTissue(), truthClasses: ['Tissue'] })).events);
    expect(tissue.metrics).toMatchObject({ truthCount: 1, truthArea: REGION.width * REGION.height });
    const both = summaryOf(
      (await scoreSlide({ content: withTissue(), truthClasses: ['glomerulus', 'TISSUE'] })).events,
    );
    expect(both.metrics!.truthCount).toBe(plain.metrics!.truthCount + 1);
    expect(both.warnings).toEqual([]);
  });
});
