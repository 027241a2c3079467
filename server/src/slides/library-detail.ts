/**
 * A decoding library's error text, cut down to what a client should read: the library's own calls to report
 * bugs and its links stay out of our messages (the full error still goes to the log as the cause).
 */
const MAX_DETAIL_CHARS = 160;

export function libraryDetail(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const kept = text
    .split(/(?<=[.!?])\s+/)
    .filter((sentence) => !/please report|https?:\/\/|github\.com/i.test(sentence))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!kept) return 'the file is damaged or uses a layout the reader does not support';
  return kept.length > MAX_DETAIL_CHARS ? `${kept.slice(0, MAX_DETAIL_CHARS - 1)}…` : kept;
}
