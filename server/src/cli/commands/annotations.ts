/**
 * `glomseg annotations import|export|list`: the server's annotation store from the command line, through the
 * gRPC API. Import reads a folder of annotation files (every registered format: QuPath GeoJSON, labelme, ...)
 * as reviewed regions of the served slides their names match, and saves each slide's as a new version on top of
 * its latest (regions of the same id replaced, so importing again does not double them).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { slideInfoFromProto } from '@glomseg/api/client/from-proto.js';
import {
  annotationVersionFromProto,
  exportTextFromProto,
  saveAnnotationsRequestToProto,
  slideAnnotationsFromProto,
} from '@glomseg/api/client/annotations-proto.js';
import { isAnnotationFileName } from '@glomseg/shared/annotation-formats/index.js';
import type { AnnotatedRegion } from '@glomseg/shared/reviewed-annotations.js';
import { plural } from '@glomseg/shared/plural.js';
import { connectGlomseg, type GlomsegApi } from '../../client/grpc-client.js';
import { loadClientAuth } from '../../client/client-credentials.js';
import { importedRegions, mergeRegions, slideForFile } from '../annotation-import.js';
import { log, usage, UsageError, type CliCommand } from './command.js';

function wholeVersion(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`'${value}' is not a version number (1, 2, ...)`);
  return n;
}

interface ServerFlags {
  server: string;
  tokenFile?: string;
  tlsCa?: string;
}

function serverOptions(command: Command): Command {
  return command
    .option('--server <host:port>', 'the glomseg server that keeps the annotations', '127.0.0.1:50051')
    .option('--token-file <file>', 'bearer token for --server (saves are credited to its name)')
    .option('--tls-ca <file>', 'PEM CA to trust: talk TLS to --server');
}

async function withApi<T>(flags: ServerFlags, body: (api: GlomsegApi) => Promise<T>): Promise<T> {
  const connection = await connectGlomseg(flags.server, undefined, await loadClientAuth(flags));
  try {
    return await body(connection.api);
  } finally {
    connection.close();
  }
}

/** The slide id a user named: an id the server lists, or a slide's name. */
async function slideIdOf(api: GlomsegApi, slide: string): Promise<string> {
  const { slides } = await api.listSlides({});
  const found = slides.find((s) => s.id === slide) ?? slides.find((s) => s.name === slide);
  if (!found)
    throw new UsageError(`the server has no slide '${slide}' (glomseg annotations list shows its slides' ids)`);
  return found.id;
}

async function importFolder(folder: string, opts: ServerFlags & { truthClass?: string[]; note?: string }) {
  const files = (await readdir(folder)).filter(isAnnotationFileName).sort();
  if (files.length === 0) throw new UsageError(`${folder} holds no annotation files`);
  await withApi(opts, async (api) => {
    const { slides } = await api.listSlides({});
    const unmatched = files.filter((file) => !slideForFile(file, slides));
    if (unmatched.length > 0)
      throw new UsageError(`no served slide is named like ${unmatched.join(', ')}: nothing was imported`);
    // Every file is read and checked before anything is saved.
    const bySlide = new Map<string, { files: string[]; regions: AnnotatedRegion[] }>();
    for (const file of files) {
      const slide = slideForFile(file, slides)!;
      const info = slideInfoFromProto(await api.getSlideInfo({ slideId: slide.id }));
      const read = importedRegions(await readFile(path.join(folder, file), 'utf8'), file, info, opts.truthClass);
      for (const warning of read.warnings) log(`${file}: ${warning}`);
      const entry = bySlide.get(slide.id) ?? { files: [], regions: [] };
      entry.files.push(file);
      entry.regions.push(...read.regions);
      bySlide.set(slide.id, entry);
    }
    for (const [slideId, { files: from, regions }] of bySlide) {
      const [latest] = (await api.listAnnotations({ slideId })).versions;
      const existing = latest ? slideAnnotationsFromProto(await api.getAnnotations({ slideId })).regions : [];
      const request = {
        slideId,
        baseVersion: latest?.version ?? 0,
        note: opts.note ?? `imported from ${from.join(', ')}`,
      };
      const saved = annotationVersionFromProto(
        await api.saveAnnotations(
          saveAnnotationsRequestToProto({ ...request, regions: mergeRegions(existing, regions) }),
        ),
      );
      const glomeruli = regions.reduce((sum, region) => sum + region.glomeruli.length, 0);
      process.stdout.write(
        `${slideId}: version ${saved.version} by ${saved.author}, ${plural(regions.length, 'reviewed region')} with ${plural(glomeruli, 'glomerulus', 'glomeruli')} from ${from.join(', ')}\n`,
      );
    }
  });
}

export const annotationsCommand: CliCommand = (program) => {
  const annotations = program
    .command('annotations')
    .description("the server's reviewed annotations: import a folder of annotation files, export, list versions");
  serverOptions(annotations.command('import'))
    .description('import annotation files (GeoJSON, labelme) as reviewed regions of the slides their names match')
    .argument('<folder>', 'folder of annotation files, each named after its slide (C001_region1.geojson)')
    .option('--truth-class <name...>', 'classes of shapes to take as glomeruli (default: Glomerulus, Glomeruli, Glom)')
    .option('--note <text>', 'note saved with each new version (default: the files it came from)')
    .action(importFolder);
  serverOptions(annotations.command('export'))
    .description('a saved version of a slide as QuPath GeoJSON')
    .argument('<slide>', 'slide id or name on the server')
    .option('--at-version <n>', 'version to export (default: the latest)', usage(wholeVersion))
    .option('-o, --out <file>', 'write here instead of to standard output')
    .action(async (slide: string, opts: ServerFlags & { atVersion?: number; out?: string }) => {
      await withApi(opts, async (api) => {
        const slideId = await slideIdOf(api, slide);
        const { version, text } = await exportTextFromProto(
          api.exportAnnotations({ slideId, version: opts.atVersion }),
        );
        if (opts.out) {
          await writeFile(opts.out, text);
          log(`${opts.out}: version ${version.version} of ${slideId} by ${version.author} at ${version.savedAt}`);
        } else process.stdout.write(`${text}\n`);
      });
    });
  serverOptions(annotations.command('list'))
    .description('the saved versions of a slide, newest first')
    .argument('<slide>', 'slide id or name on the server')
    .action(async (slide: string, opts: ServerFlags) => {
      await withApi(opts, async (api) => {
        const slideId = await slideIdOf(api, slide);
        for (const v of (await api.listAnnotations({ slideId })).versions) {
          const counts = `${plural(v.regionCount, 'region')}, ${plural(v.glomerulusCount, 'glomerulus', 'glomeruli')}`;
          process.stdout.write(`${v.version}\t${v.savedAt}\t${v.author}\t${counts}${v.note ? `\t${v.note}` : ''}\n`);
        }
      });
    });
};
