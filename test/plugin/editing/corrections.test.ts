/** The viewer's corrections as pure edits: what each tool does, the counts, and the saved form and back. */
import { describe, expect, it } from 'vitest';
import {
  EMPTY_CORRECTIONS,
  acceptPrediction,
  correctionCounts,
  deleteTarget,
  drawGlomerulus,
  fromSavedRegions,
  markRegion,
  reshape,
  reshapePrediction,
  toSavedRegions,
} from '../../../plugin/src/editing/corrections.js';
import { UndoStack } from '../../../plugin/src/editing/undo-stack.js';

const square = (x: number, y: number, s: number): [number, number][] => [
  [x, y],
  [x + s, y],
  [x + s, y + s],
  [x, y + s],
];

describe('corrections', () => {
  it('accepts, deletes, reshapes and draws, counting each kind', () => {
    let state = acceptPrediction(EMPTY_CORRECTIONS, 'p1', square(10, 10, 20));
    state = deleteTarget(state, { predictionId: 'p2', ring: square(100, 100, 20) });
    state = reshapePrediction(state, 'p3', square(200, 200, 30));
    state = drawGlomerulus(state, square(300, 300, 40));
    state = markRegion(state, square(0, 0, 250));
    expect(state.items.map((item) => item.kind)).toEqual(['accepted', 'deleted', 'edited', 'drawn', 'region']);
    expect(correctionCounts(state)).toEqual({ accepted: 1, deleted: 1, edited: 1, drawn: 1, corrected: 3, regions: 1 });
    // Accepting what was deleted replaces the mark: one item per prediction.
    state = acceptPrediction(state, 'p2', square(100, 100, 20));
    expect(state.items.filter((item) => item.predictionId === 'p2').map((item) => item.kind)).toEqual(['accepted']);
  });

  it('delete: a prediction is marked false, an accepted one becomes false, a drawn one or a mark goes away', () => {
    let state = acceptPrediction(EMPTY_CORRECTIONS, 'p1', square(10, 10, 20));
    const accepted = state.items[0].id;
    state = deleteTarget(state, { itemId: accepted });
    expect(state.items.map((item) => item.kind)).toEqual(['deleted']);
    state = deleteTarget(state, { itemId: state.items[0].id });
    expect(state.items).toEqual([]);
    state = drawGlomerulus(state, square(0, 0, 5));
    state = deleteTarget(state, { itemId: state.items[0].id });
    expect(state.items).toEqual([]);
  });

  it('reshaping an accepted glomerulus makes it edited; a drawn one stays drawn; the state before is untouched', () => {
    const before = acceptPrediction(EMPTY_CORRECTIONS, 'p1', square(10, 10, 20));
    const after = reshape(before, before.items[0].id, square(12, 10, 20));
    expect(after.items[0]).toMatchObject({ kind: 'edited', predictionId: 'p1', ring: square(12, 10, 20) });
    expect(before.items[0]).toMatchObject({ kind: 'accepted', ring: square(10, 10, 20) });
    const drawn = drawGlomerulus(EMPTY_CORRECTIONS, square(0, 0, 5));
    expect(reshape(drawn, drawn.items[0].id, square(1, 0, 5)).items[0].kind).toBe('drawn');
  });

  it('saves glomeruli inside a reviewed region in it, and others as regions of their own outline; loads back', () => {
    let state = markRegion(EMPTY_CORRECTIONS, square(0, 0, 100));
    state = acceptPrediction(state, 'p1', square(10, 10, 20));
    state = drawGlomerulus(state, square(50, 50, 20));
    state = reshapePrediction(state, 'p2', square(500, 500, 30));
    state = deleteTarget(state, { predictionId: 'p3', ring: square(800, 800, 10) });
    const regions = toSavedRegions(state);
    expect(regions.map((region) => [region.id.replace(/-\d+$/, ''), region.glomeruli.map((g) => g.source)])).toEqual([
      ['region', ['predicted', 'drawn']],
      ['glomerulus', ['edited']],
      ['false', []],
    ]);
    expect(regions[1].outline).toEqual(square(500, 500, 30));
    const loaded = fromSavedRegions(regions);
    expect(correctionCounts(loaded)).toEqual(correctionCounts(state));
    expect(toSavedRegions(loaded).map((r) => r.glomeruli.length)).toEqual([2, 1, 0]);
  });
});

describe('UndoStack', () => {
  it('undoes and redoes; a new edit drops what could be redone', () => {
    const stack = new UndoStack(0);
    stack.push(1);
    stack.push(2);
    expect(stack.undo()).toBe(1);
    expect(stack.undo()).toBe(0);
    expect(stack.undo()).toBeUndefined();
    expect(stack.redo()).toBe(1);
    stack.push(5);
    expect(stack.redo()).toBeUndefined();
    expect([stack.current, stack.canUndo, stack.canRedo]).toEqual([5, true, false]);
    stack.reset(9);
    expect([stack.current, stack.canUndo]).toEqual([9, false]);
  });
});
