/**
 * The reviewed-regions port over the annotation store: a slide's latest saved version, its regions with their
 * glomeruli. A region's id is `<slide>/<region id>`, stable across versions, so the held-out split keeps a region on
 * its side as more are saved.
 */
import type { ReviewedRegion, ReviewedRegionSource } from '@glomseg/shared/adaptation.js';
import type { Polygon, Ring } from '@glomseg/shared/geometry.js';

/** What is read of the annotation store (its port, shared/reviewed-annotations.ts, has this shape). */
export interface SavedAnnotations {
  /** Newest first. */
  versions(slideId: string, signal: AbortSignal): Promise<Array<{ version: number }>>;
  read(
    slideId: string,
    version: number,
    signal: AbortSignal,
  ): Promise<{ regions: Array<{ id: string; outline: Ring; glomeruli: Polygon[] }> } | undefined>;
}

export function savedReviewedRegions(store: SavedAnnotations): ReviewedRegionSource {
  return {
    async reviewedRegions(slideId: string, signal: AbortSignal): Promise<ReviewedRegion[]> {
      const [latest] = await store.versions(slideId, signal);
      if (!latest) return [];
      const saved = await store.read(slideId, latest.version, signal);
      return (saved?.regions ?? []).map((region) => ({
        id: `${slideId}/${region.id}`,
        slideId,
        outline: { exterior: region.outline, holes: [] },
        glomeruli: region.glomeruli.map((g) => ({ exterior: g.exterior, holes: g.holes })),
      }));
    },
  };
}
