/**
 * The annotation use case on fake ports: versions numbered per slide with author (the caller's token name) and
 * time; a save edited from a stale version refused with ABORTED saying who saved what when; two saves at once on
 * one slide: one wins, the other is refused; regions off the slide and unknown slides refused; GeoJSON export
 * that the ground-truth reader takes back; AdaptModel's reviewed regions from the latest version.
 */
import { describe, expect, it } from 'vitest';
import type { Checked } from '@glomseg/shared/glomseg-service.js';
import { parseAnnotationShapes } from '@glomseg/shared/annotations.js';
import type {
  AnnotationStore,
  AnnotationVersionInfo,
  AppendOutcome,
  SaveAnnotationsParams,
  SlideAnnotations,
} from '@glomseg/shared/reviewed-annotations.js';
import { checkSaveAnnotations } from '@glomseg/api/server/request-checks.js';
import { ReviewedAnnotations } from '../../../server/src/service/reviewed-annotations.js';
import { FakeSlides, paintedSlide } from '../../helpers/fake-ports.js';
import { rejection } from '../../helpers/rejection.js';

/** Versions in memory; `gate` holds appends until released, to interleave two saves. */
class MemoryStore implements AnnotationStore {
  readonly records = new Map<string, SlideAnnotations[]>();
  gate?: Promise<void>;

  async append(record: SlideAnnotations): Promise<AppendOutcome> {
    await this.gate;
    const list = this.records.get(record.version.slideId) ?? [];
    const latest = list.at(-1);
    if ((latest?.version.version ?? 0) + 1 !== record.version.version)
      return { stored: false, latest: latest!.version };
    list.push(structuredClone(record));
    this.records.set(record.version.slideId, list);
    return { stored: true };
  }

  async versions(slideId: string): Promise<AnnotationVersionInfo[]> {
    return (this.records.get(slideId) ?? []).map((r) => r.version).reverse();
  }

  async read(slideId: string, version: number): Promise<SlideAnnotations | undefined> {
    return this.records.get(slideId)?.[version - 1];
  }

  async close(): Promise<void> {}
}

const SIGNAL = new AbortController().signal;
const square = (x: number, y: number, size: number): Array<[number, number]> => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
];

function save(baseVersion: number, overrides: Partial<SaveAnnotationsParams> = {}): Checked<SaveAnnotationsParams> {
  return checkSaveAnnotations({
    slideId: 'painted.tif',
    baseVersion,
    note: '',
    regions: [
      {
        id: 'r1',
        outline: square(0, 0, 256),
        glomeruli: [
          { exterior: square(10, 10, 40), holes: [], source: 'predicted' },
          { exterior: square(100, 100, 30), holes: [], source: 'drawn' },
        ],
      },
    ],
    ...overrides,
  });
}

function setup() {
  const store = new MemoryStore();
  let clock = Date.parse('2026-12-07T05:00:00.000Z');
  const annotations = new ReviewedAnnotations({
    store,
    slides: new FakeSlides([paintedSlide({ width: 512, height: 512 })]),
    names: { nameOf: ({ authorization }) => (authorization === 'Bearer b' ? 'bob' : 'alice') },
    now: () => new Date((clock += 60_000)),
  });
  return { store, annotations };
}

describe('saving reviewed annotations', () => {
  it('numbers versions per slide, crediting the caller and the time', async () => {
    const { annotations } = setup();
    const first = await annotations.save(save(0, { note: 'first pass' }), {}, SIGNAL);
    expect(first).toEqual({
      slideId: 'painted.tif',
      version: 1,
      author: 'alice',
      savedAt: '2026-12-07T05:01:00.000Z',
      regionCount: 1,
      glomerulusCount: 2,
      note: 'first pass',
    });
    const second = await annotations.save(save(1), { authorization: 'Bearer b' }, SIGNAL);
    expect(second).toMatchObject({ version: 2, author: 'bob' });
    const listed = await annotations.list(checkQuery(), SIGNAL);
    expect(listed.map((v) => [v.version, v.author])).toEqual([
      [2, 'bob'],
      [1, 'alice'],
    ]);
    expect((await annotations.get(checkQuery(1), SIGNAL)).version.note).toBe('first pass');
    expect((await annotations.get(checkQuery(), SIGNAL)).version.version).toBe(2);
  });

  it('refuses a save edited from a version that is no longer the latest, saying who saved what when', async () => {
    const { annotations, store } = setup();
    await annotations.save(save(0), {}, SIGNAL);
    await annotations.save(save(1), { authorization: 'Bearer b' }, SIGNAL);
    const stale = await rejection(annotations.save(save(1), {}, SIGNAL));
    expect(stale.code).toBe('ABORTED');
    expect(stale.message).toBe(
      "slide 'painted.tif' was saved meanwhile (version 2 by bob at 2026-12-07T05:02:00.000Z); this edit started from version 1: load version 2, redo the changes on it and save again",
    );
    const fresh = await rejection(annotations.save(save(0), {}, SIGNAL));
    expect(fresh.message).toMatch(/this edit started from no saved version/);
    const ahead = await rejection(annotations.save(save(7), {}, SIGNAL));
    expect(ahead.code).toBe('FAILED_PRECONDITION');
    expect(ahead.message).toMatch(/has no version 7 to edit from; its latest is 2/);
    expect(store.records.get('painted.tif')).toHaveLength(2);
  });

  it('lets one of two saves from the same base through and refuses the other (one writer at a time)', async () => {
    const { annotations, store } = setup();
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    const both = [
      annotations.save(save(0, { note: 'alice' }), {}, SIGNAL),
      annotations.save(save(0, { note: 'bob' }), { authorization: 'Bearer b' }, SIGNAL),
    ];
    release();
    const [first, second] = await Promise.allSettled(both);
    expect(first).toMatchObject({ status: 'fulfilled', value: { version: 1, author: 'alice' } });
    expect(second.status).toBe('rejected');
    expect((second as PromiseRejectedResult).reason.code).toBe('ABORTED');
    expect((second as PromiseRejectedResult).reason.message).toMatch(/version 1 by alice/);
    expect(store.records.get('painted.tif')!.map((r) => r.version.note)).toEqual(['alice']);
  });

  it('refuses another writer that got the version first (a second process on the same store)', async () => {
    const { annotations, store } = setup();
    await store.append({
      version: { ...(await annotations.save(save(0), {}, SIGNAL)), version: 2, author: 'carol' },
      regions: [],
    });
    // The use case read version 1 as the latest; the store already has 2 from elsewhere.
    const versions = store.versions.bind(store);
    store.versions = async (slideId) => (await versions(slideId)).slice(1);
    const error = await rejection(annotations.save(save(1), {}, SIGNAL));
    expect(error.code).toBe('ABORTED');
    expect(error.message).toMatch(/version 2 by carol/);
  });

  it('refuses unknown slides and regions off the slide, and answers NOT_FOUND for versions not saved', async () => {
    const { annotations } = setup();
    expect((await rejection(annotations.save(save(0, { slideId: 'other.tif' }), {}, SIGNAL))).code).toBe('NOT_FOUND');
    const off = save(0, { regions: [{ id: 'far', outline: square(600, 0, 100), glomeruli: [] }] });
    const error = await rejection(annotations.save(off, {}, SIGNAL));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/regions\[0\] \('far'\) lies off the slide \(512 x 512 pixels\)/);
    expect((await rejection(annotations.get(checkQuery(), SIGNAL))).message).toBe(
      "no annotations have been saved for slide 'painted.tif'",
    );
    await annotations.save(save(0), {}, SIGNAL);
    expect((await rejection(annotations.get(checkQuery(3), SIGNAL))).message).toMatch(
      /no annotation version 3 \(latest: 1\)/,
    );
    expect(await annotations.list(checkQuery(undefined, 'other.tif'), SIGNAL)).toEqual([]);
  });
});

describe('reading them back', () => {
  it('exports QuPath GeoJSON whose glomeruli and regions the ground-truth reader takes back', async () => {
    const { annotations } = setup();
    await annotations.save(save(0), {}, SIGNAL);
    const { version, text } = await annotations.exportGeoJson(checkQuery(), SIGNAL);
    expect(version.version).toBe(1);
    const shapes = parseAnnotationShapes(text);
    expect(shapes.map((s) => s.label)).toEqual(['Region*', 'Glomerulus', 'Glomerulus']);
    expect(shapes[1].polygon.exterior).toEqual(square(10, 10, 40));
    const json = JSON.parse(text);
    expect(json.features[2].properties).toMatchObject({
      objectType: 'annotation',
      metadata: { region: 'r1', source: 'drawn' },
      measurements: { 'Area px^2': 900 },
    });
    expect(json.features[0].properties.name).toBe('r1');
  });

  it("gives AdaptModel the latest version's regions, ids stable across versions", async () => {
    const { annotations } = setup();
    expect(await annotations.reviewedRegions('painted.tif', SIGNAL)).toEqual([]);
    await annotations.save(save(0), {}, SIGNAL);
    await annotations.save(save(1, { regions: [{ id: 'r1', outline: square(0, 0, 300), glomeruli: [] }] }), {}, SIGNAL);
    expect(await annotations.reviewedRegions('painted.tif', SIGNAL)).toEqual([
      {
        id: 'painted.tif#r1',
        slideId: 'painted.tif',
        outline: { exterior: square(0, 0, 300), holes: [] },
        glomeruli: [],
      },
    ]);
  });
});

function checkQuery(version?: number, slideId = 'painted.tif') {
  return { slideId, version } as Checked<{ slideId: string; version?: number }>;
}
