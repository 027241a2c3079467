/** What a slide argument is (a file path, a server's slide id, or a URL) and the name its outputs take. */
import path from 'node:path';
import { isSlideUrl } from '../slides/slide-url-policy.js';
import { slideStem } from '../slides/slide-name.js';

export { isSlideUrl };

/** The output name of a slide: its file name without extension (for a URL: of its path, query dropped). */
export function slideNameOf(slide: string): string {
  let base = path.basename(slide);
  if (isSlideUrl(slide)) {
    try {
      base = path.posix.basename(decodeURIComponent(new URL(slide).pathname));
    } catch {
      // not a parseable URL: the server will say so; name it as given
    }
  }
  return slideStem(base);
}
