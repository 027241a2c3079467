/** The models folder: every `*.json` model card in it, checked, with the ONNX files it names. */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import { validateModelCard, type ModelCard } from '@glomseg/shared/model-card.js';

/** The model everyone gets when they do not name one. */
export const DEFAULT_MODEL_ID = 'glomseg-unet';

export interface RegisteredModel {
  card: ModelCard;
  /** Absolute path of the card's JSON file. */
  cardPath: string;
  /** Absolute path of the ONNX file (`card.file`). */
  modelPath: string;
  /** Absolute paths of the variants that exist on disk, keyed like `card.variants` (e.g. 'webgpu'). */
  variantPaths: Record<string, string>;
}

export interface ModelRegistryOptions {
  folder: string;
  signal?: AbortSignal;
  /** Told about non-fatal problems, such as a variant file that is missing. */
  logger?: (message: string) => void;
}

export class ModelRegistry {
  readonly folder: string;
  readonly #models: RegisteredModel[];

  private constructor(folder: string, models: RegisteredModel[]) {
    this.folder = folder;
    this.#models = models;
  }

  /** Reads and checks every card in the folder; fails on the first bad card, naming the file and the field. */
  static async load({ folder, signal, logger }: ModelRegistryOptions): Promise<ModelRegistry> {
    const root = path.resolve(folder);
    let names: string[];
    try {
      names = await readdir(root);
    } catch (error) {
      throw new GlomsegError(
        'FAILED_PRECONDITION',
        `cannot read the models folder ${root}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const models: RegisteredModel[] = [];
    const byId = new Map<string, string>();
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      throwIfAborted(signal);
      const model = await readModel(path.join(root, name), logger);
      const clash = byId.get(model.card.id);
      if (clash) {
        throw new GlomsegError(
          'FAILED_PRECONDITION',
          `model id '${model.card.id}' is used by both ${clash} and ${model.cardPath}`,
        );
      }
      byId.set(model.card.id, model.cardPath);
      models.push(model);
    }
    return new ModelRegistry(root, models);
  }

  list(): RegisteredModel[] {
    return [...this.#models];
  }

  get(id: string): RegisteredModel {
    const model = this.#models.find((m) => m.card.id === id);
    if (!model) {
      const available = this.#models.map((m) => m.card.id).join(', ') || 'none';
      throw new GlomsegError('NOT_FOUND', `no model '${id}'; available: ${available}`);
    }
    return model;
  }

  /** 'glomseg-unet' when present, else the first card in name order. */
  defaultModel(): RegisteredModel {
    const model = this.#models.find((m) => m.card.id === DEFAULT_MODEL_ID) ?? this.#models[0];
    if (!model) throw new GlomsegError('FAILED_PRECONDITION', `no model cards (*.json) in ${this.folder}`);
    return model;
  }
}

async function readModel(cardPath: string, logger?: (message: string) => void): Promise<RegisteredModel> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(cardPath, 'utf8'));
  } catch (error) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `${cardPath}: not a readable JSON file: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let card: ModelCard;
  try {
    card = validateModelCard(json, cardPath);
  } catch (error) {
    // A bad card in the server's own folder is a set-up problem, not a bad request.
    throw new GlomsegError('FAILED_PRECONDITION', (error as Error).message, { cause: error });
  }
  const folder = path.dirname(cardPath);
  const modelPath = path.resolve(folder, card.file);
  if (!(await isFile(modelPath))) {
    throw new GlomsegError('FAILED_PRECONDITION', `${cardPath}: 'file' names ${modelPath}, which does not exist`);
  }
  const variantPaths: Record<string, string> = {};
  for (const [purpose, file] of Object.entries(card.variants ?? {})) {
    const variantPath = path.resolve(folder, file);
    if (await isFile(variantPath)) variantPaths[purpose] = variantPath;
    else
      logger?.(
        `${cardPath}: variant '${purpose}' names ${variantPath}, which does not exist; using ${card.file} instead`,
      );
  }
  return { card, cardPath, modelPath, variantPaths };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
