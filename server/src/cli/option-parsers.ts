/** Parsers for command-line option values, shared by the glomseg CLI and the bench commands (commander). */
import { statSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${value}' is not a positive whole number`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive number`);
  return n;
}

/** A file that exists when the command starts, as an absolute path (a typo fails now, not at first use). */
export function existingFile(value: string): string {
  const file = path.resolve(value);
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) throw new InvalidArgumentError(`'${value}' is not a file`);
  return file;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`'${value}' is not a port number`);
  return n;
}

export function region(value: string) {
  const parts = value.split(',').map(Number);
  if (parts.length !== 4 || !parts.every(Number.isFinite) || parts[2] <= 0 || parts[3] <= 0) {
    throw new InvalidArgumentError(`'${value}' is not a region x,y,width,height in level-0 pixels`);
  }
  return { x: parts[0], y: parts[1], width: parts[2], height: parts[3] };
}

/** `--truth-class`, repeatable, each a comma list: every name so far. */
export function truthClasses(value: string, previous: string[] | undefined): string[] {
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === ''))
    throw new InvalidArgumentError(`'${value}' names an empty class (give class names, comma separated)`);
  return [...(previous ?? []), ...names];
}
