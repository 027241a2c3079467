/** `npm run bench`'s progress lines: stderr, as stdout carries the JSON report. */
export const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};
