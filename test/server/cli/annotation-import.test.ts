/**
 * How an annotation file becomes reviewed regions: shapes of a "Region" class are the regions, each with the
 * glomeruli whose centre lies in it (the rest said and left out); without them the slide's extent is the region;
 * a file belongs to the slide its name is, else the longest slide name it starts with; a re-import replaces.
 */
import { describe, expect, it } from 'vitest';
import { importedRegions, mergeRegions, slideForFile } from '../../../server/src/cli/annotation-import.js';

const square = (x: number, y: number, size: number) => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
  [x, y],
];
const feature = (className: string, ring: number[][]) => ({
  type: 'Feature',
  geometry: { type: 'Polygon', coordinates: [ring] },
  properties: { objectType: 'annotation', classification: { name: className } },
});

describe('importedRegions', () => {
  it('takes Region* shapes as regions and puts each glomerulus in the one holding its centre', () => {
    const content = JSON.stringify({
      type: 'FeatureCollection',
      features: [
        feature('Region*', square(0, 0, 500)),
        feature('Region*', square(1000, 0, 500)),
        feature('Glomerulus', square(100, 100, 50)),
        feature('Glomerulus', square(1100, 100, 50)),
        feature('Glomerulus', square(700, 700, 50)),
      ],
    });
    const { regions, warnings } = importedRegions(content, 'slide.geojson', { width: 2000, height: 2000 });
    expect(regions.map((r) => [r.id, r.glomeruli.length])).toEqual([
      ['slide/region-1', 1],
      ['slide/region-2', 1],
    ]);
    expect(regions[1].glomeruli[0]).toMatchObject({ exterior: square(1100, 100, 50).slice(0, 4), source: 'imported' });
    expect(warnings.join('\n')).toMatch(/1 of 3 glomeruli lie outside every reviewed region and are left out/);
  });

  it("makes the slide's extent the region of a file without region shapes", () => {
    const content = JSON.stringify({ type: 'FeatureCollection', features: [feature('Glomerulus', square(5, 5, 10))] });
    const { regions } = importedRegions(content, 'view.geojson', { width: 300, height: 200 });
    expect(regions).toHaveLength(1);
    expect(regions[0].outline).toEqual([
      [0, 0],
      [300, 0],
      [300, 200],
      [0, 200],
    ]);
    expect(regions[0].id).toBe('view');
  });
});

describe('slideForFile and mergeRegions', () => {
  const slides = [{ name: 'C001' }, { name: 'C001_region1' }, { name: 'C002' }];
  it('matches the slide a file is named after, the longest prefix winning', () => {
    expect(slideForFile('C001_region1.geojson', slides)?.name).toBe('C001_region1');
    expect(slideForFile('C001_region1_gt.json', slides)?.name).toBe('C001_region1');
    expect(slideForFile('C002-labelme.json', slides)?.name).toBe('C002');
    expect(slideForFile('C0021.geojson', slides)).toBeUndefined();
  });

  it('replaces a region of the same id and keeps the others', () => {
    const region = (id: string, n: number) => ({ id, outline: [], glomeruli: Array(n).fill(undefined) });
    expect(
      mergeRegions([region('a', 1), region('b', 1)], [region('b', 2)]).map((r) => [r.id, r.glomeruli.length]),
    ).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });
});
