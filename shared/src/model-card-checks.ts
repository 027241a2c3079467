/**
 * The field checks of validateModelCard (model-card.ts), section by section: each failed check adds a problem that
 * names the field, so that one error lists everything wrong with a card.
 */

type Json = Record<string, unknown>;

/** The field checks a card's sections use; each failed one adds a problem that names the field. */
export class CardChecks {
  readonly problems: string[] = [];

  check(ok: boolean, field: string, expected: string, value: unknown): void {
    if (!ok) this.problems.push(`'${field}' must be ${expected} (got ${describe(value)})`);
  }

  text(obj: Json, key: string, field = key, optional = false): void {
    const value = obj[key];
    if (optional && value === undefined) return;
    this.check(typeof value === 'string' && value.trim() !== '', field, 'a non-empty string', value);
  }

  positive(obj: Json, key: string, field = key, optional = false): void {
    const value = obj[key];
    if (optional && value === undefined) return;
    this.check(isFiniteNumber(value) && value > 0, field, 'a positive number', value);
  }

  triple(obj: Json, key: string, field: string, strictlyPositive: boolean): void {
    const value = obj[key];
    const ok =
      Array.isArray(value) &&
      value.length === 3 &&
      value.every((v) => isFiniteNumber(v) && (!strictlyPositive || v > 0));
    this.check(ok, field, strictlyPositive ? 'an array of 3 positive numbers' : 'an array of 3 numbers', value);
  }

  oneOf(obj: Json, key: string, field: string, allowed: readonly string[]): void {
    const value = obj[key];
    this.check(
      typeof value === 'string' && allowed.includes(value),
      field,
      `one of ${allowed.map((a) => `'${a}'`).join(', ')}`,
      value,
    );
  }
}

function checkFiles(json: Json, c: CardChecks): void {
  c.text(json, 'id');
  c.text(json, 'name');
  c.check(typeof json.description === 'string', 'description', 'a string', json.description);
  c.text(json, 'file');
  if (json.variants !== undefined) {
    const variants = json.variants;
    const ok = isObject(variants) && Object.values(variants).every((v) => typeof v === 'string' && v.trim() !== '');
    c.check(ok, 'variants', 'an object of file names, e.g. {"webgpu": "model.fp16.onnx"}', variants);
  }
  if (json.checkpoint !== undefined) {
    const ck = json.checkpoint;
    const ok =
      isObject(ck) &&
      [ck.file, ck.arch].every((v) => typeof v === 'string' && v.trim() !== '') &&
      typeof ck.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(ck.sha256);
    c.check(ok, 'checkpoint', '{"file", "sha256" (64 hex digits), "arch"}', ck);
  }
}

function checkTensors(json: Json, c: CardChecks): void {
  const input = json.input;
  if (isObject(input)) {
    c.text(input, 'name', 'input.name');
    c.oneOf(input, 'layout', 'input.layout', ['NCHW', 'NHWC']);
    c.oneOf(input, 'channelOrder', 'input.channelOrder', ['RGB', 'BGR']);
    c.positive(input, 'scale', 'input.scale');
    c.triple(input, 'mean', 'input.mean', false);
    c.triple(input, 'std', 'input.std', true);
  } else {
    c.check(false, 'input', 'an object', input);
  }
  const output = json.output;
  if (isObject(output)) {
    c.text(output, 'name', 'output.name');
    c.oneOf(output, 'kind', 'output.kind', ['logits', 'probability']);
    c.check(
      Number.isInteger(output.channel) && (output.channel as number) >= 0,
      'output.channel',
      'an integer >= 0',
      output.channel,
    );
  } else {
    c.check(false, 'output', 'an object', output);
  }
}

function checkGeometry(json: Json, c: CardChecks): void {
  c.positive(json, 'mpp', 'mpp', true);
  c.positive(json, 'downsample', 'downsample', true);
  // Whole numbers of model pixels, each at least `min`.
  const whole = (key: string, min: 0 | 1, optional = false) => {
    const v = json[key];
    if (optional && v === undefined) return;
    c.check(Number.isInteger(v) && (v as number) >= min, key, min ? 'a positive integer' : 'an integer >= 0', v);
  };
  whole('tileSize', 1);
  whole('scoreTileSize', 1, true);
  whole('margin', 0);
  whole('sizeMultiple', 1);
}

function checkPostprocessing(json: Json, c: CardChecks): void {
  c.check(
    isFiniteNumber(json.threshold) && json.threshold >= 0 && json.threshold <= 1,
    'threshold',
    'a number in [0, 1]',
    json.threshold,
  );
  if (json.minArea !== undefined) {
    c.check(isFiniteNumber(json.minArea) && json.minArea >= 0, 'minArea', 'a number >= 0', json.minArea);
  }
  if (json.seedThreshold !== undefined) {
    c.check(
      isFiniteNumber(json.seedThreshold) && json.seedThreshold > 0 && json.seedThreshold <= 1,
      'seedThreshold',
      'a number in (0, 1]',
      json.seedThreshold,
    );
  }
  if (json.requireCore !== undefined) {
    c.check(typeof json.requireCore === 'boolean', 'requireCore', 'true or false', json.requireCore);
    c.check(
      json.requireCore === false || json.seedThreshold !== undefined,
      'requireCore',
      'false without a seedThreshold',
      json.requireCore,
    );
  }
  if (json.estimatesScale !== undefined) {
    c.check(typeof json.estimatesScale === 'boolean', 'estimatesScale', 'true or false', json.estimatesScale);
  }
}

function checkStain(json: Json, c: CardChecks): void {
  if (json.stain === undefined) return;
  const stain = json.stain;
  if (!isObject(stain)) return c.check(false, 'stain', 'an object', stain);
  c.oneOf(stain, 'method', 'stain.method', ['off', 'reinhard']);
  if (stain.reference !== undefined || stain.method === 'reinhard') {
    if (isObject(stain.reference)) {
      c.triple(stain.reference, 'mean', 'stain.reference.mean', false);
      c.triple(stain.reference, 'std', 'stain.reference.std', true);
    } else {
      c.check(false, 'stain.reference', 'an object {mean: [L, a, b], std: [L, a, b]}', stain.reference);
    }
  }
}

function checkTerms(json: Json, c: CardChecks): void {
  if (json.license !== undefined) {
    if (isObject(json.license)) {
      c.text(json.license, 'spdx', 'license.spdx');
      c.text(json.license, 'copyright', 'license.copyright');
    } else {
      c.check(false, 'license', 'an object {spdx, copyright}', json.license);
    }
  }
  if (json.trainingData !== undefined) {
    if (Array.isArray(json.trainingData) && json.trainingData.length > 0) {
      json.trainingData.forEach((set: unknown, i) => {
        const field = `trainingData[${i}]`;
        if (!isObject(set)) return c.check(false, field, 'an object {name, source, license, use}', set);
        for (const key of ['name', 'source', 'license', 'use']) c.text(set, key, `${field}.${key}`);
        c.text(set, 'imageTerms', `${field}.imageTerms`, true);
      });
    } else {
      c.check(false, 'trainingData', 'a non-empty array of data sets {name, source, license, use}', json.trainingData);
    }
  }
  for (const key of ['provenance', 'metrics'] as const) {
    if (json[key] !== undefined) c.check(isObject(json[key]), key, 'an object', json[key]);
  }
}

/** The card's parts, checked in this order (the order the problems are listed in). */
export const CARD_SECTIONS: readonly ((json: Json, c: CardChecks) => void)[] = [
  checkFiles,
  checkTensors,
  checkGeometry,
  checkPostprocessing,
  checkStain,
  checkTerms,
];

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
