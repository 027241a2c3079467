/**
 * QuPath GeoJSON: a FeatureCollection, a bare array of Features as in the HuBMAP per-slide files, a single Feature
 * or geometry; Polygon and MultiPolygon, holes kept, other geometry ignored; each shape with its QuPath class.
 */
import type { Polygon } from '../geometry.js';
import { invalidAnnotations, isObject, registerAnnotationFormat, type AnnotationShape } from './registry.js';
import { toRing } from './points.js';

declare module './registry.js' {
  interface AnnotationFormats {
    geojson: true;
  }
}

/** A GeoJSON feature's class as QuPath writes it: `classification: {name}` (`{names: [...]}` for derived classes) or a plain string. */
function geoJsonClass(properties: unknown): string | undefined {
  if (!isObject(properties)) return undefined;
  const classification = properties.classification;
  if (typeof classification === 'string') return classification.trim() || undefined;
  if (!isObject(classification)) return undefined;
  if (typeof classification.name === 'string' && classification.name.trim()) return classification.name.trim();
  const names = classification.names;
  if (Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string')) return names.join(': ');
  return undefined;
}

function parseGeoJson(json: unknown): AnnotationShape[] {
  const shapes: AnnotationShape[] = [];
  const features: unknown[] = Array.isArray(json)
    ? json
    : isObject(json) && json.type === 'FeatureCollection'
      ? Array.isArray(json.features)
        ? json.features
        : (() => {
            throw invalidAnnotations('the GeoJSON FeatureCollection has no "features" list');
          })()
      : [json];
  features.forEach((feature, index) => {
    const where =
      Array.isArray(json) || (isObject(json) && json.type === 'FeatureCollection')
        ? `feature ${index}`
        : 'the GeoJSON object';
    if (!isObject(feature)) throw invalidAnnotations(`${where} is not a JSON object`);
    const polygons: Polygon[] = [];
    if (feature.type === 'Feature') {
      if (feature.geometry === null) return; // GeoJSON allows features without geometry
      addGeometry(feature.geometry, where, polygons);
    } else if (typeof feature.type === 'string') {
      addGeometry(feature, where, polygons);
    } else {
      throw invalidAnnotations(`${where} has no GeoJSON "type"`);
    }
    const label = feature.type === 'Feature' ? geoJsonClass(feature.properties) : undefined;
    for (const polygon of polygons) shapes.push({ polygon, where, ...(label ? { label } : {}) });
  });
  return shapes;
}

function addGeometry(geometry: unknown, where: string, out: Polygon[]): void {
  if (!isObject(geometry) || typeof geometry.type !== 'string')
    throw invalidAnnotations(`${where} has no valid geometry`);
  switch (geometry.type) {
    case 'Polygon':
      out.push(...toPolygon(geometry.coordinates, where));
      return;
    case 'MultiPolygon': {
      if (!Array.isArray(geometry.coordinates))
        throw invalidAnnotations(`${where}: MultiPolygon coordinates are not a list`);
      geometry.coordinates.forEach((coordinates, i) => out.push(...toPolygon(coordinates, `${where} polygon ${i}`)));
      return;
    }
    case 'GeometryCollection': {
      if (!Array.isArray(geometry.geometries))
        throw invalidAnnotations(`${where}: GeometryCollection has no "geometries" list`);
      geometry.geometries.forEach((g, i) => addGeometry(g, `${where} geometry ${i}`, out));
      return;
    }
    case 'Point':
    case 'MultiPoint':
    case 'LineString':
    case 'MultiLineString':
      return; // not an area: nothing to score
    default:
      throw invalidAnnotations(`${where} has unknown geometry type '${geometry.type}'`);
  }
}

/** One GeoJSON polygon (rings of [x, y] positions); degenerate polygons (under 3 distinct points) are skipped. */
function toPolygon(coordinates: unknown, where: string): Polygon[] {
  if (!Array.isArray(coordinates) || coordinates.length === 0)
    throw invalidAnnotations(`${where}: polygon coordinates are not a list of rings`);
  const rings = coordinates.map((ring, r) => toRing(ring, `${where} ring ${r}`));
  if (rings[0].length < 3) return [];
  return [{ exterior: rings[0], holes: rings.slice(1).filter((hole) => hole.length >= 3) }];
}

registerAnnotationFormat({
  name: 'geojson',
  description: 'GeoJSON',
  lacks: 'GeoJSON (no "type")',
  json: true,
  extensions: ['.geojson', '.json'],
  detect: (_text, json) => (Array.isArray(json) || (isObject(json) && typeof json.type === 'string') ? 1 : 0),
  parse: (_text, json) => parseGeoJson(json),
});
