/**
 * The annotation store's use case contract: a slide's reviewed regions and their glomeruli, saved as numbered
 * versions with author and time; the service the protocol layer calls and the ports it depends on (the store at the
 * edge, the caller's name). Pure: no I/O.
 */
import type { Polygon, Ring } from './geometry.js';
import type { Checked } from './glomseg-service.js';

/** Where a reviewed glomerulus came from. */
export type GlomerulusSource = 'predicted' | 'edited' | 'drawn' | 'imported';

export interface ReviewedGlomerulus extends Polygon {
  source: GlomerulusSource;
}

/** An area a person reviewed: every glomerulus in it is listed, the rest of it is "no glomerulus". */
export interface AnnotatedRegion {
  /** Unique within its version. */
  id: string;
  /** Level-0 pixels, not closed. */
  outline: Ring;
  glomeruli: ReviewedGlomerulus[];
}

export interface AnnotationVersionInfo {
  slideId: string;
  /** 1, 2, ... per slide. */
  version: number;
  /** The name of the token that saved it. */
  author: string;
  /** RFC 3339, UTC, milliseconds. */
  savedAt: string;
  regionCount: number;
  glomerulusCount: number;
  note: string;
}

/** One saved version, whole. */
export interface SlideAnnotations {
  version: AnnotationVersionInfo;
  regions: AnnotatedRegion[];
}

export interface SaveAnnotationsParams {
  slideId: string;
  /** The latest version the client edited; 0 when the slide had none. */
  baseVersion: number;
  regions: AnnotatedRegion[];
  note: string;
}

export interface AnnotationQuery {
  slideId: string;
  /** Unset: the latest. */
  version?: number;
}

/** Who is calling, as the protocol edge received it; the CallerNames port turns it into an author. */
export interface Caller {
  /** The call's `authorization` header (already accepted by the edge when tokens are configured). */
  authorization?: string;
}

/** What SaveAnnotations and friends call, with checked parameters. */
export interface AnnotationService {
  save(params: Checked<SaveAnnotationsParams>, caller: Caller, signal: AbortSignal): Promise<AnnotationVersionInfo>;
  /** Newest first; empty when nothing was saved. */
  list(params: Checked<AnnotationQuery>, signal: AbortSignal): Promise<AnnotationVersionInfo[]>;
  get(params: Checked<AnnotationQuery>, signal: AbortSignal): Promise<SlideAnnotations>;
  /** A version as QuPath GeoJSON text. */
  exportGeoJson(
    params: Checked<AnnotationQuery>,
    signal: AbortSignal,
  ): Promise<{ version: AnnotationVersionInfo; text: string }>;
}

// ---- Ports (implemented at the edges) ----

/** The outcome of appending a version: stored, or refused because the slide's latest is no longer the base. */
export type AppendOutcome = { stored: true } | { stored: false; latest: AnnotationVersionInfo };

/** Durable versions per slide (server/src/annotations/). A version once appended is never changed. */
export interface AnnotationStore {
  /**
   * Stores `record` as its slide's version `record.version.version`, which must be the latest + 1. Resolves once it
   * is durable; a version of that number already there (another writer) is refused with that version's summary.
   */
  append(record: SlideAnnotations, signal: AbortSignal): Promise<AppendOutcome>;
  /** The slide's versions, newest first. */
  versions(slideId: string, signal: AbortSignal): Promise<AnnotationVersionInfo[]>;
  /** One version, or undefined when the slide has no such version. */
  read(slideId: string, version: number, signal: AbortSignal): Promise<SlideAnnotations | undefined>;
  close(): Promise<void>;
}

/** The author a caller is saved as (the name of its token). */
export interface CallerNames {
  nameOf(caller: Caller): string;
}
