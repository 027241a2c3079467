/** The `glomseg` commands, in the order help lists them: a new command is one module and one line here. */
import type { CliCommand } from './command.js';
import { serveCommand } from './serve.js';
import { scoreCommand } from './score.js';
import { mergeCommand } from './merge.js';
import { healthCommand } from './health.js';
import { infoCommand } from './info.js';
import { adaptCommand } from './adapt.js';
import { modelsCommand } from './models.js';
import { annotationsCommand } from './annotations.js';

export const COMMANDS: readonly CliCommand[] = [
  serveCommand,
  scoreCommand,
  mergeCommand,
  healthCommand,
  infoCommand,
  annotationsCommand,
  adaptCommand,
  modelsCommand,
];
