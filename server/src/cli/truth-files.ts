/** Which ground-truth file belongs to a slide: `score --annotations` and the report's redrawing of the matching. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isAnnotationFileName } from '@glomseg/shared/annotation-formats/index.js';
import { slideNameOf } from './slide-names.js';

/** The annotation file for a slide: the file given, or the one in a folder whose name starts with the slide's. */
export async function findAnnotations(annotations: string | undefined, slide: string): Promise<string | undefined> {
  if (!annotations) return undefined;
  const info = await stat(annotations).catch(() => undefined);
  if (!info) throw new Error(`annotations ${annotations} do not exist`);
  if (info.isFile()) return annotations;
  const name = slideNameOf(slide);
  const candidates = (await readdir(annotations))
    .filter((f) => isAnnotationFileName(f))
    .filter(
      (f) =>
        slideNameOf(f) === name || f.startsWith(`${name}_`) || f.startsWith(`${name}.`) || f.startsWith(`${name}-`),
    );
  candidates.sort((a, b) => a.length - b.length);
  return candidates[0] ? path.join(annotations, candidates[0]) : undefined;
}
