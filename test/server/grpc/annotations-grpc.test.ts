/**
 * The annotation store over real gRPC on loopback: saves credited to the token's name, a save from a stale base
 * refused with ABORTED saying who saved what when, versions listed, read and exported as QuPath GeoJSON; a call
 * without a token refused (gRPC and gRPC-Web alike); bad input refused with INVALID_ARGUMENT / NOT_FOUND; a server without a data folder
 * says it keeps no annotations; and Debian's python3-grpcio, knowing the API by reflection only, saves and reads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import * as pb from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { saveAnnotationsRequestToProto } from '@glomseg/api/client/annotations-proto.js';
import { parseAnnotationShapes } from '@glomseg/shared/annotations.js';
import type { SaveAnnotationsParams } from '@glomseg/shared/reviewed-annotations.js';
import { BearerTokens } from '../../../server/src/security/bearer-tokens.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';
import { collect, glomsegClient, statusOf } from '../../helpers/grpc.js';
import { REPO_ROOT } from '../../helpers/paths.js';

const SLIDE = 'kidney-region.tif';
const PYTHON_CLIENT = path.join(REPO_ROOT, 'test', 'server', 'grpc', 'reflection_client.py');
const dirs: string[] = [];
async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-annotations-grpc-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const square = (x: number, y: number, size: number): Array<[number, number]> => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
];

function save(baseVersion: number, note = ''): pb.SaveAnnotationsRequest {
  const params: SaveAnnotationsParams = {
    slideId: SLIDE,
    baseVersion,
    note,
    regions: [
      {
        id: 'cortex',
        outline: square(1000, 1000, 2000),
        glomeruli: [
          { exterior: square(1100, 1100, 150), holes: [], source: 'predicted' },
          { exterior: square(1500, 1500, 120), holes: [square(1540, 1540, 20)], source: 'edited' },
          { exterior: square(2500, 2500, 100), holes: [], source: 'drawn' },
        ],
      },
    ],
  };
  return saveAnnotationsRequestToProto(params);
}

describe('with tokens', () => {
  const served = useGrpcApp(async () => ({
    dataDir: await dataDir(),
    security: { tokens: BearerTokens.fromList(['alice sekret-a', 'bob sekret-b', 'unnamed-c']) },
  }));
  const as = (token: string) =>
    glomsegClient(served.app.grpcAddress, { headers: { authorization: `Bearer ${token}` } });

  it('needs a token', async () => {
    expect(await statusOf(served.client.saveAnnotations(save(0)))).toMatchObject({ code: 16 });
    expect(await statusOf(served.client.listAnnotations({ slideId: SLIDE }))).toMatchObject({ code: 16 });
  });

  it('saves versions credited to the token holder, refuses a stale base, lists, reads and exports them', async () => {
    const alice = as('sekret-a');
    const bob = as('sekret-b');
    try {
      const first = await alice.saveAnnotations(save(0, 'first pass'));
      expect(first).toMatchObject({ slideId: SLIDE, version: 1, author: 'alice', regionCount: 1, glomerulusCount: 3 });
      expect(Date.parse(first.savedAt)).not.toBeNaN();
      // Bob edited what he loaded before Alice's save: refused, and told whose save came first.
      const stale = await statusOf(bob.saveAnnotations(save(0, 'bob, stale')));
      expect(stale.code).toBe(10);
      expect(stale.details).toBe(
        `slide '${SLIDE}' was saved meanwhile (version 1 by alice at ${first.savedAt}); this edit started from no saved version: load version 1, redo the changes on it and save again`,
      );
      expect(await bob.saveAnnotations(save(1, 'bob'))).toMatchObject({ version: 2, author: 'bob' });
      expect(await as('unnamed-c').saveAnnotations(save(2))).toMatchObject({ version: 3, author: 'token 3' });

      const { versions } = await alice.listAnnotations({ slideId: SLIDE });
      expect(versions.map((v) => [v.version, v.author, v.note])).toEqual([
        [3, 'token 3', ''],
        [2, 'bob', 'bob'],
        [1, 'alice', 'first pass'],
      ]);
      const latest = await alice.getAnnotations({ slideId: SLIDE });
      expect(latest.version?.version).toBe(3);
      expect(latest.regions).toEqual(save(2).regions);
      expect((await alice.getAnnotations({ slideId: SLIDE, version: 1 })).version?.note).toBe('first pass');

      const chunks = await collect(alice.exportAnnotations({ slideId: SLIDE, version: 2 }));
      expect(chunks[0].version?.author).toBe('bob');
      const shapes = parseAnnotationShapes(chunks.map((c) => c.text).join(''));
      expect(shapes.map((s) => s.label)).toEqual(['Region*', 'Glomerulus', 'Glomerulus', 'Glomerulus']);
      expect(shapes[2].polygon.holes).toEqual([square(1540, 1540, 20)]);
    } finally {
      alice.close();
      bob.close();
    }
  });

  it('refuses bad input in words, and answers NOT_FOUND for what is not there', async () => {
    const client = as('sekret-a');
    try {
      const noSource = save(0);
      noSource.regions[0].glomeruli[0].source = pb.GlomerulusSource.UNSPECIFIED;
      expect(await statusOf(client.saveAnnotations(noSource))).toMatchObject({ code: 3 });
      const huge = save(0);
      huge.regions[0].outline = create(pb.RingSchema, { xy: Array.from({ length: 80_002 }, (_, i) => i % 7) });
      const tooBig = await statusOf(client.saveAnnotations(huge));
      expect(tooBig).toMatchObject({ code: 3 });
      expect(tooBig.details).toMatch(/vertices in all; at most 40000/);
      const offSlide = save(0);
      offSlide.regions[0].outline!.xy = [7000, 0, 8000, 0, 8000, 100];
      expect((await statusOf(client.saveAnnotations(offSlide))).details).toMatch(/lies off the slide \(6400 x 4800/);
      expect(await statusOf(client.saveAnnotations({ ...save(0), slideId: 'missing.tif' }))).toMatchObject({
        code: 5,
      });
      expect(await statusOf(client.getAnnotations({ slideId: 'never-annotated.tif' }))).toMatchObject({ code: 5 });
      expect(await statusOf(client.getAnnotations({ slideId: SLIDE, version: 99 }))).toMatchObject({ code: 5 });
    } finally {
      client.close();
    }
  });
});

describe('over gRPC-Web on the HTTP port', () => {
  const served = useGrpcApp(async () => ({
    dataDir: await dataDir(),
    httpPort: 0,
    security: { tokens: BearerTokens.fromList(['carol web-token']) },
  }));
  const web = (token?: string) =>
    createClient(
      pb.Glomseg,
      createGrpcWebTransport({
        baseUrl: served.app.httpUrl!,
        interceptors: token
          ? [
              (next) => (request) => {
                request.header.set('authorization', `Bearer ${token}`);
                return next(request);
              },
            ]
          : [],
      }),
    );

  it('credits the same token name, and refuses a call without one', async () => {
    expect(await web('web-token').saveAnnotations(save(0))).toMatchObject({ version: 1, author: 'carol' });
    expect(await statusOf(web().listAnnotations({ slideId: SLIDE }))).toMatchObject({ code: 16 });
  });
});

describe('without a data folder', () => {
  const served = useGrpcApp({});
  it('says it keeps no annotations', async () => {
    const status = await statusOf(served.client.saveAnnotations(save(0)));
    expect(status.code).toBe(9);
    expect(status.details).toMatch(/keeps no annotations/);
  });
});

describe('an independent client', () => {
  const served = useGrpcApp(async () => ({ dataDir: await dataDir() }));
  it('python3-grpcio, knowing the API by reflection only, saves, lists, reads and exports', async () => {
    const ring = (xy: number[]) => ({ xy });
    const calls = [
      {
        method: 'SaveAnnotations',
        request: {
          slide_id: SLIDE,
          base_version: 0,
          note: 'from python',
          regions: [
            {
              id: 'r',
              outline: ring([0, 0, 500, 0, 500, 500, 0, 500]),
              glomeruli: [{ exterior: ring([10, 10, 60, 10, 60, 60]), source: 'GLOMERULUS_SOURCE_DRAWN' }],
            },
          ],
        },
      },
      { method: 'ListAnnotations', request: { slide_id: SLIDE } },
      { method: 'GetAnnotations', request: { slide_id: SLIDE } },
      { method: 'ExportAnnotations', request: { slide_id: SLIDE } },
    ];
    const { stdout } = await promisify(execFile)(
      '/usr/bin/python3',
      [PYTHON_CLIENT, served.app.grpcAddress, 'glomseg.v1.Glomseg', JSON.stringify(calls)],
      { timeout: 60_000 },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const [saved, listed, got, exported] = lines.slice(-4).map((l) => l.responses);
    expect(saved[0]).toMatchObject({ slide_id: SLIDE, version: 1, author: 'anonymous', note: 'from python' });
    expect(listed[0].versions).toHaveLength(1);
    expect(got[0].regions[0].glomeruli[0]).toMatchObject({ source: 'GLOMERULUS_SOURCE_DRAWN' });
    const text = exported.map((c: { text: string }) => c.text).join('');
    expect(JSON.parse(text).features).toHaveLength(2);
  });
});
