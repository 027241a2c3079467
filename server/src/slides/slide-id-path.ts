/**
 * Which file a slide id names. An id can never reach a file outside the catalog's folders: absolute paths,
 * backslashes, NUL bytes, '.'/'..' or empty segments are refused (INVALID_ARGUMENT), and a path that a symlink
 * resolves outside its folder too. Ids come checked (api/src/server/request-fields.ts: set, at most
 * MAX_SLIDE_ID_LENGTH); what a path may hold is judged here.
 */
import path from 'node:path';
import { realpath, stat } from 'node:fs/promises';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { isSlideFileName } from './slide-readers.js';
import { isInside, type SlideFolder } from './slide-folders.js';

export function noSuchSlide(id: string): GlomsegError {
  return new GlomsegError('NOT_FOUND', `no slide '${id}' in the configured slide folders`);
}

/** The real path of a slide id: a file registered under that id, else a slide file inside one of the folders. */
export async function resolveSlideId(
  id: string,
  folders: readonly SlideFolder[],
  registered: ReadonlyMap<string, string>,
): Promise<string> {
  if (typeof id !== 'string' || id.length === 0) throw new GlomsegError('INVALID_ARGUMENT', 'the slide id is empty');
  if (id.includes('\0')) throw new GlomsegError('INVALID_ARGUMENT', 'the slide id contains a NUL byte');
  const file = registered.get(id);
  if (file) return file;
  checkRelativePath(id);
  const folder = folders.find((candidate) => candidate.prefix === '' || id.startsWith(candidate.prefix));
  if (!folder || !isSlideFileName(id)) throw noSuchSlide(id);
  const relative = folder.prefix ? id.slice(folder.prefix.length) : id;
  const real = await realpath(path.join(folder.root, ...relative.split('/'))).catch(() => {
    throw noSuchSlide(id);
  });
  if (!isInside(folder.root, real)) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `slide id '${id}' leads outside the configured slide folders (through a symbolic link)`,
    );
  }
  if (!(await stat(real)).isFile()) throw noSuchSlide(id);
  return real;
}

/** Refuses an id that is not a plain relative path with '/' separators. */
function checkRelativePath(id: string): void {
  if (id.startsWith('/') || id.startsWith('\\') || /^[A-Za-z]:/.test(id)) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `slide id '${id}' is an absolute path; slide ids are paths relative to the slide folders`,
    );
  }
  if (id.includes('\\'))
    throw new GlomsegError('INVALID_ARGUMENT', `slide id '${id}' contains a backslash; use '/' between folders`);
  const segments = id.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new GlomsegError('INVALID_ARGUMENT', `slide id '${id}' may not contain '.', '..' or empty path segments`);
  }
}
