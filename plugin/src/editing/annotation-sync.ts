/**
 * Corrections to and from the server's annotation store (SaveAnnotations with the version they were edited from,
 * GetAnnotations of the latest, ListAnnotations), through the api's one client mapping.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import type { AnnotationVersionInfo } from '@glomseg/shared/reviewed-annotations.js';
import {
  annotationVersionFromProto,
  saveAnnotationsRequestToProto,
  slideAnnotationsFromProto,
} from '@glomseg/api/client/annotations-proto.js';
import type { GlomsegClient } from '../glomseg-client.js';
import { fromSavedRegions, toSavedRegions, type CorrectionsState } from './corrections.js';

export async function saveCorrections(
  client: GlomsegClient,
  params: { slideId: string; baseVersion: number; state: CorrectionsState; note?: string },
  signal: AbortSignal,
): Promise<AnnotationVersionInfo> {
  const request = saveAnnotationsRequestToProto({
    slideId: params.slideId,
    baseVersion: params.baseVersion,
    regions: toSavedRegions(params.state),
    note: params.note ?? '',
  });
  return annotationVersionFromProto(await client.saveAnnotations(request, { signal }));
}

/** The slide's latest saved version as corrections; undefined when nothing was saved for it. */
export async function loadLatestCorrections(
  client: GlomsegClient,
  slideId: string,
  signal: AbortSignal,
): Promise<{ version: AnnotationVersionInfo; state: CorrectionsState } | undefined> {
  try {
    const saved = slideAnnotationsFromProto(await client.getAnnotations({ slideId }, { signal }));
    return { version: saved.version, state: fromSavedRegions(saved.regions) };
  } catch (error) {
    if (ConnectError.from(error).code === Code.NotFound && /no annotations/.test(String(error))) return undefined;
    throw error;
  }
}

/** The slide's newest saved version, if any. */
export async function latestVersion(
  client: GlomsegClient,
  slideId: string,
  signal: AbortSignal,
): Promise<AnnotationVersionInfo | undefined> {
  const { versions } = await client.listAnnotations({ slideId }, { signal });
  return versions[0] && annotationVersionFromProto(versions[0]);
}

/** A save refused because someone saved meanwhile (ABORTED), as the panel says it. */
export function isConflict(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Aborted;
}
