/**
 * The catalog's folders on disk: the slide files each holds, by the endings the readers register. A walk never
 * enters symlinked folders (a link cycle would list one file endlessly) and lists a symlinked file only when it
 * resolves inside its folder.
 */
import path from 'node:path';
import { realpath, stat } from 'node:fs/promises';
import fg from 'fast-glob';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { slideExtensions } from './slide-readers.js';
import { slideStem } from './slide-name.js';

export interface CatalogSlide {
  id: string;
  /** The file name without extension (proto SlideSummary.name). */
  name: string;
  fileSize: number;
  /** Resolved absolute path of the file. */
  path: string;
}

export interface SlideFolder {
  /** Real path (symlinks resolved), the root every id of this folder must stay under. */
  root: string;
  /** Id prefix with trailing '/', or '' when only one folder is configured. */
  prefix: string;
}

/**
 * The configured folders, each resolved once (a folder named twice counts once). One folder: ids are paths in it;
 * several: `<folder base name>/<path>`, a repeated base name getting `-2`, `-3`, ...
 */
export async function openSlideFolders(paths: readonly string[]): Promise<SlideFolder[]> {
  const roots: string[] = [];
  for (const folder of paths) {
    const root = await realpath(path.resolve(folder)).catch(() => {
      throw new GlomsegError('INVALID_ARGUMENT', `slide folder ${folder} does not exist`);
    });
    if (!(await stat(root)).isDirectory())
      throw new GlomsegError('INVALID_ARGUMENT', `slide folder ${folder} is not a folder`);
    if (!roots.includes(root)) roots.push(root);
  }
  const used = new Set<string>();
  return roots.map((root) => {
    if (roots.length === 1) return { root, prefix: '' };
    const base = path.basename(root) || 'slides';
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    return { root, prefix: `${name}/` };
  });
}

export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** Every slide file in the folders, with its id (the folder's prefix and the path inside it). */
export async function walkSlideFolders(folders: readonly SlideFolder[]): Promise<CatalogSlide[]> {
  const slides: CatalogSlide[] = [];
  for (const folder of folders) {
    const relatives = await fg(`**/*{${slideExtensions().join(',')}}`, {
      cwd: folder.root,
      onlyFiles: false,
      caseSensitiveMatch: false,
      followSymbolicLinks: false,
      suppressErrors: true,
      dot: false,
    });
    for (const relative of relatives) {
      const real = await realpath(path.join(folder.root, relative)).catch(() => undefined);
      if (!real || !isInside(folder.root, real)) continue;
      const info = await stat(real).catch(() => undefined);
      if (!info?.isFile()) continue;
      slides.push({
        id: folder.prefix + relative.split(path.sep).join('/'),
        name: slideStem(path.basename(relative)),
        fileSize: info.size,
        path: real,
      });
    }
  }
  return slides;
}
