/**
 * The models folder: every `*.json` model card in it and every kept version (model-versions.ts), checked, with the
 * ONNX files they name. Reloaded in place when a version is published or the default changes, so calls see it at once.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import { validateModelCard, type ModelCard } from '@glomseg/shared/model-card.js';
import {
  STATE_FILE,
  VERSION_CARD,
  createStaging,
  publishStaging,
  readDefaultChoice,
  sweepStaging,
  versionCardPaths,
  writeDefaultChoice,
} from './model-versions.js';

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
  #models: RegisteredModel[];
  #defaultId: string | undefined;
  /** Versions being judged (held-out scoring): callable by id, not listed, not yet on disk under their id. */
  readonly #staged = new Map<string, { model: RegisteredModel; folder: string }>();
  /** Models as their own file without variants (held-out scoring at one precision): callable by id, not listed. */
  readonly #baseFiles = new Map<string, RegisteredModel>();
  readonly #logger?: (message: string) => void;

  private constructor(folder: string, logger?: (message: string) => void) {
    this.folder = folder;
    this.#models = [];
    this.#logger = logger;
  }

  /** Reads and checks every card in the folder; fails on the first bad card, naming the file and the field. */
  static async load({ folder, signal, logger }: ModelRegistryOptions): Promise<ModelRegistry> {
    const registry = new ModelRegistry(path.resolve(folder), logger);
    const swept = await sweepStaging(registry.folder);
    if (swept.length > 0) logger?.(`removed ${swept.length} unfinished model version(s) a stopped adaptation left`);
    await registry.reload(signal);
    return registry;
  }

  /** Reads the folder again: versions published since, and the default chosen since. */
  async reload(signal?: AbortSignal): Promise<void> {
    const models = await readFolder(this.folder, signal, this.#logger);
    const choice = await readDefaultChoice(this.folder);
    if (choice !== undefined && !models.some((m) => m.card.id === choice))
      this.#logger?.(`the default model '${choice}' (registry.json) is not in ${this.folder}; using the usual default`);
    this.#models = models;
    this.#defaultId = choice;
  }

  list(): RegisteredModel[] {
    return [...this.#models];
  }

  get(id: string): RegisteredModel {
    const model = this.#models.find((m) => m.card.id === id) ?? this.#staged.get(id)?.model ?? this.#baseFiles.get(id);
    if (!model) {
      const available = this.#models.map((m) => m.card.id).join(', ') || 'none';
      throw new GlomsegError('NOT_FOUND', `no model '${id}'; available: ${available}`);
    }
    return model;
  }

  /** The operator's choice (registry.json) when it is here, else 'glomseg-unet' when present, else the first card. */
  defaultModel(): RegisteredModel {
    const model =
      this.#models.find((m) => m.card.id === this.#defaultId) ??
      this.#models.find((m) => m.card.id === DEFAULT_MODEL_ID) ??
      this.#models[0];
    if (!model) throw new GlomsegError('FAILED_PRECONDITION', `no model cards (*.json) in ${this.folder}`);
    return model;
  }

  /** Makes a listed model the default for every call that names none (a rollback is this, to an older version). */
  async setDefault(id: string): Promise<RegisteredModel> {
    const model = this.#models.find((m) => m.card.id === id);
    if (!model) this.get(id);
    if (!model) throw new GlomsegError('FAILED_PRECONDITION', `model '${id}' is still being judged`);
    await writeDefaultChoice(this.folder, id);
    this.#defaultId = id;
    return model;
  }

  /** A new empty folder to write a version into; invisible until published. */
  createStaging(): Promise<string> {
    return createStaging(this.folder);
  }

  /** Reads the version written in `staging` and makes it callable by its card's id (not listed) to be judged. */
  async stage(staging: string): Promise<RegisteredModel> {
    const model = await readModel(path.join(staging, VERSION_CARD), this.#logger);
    if (this.#models.some((m) => m.card.id === model.card.id) || this.#staged.has(model.card.id))
      throw new GlomsegError('FAILED_PRECONDITION', `a model '${model.card.id}' already exists`);
    this.#staged.set(model.card.id, { model, folder: staging });
    return model;
  }

  /** Publishes a staged version: one rename into versions/<id>, then it is listed. */
  async publish(id: string): Promise<RegisteredModel> {
    const staged = this.#staged.get(id);
    if (!staged) throw new GlomsegError('NOT_FOUND', `no staged model '${id}'`);
    await publishStaging(this.folder, staged.folder, id);
    this.#staged.delete(id);
    await this.reload();
    return this.get(id);
  }

  /** Makes a model callable as `id` on its own file (card.file), its variants (int8 CPU, fp16 WebGPU) left out. */
  stageBaseFile(modelId: string, id: string): RegisteredModel {
    const model = this.get(modelId);
    const card: ModelCard = { ...model.card, id };
    delete card.variants;
    const baseFile = { ...model, card, variantPaths: {} };
    this.#baseFiles.set(id, baseFile);
    return baseFile;
  }

  unstageBaseFile(id: string): void {
    this.#baseFiles.delete(id);
  }

  /** Throws a staged (or never staged) version's folder away. */
  async discard(staging: string): Promise<void> {
    for (const [id, entry] of this.#staged) if (entry.folder === staging) this.#staged.delete(id);
    await rm(staging, { recursive: true, force: true });
  }
}

async function readFolder(
  root: string,
  signal: AbortSignal | undefined,
  logger?: (message: string) => void,
): Promise<RegisteredModel[]> {
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
  const cardPaths = [
    ...names
      .filter((n) => n.endsWith('.json') && n !== STATE_FILE)
      .sort()
      .map((n) => path.join(root, n)),
    ...(await versionCardPaths(root)),
  ];
  const models: RegisteredModel[] = [];
  const byId = new Map<string, string>();
  for (const cardPath of cardPaths) {
    throwIfAborted(signal);
    const model = await readModel(cardPath, logger);
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
  return models;
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
