/** A percent-encoded URL path segment, decoded; a malformed one is the client's mistake (400), not our bug. */
import { GlomsegError } from '@glomseg/shared/errors.js';

export function decodePathSegment(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `the URL path has malformed percent-encoding: '${encoded.slice(0, 200)}'`,
    );
  }
}
