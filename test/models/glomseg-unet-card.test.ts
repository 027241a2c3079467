/**
 * The shipped model card says under what terms the model may be used: the licence of the weights and the card,
 * and where its training data came from under which terms. ListModels carries those fields once (in details_json,
 * as every card field that is not typed), over real gRPC.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { modelFromProto } from '@glomseg/api/client/from-proto.js';
import { validateModelCard } from '@glomseg/shared/model-card.js';
import { MODELS, REPO_ROOT } from '../helpers/paths.js';
import { useGrpcApp } from '../helpers/grpc-app.js';

const served = useGrpcApp();

describe('models/glomseg-unet.json', () => {
  it('names the licence of the weights and card, and the source and terms of its training data', async () => {
    const card = validateModelCard(JSON.parse(await readFile(path.join(MODELS, 'glomseg-unet.json'), 'utf8')), 'models/glomseg-unet.json');
    expect(card.license).toEqual({ spdx: 'MIT', copyright: 'Copyright (c) 2026 the glomseg authors' });
    expect(card.trainingData).toHaveLength(2);
    const [hubmap, encoder] = card.trainingData!;
    expect(hubmap.source).toMatch(/github\.com\/cns-iu\/ccf-research-ftu/);
    expect(hubmap.license).toBe('MIT');
    expect(hubmap.imageTerms).toMatch(/HuBMAP open-access data/);
    expect(hubmap.use).toMatch(/train/);
    // The pretrained encoder's weights are training data too, with the terms of the package that carries them.
    expect(encoder.name).toMatch(/ImageNet/);
    expect(encoder.source).toMatch(/nsfwjs@4\.4\.0/);
    expect(encoder.license).toBe('MIT');
    // The repository's own licence is the one the card names.
    expect(await readFile(path.join(MODELS, '..', 'LICENSE'), 'utf8')).toContain(card.license!.copyright);
  });

  it('holds the terms the training export writes into every card of its architecture (training/export.py terms)', async () => {
    const shipped = JSON.parse(await readFile(path.join(MODELS, 'glomseg-unet.json'), 'utf8'));
    const script = `import json, sys; sys.path.insert(0, 'training'); from export import terms; print(json.dumps(terms(sys.argv[1])))`;
    const args = ['-c', script, shipped.checkpoint.arch];
    const { stdout } = await promisify(execFile)('/usr/bin/python3', args, { cwd: REPO_ROOT });
    expect(JSON.parse(stdout)).toEqual({ license: shipped.license, trainingData: shipped.trainingData });
  });

  it('reaches ListModels clients once each, in details_json', async () => {
    const { models } = await served.client.listModels({});
    const info = models.find((m) => m.id === 'glomseg-unet')!;
    const details = JSON.parse(info.detailsJson);
    expect(details.license.spdx).toBe('MIT');
    expect(details.trainingData[0].license).toBe('MIT');
    const { card } = modelFromProto(info);
    const shipped = JSON.parse(await readFile(path.join(MODELS, 'glomseg-unet.json'), 'utf8'));
    expect(card.license).toEqual(shipped.license);
    expect(card.trainingData).toEqual(shipped.trainingData);
  });
});
