/**
 * Every annotation format, registered by importing its file (registry.ts): a new format is one file (its reader
 * and its name in `AnnotationFormats`) and its line here, plus its value in the proto's enum and wire-enums.ts'
 * table, which test/api/wire-enums.test.ts holds to the registry. Order breaks detection ties and orders messages.
 */
import './geojson.js';
import './labelme.js';
import './rle-csv.js';

export * from './registry.js';
