/** Flat PNG and JPEG images, decoded whole by sharp (image-file-slide-source.ts). */
import { ImageFileSlideSource } from '../image-file-slide-source.js';
import { hasExtension, startsWith } from '../slide-reader.js';
import { registerSlideReader } from '../slide-readers.js';

const EXTENSIONS = ['.png', '.jpg', '.jpeg'];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];

registerSlideReader({
  name: 'image',
  extensions: EXTENSIONS,
  support: (probe) => {
    if (probe.path === undefined) return undefined;
    if (startsWith(probe.head, PNG) || startsWith(probe.head, JPEG)) return 1;
    return hasExtension(probe, EXTENSIONS) ? 0.5 : undefined;
  },
  open: (probe, { id, signal }) => ImageFileSlideSource.open(probe.path!, id, signal),
});
