/** Log lines for machines: one JSON object per line (time, level, msg), for `serve --log-format json`. */
export type LogFormat = 'text' | 'json';

function levelOf(message: string): 'error' | 'warn' | 'info' {
  if (/^internal error/i.test(message)) return 'error';
  if (/WARNING|cannot|failed/i.test(message)) return 'warn';
  return 'info';
}

export function jsonLogLine(message: string, now = new Date()): string {
  return `${JSON.stringify({ time: now.toISOString(), level: levelOf(message), msg: message })}\n`;
}

export function createLog(format: LogFormat, write: (line: string) => void): (message: string) => void {
  return format === 'json' ? (message) => write(jsonLogLine(message)) : (message) => write(`[glomseg] ${message}\n`);
}
