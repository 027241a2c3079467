/**
 * The slides a server may read: every slide file under the configured folders, plus single files registered
 * explicitly (the CLI's `glomseg score <file>`).
 *
 * Slide ids:
 * - one folder: the path relative to it with '/' separators (`sub/slide.svs`);
 * - several folders: always `<folder base name>/<relative path>` (a repeated base name gets `-2`, `-3`, ...), so an
 *   id never changes when a file appears in another folder;
 * - an explicitly added file (`addFile`): its base name, or `<parent folder name>/<base name>`, then `<base name>~N`
 *   when taken.
 * A slide id can never reach a file outside the folders (slide-id-path.ts).
 *
 * Listing walks each folder recursively without entering symlinked folders. A walk answers `list()` for
 * `listCacheMs` (5 s by default) after it ends, and calls that arrive while one runs wait for it: a file added to a
 * folder is listed within that time, while opening it by id works at once (ids are checked on the file, not the list).
 *
 * Open sources are kept in a small LRU. `open()` hands out a handle whose reads borrow the underlying source; an
 * evicted source is closed once no read is using it, and a later read through an old handle reopens the file.
 * Handles' close() does nothing: the catalog owns the files and closes them all in close().
 */
import path from 'node:path';
import { realpath, stat } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import { abortable, GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import { DEFAULT_READER_LIMITS, type ReaderLimits } from './slide-reader.js';
import { isSlideFileName, openWithReaders, probeFile, slideExtensions } from './slide-readers.js';
import './readers/index.js';
import { isSlideUrl, SlideUrlPolicy } from './slide-url-policy.js';
import { openSlideFolders, walkSlideFolders, type CatalogSlide, type SlideFolder } from './slide-folders.js';
import { resolveSlideId } from './slide-id-path.js';
import { CatalogSlideSource } from './catalog-slide-source.js';
import { slideStem } from './slide-name.js';
import { presignS3Url } from './s3-url.js';

export type { CatalogSlide } from './slide-folders.js';

/** How long one folder walk answers `list()`: a busy server walks at most once per this, however many ask. */
export const DEFAULT_LIST_CACHE_MS = 5_000;

export interface SlideCatalogOptions {
  folders: string[];
  /** Slide files kept open at once (default 16). */
  maxOpenSlides?: number;
  /** URL prefixes slide ids may be read from (https://, http://, s3://); none: no slide is read by URL. */
  urlPrefixes?: readonly string[];
  /** How long a folder walk answers `list()` after it ends (default DEFAULT_LIST_CACHE_MS; 0: walk on every call). */
  listCacheMs?: number;
  /** The clock of that cache, in ms (tests). */
  now?: () => number;
  /** The configured bounds the readers enforce (validation/limits.ts); defaults for those not given. */
  limits?: Partial<ReaderLimits>;
}

interface OpenEntry {
  source: Promise<SlideSource>;
  active: number;
  evicted: boolean;
}

/** Opens one slide file with the reader that supports it best (slide-readers.ts). */
export async function openSlideFile(
  filePath: string,
  id: string,
  signal?: AbortSignal,
  limits: ReaderLimits = DEFAULT_READER_LIMITS,
): Promise<SlideSource> {
  return openWithReaders(await probeFile(filePath, path.basename(filePath)), { id, limits, signal });
}

export class SlideCatalog {
  private readonly files = new Map<string, string>();
  private readonly openSources: LRUCache<string, OpenEntry>;
  private readonly pendingCloses = new Set<Promise<void>>();
  private closed = false;

  private readonly urlPolicy: SlideUrlPolicy;
  private readonly limits: ReaderLimits;
  private readonly listCacheMs: number;
  private readonly now: () => number;
  /** The latest folder walk and until when it answers; the walk in progress, which every caller shares. */
  private walked?: { slides: CatalogSlide[]; until: number };
  private walking?: Promise<CatalogSlide[]>;
  private walkCount = 0;

  private constructor(
    private readonly folders: SlideFolder[],
    maxOpenSlides: number,
    options: Omit<SlideCatalogOptions, 'folders' | 'maxOpenSlides'>,
  ) {
    this.urlPolicy = new SlideUrlPolicy(options.urlPrefixes ?? []);
    this.listCacheMs = Math.max(0, options.listCacheMs ?? DEFAULT_LIST_CACHE_MS);
    this.now = options.now ?? Date.now;
    this.limits = { ...DEFAULT_READER_LIMITS, ...options.limits };
    this.openSources = new LRUCache<string, OpenEntry>({
      max: maxOpenSlides,
      dispose: (entry) => {
        entry.evicted = true;
        this.closeIfIdle(entry);
      },
    });
  }

  static async create(options: SlideCatalogOptions): Promise<SlideCatalog> {
    const folders = await openSlideFolders(options.folders);
    return new SlideCatalog(folders, Math.max(1, options.maxOpenSlides ?? 16), options);
  }

  /** A catalog of just these files (no folders); their ids are given by `addFile`, see the module comment. */
  static async forFiles(
    filePaths: string[],
    options: Omit<SlideCatalogOptions, 'folders'> = {},
  ): Promise<SlideCatalog> {
    const catalog = await SlideCatalog.create({ ...options, folders: [] });
    for (const filePath of filePaths) await catalog.addFile(filePath);
    return catalog;
  }

  /** Registers one slide file by path (outside any folder is fine) and returns its id. */
  async addFile(filePath: string): Promise<string> {
    const real = await realpath(path.resolve(filePath)).catch(() => {
      throw new GlomsegError('NOT_FOUND', `no slide file ${filePath}`);
    });
    if (!(await stat(real)).isFile()) throw new GlomsegError('INVALID_ARGUMENT', `${filePath} is not a file`);
    if (!isSlideFileName(real)) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `${filePath} is not a slide file (expected one of ${slideExtensions().join(' ')})`,
      );
    }
    for (const [id, existing] of this.files) if (existing === real) return id;
    const base = path.basename(real);
    const candidates = [base, `${path.basename(path.dirname(real))}/${base}`];
    let id = candidates.find((candidate) => !this.files.has(candidate));
    for (let n = 2; !id; n++) if (!this.files.has(`${base}~${n}`)) id = `${base}~${n}`;
    this.files.set(id, real);
    return id;
  }

  /** Every slide, sorted by id: the folders' slides from the latest walk (see the module comment), then added files. */
  async list(signal?: AbortSignal): Promise<CatalogSlide[]> {
    this.assertOpen();
    throwIfAborted(signal);
    const walked = this.folderSlides();
    const slides = [...(signal ? await abortable(walked, signal) : await walked)];
    for (const [id, real] of this.files) {
      const info = await stat(real).catch(() => undefined);
      if (info?.isFile()) slides.push({ id, name: slideStem(path.basename(real)), fileSize: info.size, path: real });
    }
    return slides.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Folder walks made so far (each serves every `list()` within its cache time). */
  get walks(): number {
    return this.walkCount;
  }

  private folderSlides(): Promise<CatalogSlide[]> {
    if (this.walked && this.now() < this.walked.until) return Promise.resolve(this.walked.slides);
    if (!this.walking) {
      // Not tied to the caller's signal: other callers share this walk.
      this.walking = this.walkFolders()
        .then((slides) => {
          this.walked = { slides, until: this.now() + this.listCacheMs };
          return slides;
        })
        .finally(() => {
          this.walking = undefined;
        });
    }
    return this.walking;
  }

  private walkFolders(): Promise<CatalogSlide[]> {
    this.walkCount++;
    return walkSlideFolders(this.folders);
  }

  /** The real path of a slide id; refuses every id that is not a slide file inside the folders (slide-id-path.ts). */
  async resolve(id: string): Promise<string> {
    return resolveSlideId(id, this.folders, this.files);
  }

  /** An open slide; reads go to a cached open source (see the module comment). */
  async open(id: string, signal?: AbortSignal): Promise<SlideSource> {
    const metadata = await this.withSource(id, async (source) => source.metadata, signal);
    return new CatalogSlideSource(this, id, metadata);
  }

  /** Runs fn with the open source of a slide; the source is not closed while fn runs. */
  async withSource<T>(id: string, fn: (source: SlideSource) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.assertOpen();
    throwIfAborted(signal);
    let entry = this.openSources.get(id);
    if (!entry) {
      const open = isSlideUrl(id) ? this.urlOpener(id) : await this.fileOpener(id);
      this.assertOpen();
      entry = this.openSources.get(id);
      if (!entry) {
        // Not tied to the caller's signal: other callers may share this open.
        const created: OpenEntry = { source: open(), active: 0, evicted: false };
        created.source.catch(() => {
          if (this.openSources.peek(id) === created) this.openSources.delete(id);
        });
        this.openSources.set(id, created);
        entry = created;
      }
    }
    entry.active++;
    try {
      const source = await entry.source;
      throwIfAborted(signal);
      return await fn(source);
    } finally {
      entry.active--;
      this.closeIfIdle(entry);
    }
  }

  private async fileOpener(id: string): Promise<() => Promise<SlideSource>> {
    const filePath = await this.resolve(id);
    return () => openSlideFile(filePath, id, undefined, this.limits);
  }

  /** Slides by URL: allowed prefixes only, and only formats a reader reads by URL (TIFF family: PNG/JPEG would be fetched whole). */
  private urlOpener(id: string): () => Promise<SlideSource> {
    const url = this.urlPolicy.check(id);
    const label = url.protocol === 's3:' ? `s3://${url.host}${url.pathname}` : `${url.origin}${url.pathname}`;
    const fileName = url.pathname.split('/').pop() ?? '';
    if (!isSlideFileName(fileName, { byUrl: true })) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `slide URL ${label}: only slides ending in ${slideExtensions({ byUrl: true }).join(' ')} are read by URL`,
      );
    }
    const href = async () => (url.protocol === 's3:' ? (await presignS3Url(url)).href : url.href);
    return () =>
      openWithReaders({ fileName, url: { label, href }, head: new Uint8Array(0) }, { id, limits: this.limits });
  }

  /** Closes every open source (waiting for reads in progress) and refuses further use. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.openSources.clear();
    while (this.pendingCloses.size > 0) await Promise.all([...this.pendingCloses]);
  }

  private closeIfIdle(entry: OpenEntry): void {
    if (!entry.evicted || entry.active > 0) return;
    entry.active = -1; // closed: never close twice
    const closing = entry.source
      .then(
        (source) => source.close(),
        () => undefined,
      )
      .catch(() => undefined);
    this.pendingCloses.add(closing);
    void closing.finally(() => this.pendingCloses.delete(closing));
  }

  private assertOpen(): void {
    if (this.closed) throw new GlomsegError('UNAVAILABLE', 'the slide catalog is closed');
  }
}
