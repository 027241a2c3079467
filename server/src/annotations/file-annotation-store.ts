/**
 * The annotation store on disk: one JSON file per version, `<data dir>/annotations/<slide key>/v00000001.json`,
 * never changed once there. A version is written to a temporary file in the same folder, fsynced, then linked to
 * its name (link(2) is atomic and refuses a name that exists, so two writers cannot both get version n) and the
 * folder fsynced: a SIGKILL at any moment leaves either the whole version or none of it, and the temporary files
 * of a dead process are removed when the slide is next read. The list of versions is rebuilt from the files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { throwIfAborted } from '@glomseg/shared/errors.js';
import type {
  AnnotationStore,
  AnnotationVersionInfo,
  AppendOutcome,
  SlideAnnotations,
} from '@glomseg/shared/reviewed-annotations.js';

/** What each version file says it is; a file without it is not ours and is left alone. */
const FORMAT = 'glomseg-annotations/1';
const VERSION_FILE = /^v(\d{8})\.json$/;
const TEMP_FILE = /^\.tmp-(\d+)-[0-9a-f]+$/;

const versionFileName = (version: number) => `v${String(version).padStart(8, '0')}.json`;

/** Slide ids are paths or URLs: the folder is named by a hash of the id, and each file names its slide. */
const slideKey = (slideId: string) => createHash('sha256').update(slideId, 'utf8').digest('hex').slice(0, 32);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes a rename or link durable (the folder's entry), not only the file's bytes. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class FileAnnotationStore implements AnnotationStore {
  /** Version summaries per slide folder, by file name: a file once read is never read again (it never changes). */
  private readonly summaries = new Map<string, Map<string, AnnotationVersionInfo>>();

  private constructor(
    readonly folder: string,
    private readonly log: (message: string) => void,
  ) {}

  /** Opens (creating it) `<dataDir>/annotations`, and proves it writable now rather than at the first save. */
  static async open(dataDir: string, log: (message: string) => void = () => {}): Promise<FileAnnotationStore> {
    const folder = path.join(path.resolve(dataDir), 'annotations');
    try {
      await mkdir(folder, { recursive: true });
      const probe = path.join(folder, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
      await (await open(probe, 'wx')).close();
      await unlink(probe);
    } catch (error) {
      throw new Error(`the data folder ${dataDir} cannot hold annotations: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new FileAnnotationStore(folder, log);
  }

  private slideFolder(slideId: string): string {
    return path.join(this.folder, slideKey(slideId));
  }

  async append(record: SlideAnnotations, signal: AbortSignal): Promise<AppendOutcome> {
    throwIfAborted(signal);
    const { slideId, version } = record.version;
    const folder = this.slideFolder(slideId);
    const created = await mkdir(folder, { recursive: true });
    if (created) await syncFolder(this.folder);
    const temp = path.join(folder, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const target = path.join(folder, versionFileName(version));
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(JSON.stringify({ format: FORMAT, ...record }), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [latest] = await this.versions(slideId, signal);
      return { stored: false, latest };
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    await syncFolder(folder);
    this.summaries.get(folder)?.set(path.basename(target), record.version);
    return { stored: true };
  }

  async versions(slideId: string, signal: AbortSignal): Promise<AnnotationVersionInfo[]> {
    throwIfAborted(signal);
    const folder = this.slideFolder(slideId);
    const names = await readdir(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    const known = this.summaries.get(folder) ?? new Map<string, AnnotationVersionInfo>();
    this.summaries.set(folder, known);
    for (const name of names) {
      const temp = TEMP_FILE.exec(name);
      if (temp && Number(temp[1]) !== process.pid && !processAlive(Number(temp[1]))) {
        await rm(path.join(folder, name), { force: true });
      }
      if (!VERSION_FILE.test(name) || known.has(name)) continue;
      const record = await this.readFile(path.join(folder, name), slideId);
      if (record) known.set(name, record.version);
    }
    return [...known.values()].sort((a, b) => b.version - a.version);
  }

  async read(slideId: string, version: number, signal: AbortSignal): Promise<SlideAnnotations | undefined> {
    throwIfAborted(signal);
    return this.readFile(path.join(this.slideFolder(slideId), versionFileName(version)), slideId);
  }

  /** A version file, whole; undefined when absent. One that is not ours (another slide's, or no glomseg file) is logged and skipped. */
  private async readFile(file: string, slideId: string): Promise<SlideAnnotations | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed = (() => {
      try {
        return JSON.parse(text) as Partial<SlideAnnotations> & { format?: string };
      } catch {
        return undefined;
      }
    })();
    if (parsed?.format !== FORMAT || parsed.version?.slideId !== slideId || !Array.isArray(parsed.regions)) {
      this.log(`annotation store: ${file} is not a version of slide '${slideId}'; left out`);
      return undefined;
    }
    return { version: parsed.version, regions: parsed.regions };
  }

  async close(): Promise<void> {
    this.summaries.clear();
  }
}

/** The default data folder: $XDG_DATA_HOME/glomseg, else ~/.local/share/glomseg. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, home = env.HOME ?? '.'): string {
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'glomseg');
}
