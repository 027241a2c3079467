// Types of scripts/check-size.mjs, for the tests that import it.
export interface MeasuredFunction {
  name: string;
  line: number;
  lines: number;
}
export interface LongFile {
  file: string;
  lines: number;
}
export interface LongFunction extends MeasuredFunction {
  file: string;
}
export const MAX_FILE_LINES: number;
export const MAX_FUNCTION_LINES: number;
export function sourceFiles(root: string): string[];
export function scriptFunctions(path: string, text: string): MeasuredFunction[];
export function pythonFunctions(root: string, paths: string[]): Record<string, MeasuredFunction[]>;
export function checkSizes(root: string): { longFiles: LongFile[]; longFunctions: LongFunction[] };
