/**
 * Every slide reader, registered by importing its file (slide-readers.ts): a new format is one file and its line
 * here. Order breaks ties between readers that support a slide equally well.
 */
import './geotiff-reader.js';
import './image-file-reader.js';
import './remote-tiff-reader.js';
import './openslide-reader.js';
