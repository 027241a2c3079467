"""The reviewed regions training/adapt.py fine-tunes on: the manifest read and checked (bounds up front), each region's
crop, glomerulus mask, reviewed-area weight and stain statistics, and the deterministic held-out split.
The manifest format is documented at the top of adapt.py."""
import json
import math
import os

import numpy as np
from PIL import Image, ImageDraw

# Bounds checked before anything is decoded (the server bounds its requests too; these hold for a hand-made manifest).
MAX_REGIONS = 2000
MAX_REGION_EDGE = 4096  # model pixels
MAX_TOTAL_PIXELS = 64 * 1024 * 1024
MAX_VERTICES = 2_000_000
MIN_EDGE = 32


class ManifestError(ValueError):
    """A manifest a person must fix: the message says what and where."""


def read_manifest(path, card):
    """The manifest's regions as dicts (id, slide, image path, glomeruli rings, reviewed rings or None, stain or None),
    after checking its shape, its pixel size against the card's and the bounds. Images are not decoded here."""
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise ManifestError(f'{path}: cannot read the manifest as JSON ({e})') from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get('regions'), list):
        raise ManifestError(f'{path}: the manifest must be an object with a "regions" array')
    mpp = manifest.get('mpp')
    if mpp is not None and card.get('mpp') is not None and abs(float(mpp) - float(card['mpp'])) > 1e-6 * card['mpp']:
        raise ManifestError(f'{path}: crops are at {mpp} um/px but the model works at {card["mpp"]} um/px')
    regions = manifest['regions']
    if not 1 <= len(regions) <= MAX_REGIONS:
        raise ManifestError(f'{path}: {len(regions)} regions (1 to {MAX_REGIONS} allowed)')
    folder = os.path.dirname(os.path.abspath(path))
    out, seen, vertices = [], set(), 0
    for i, r in enumerate(regions):
        region = read_region(r, i, folder)
        if region['id'] in seen:
            raise ManifestError(f'{path}: region id {region["id"]!r} appears twice')
        seen.add(region['id'])
        vertices += sum(len(ring) for poly in region['glomeruli'] for ring in poly)
        out.append(region)
    if vertices > MAX_VERTICES:
        raise ManifestError(f'{path}: {vertices} vertices in all (at most {MAX_VERTICES})')
    return out


def read_region(r, i, folder):
    where = f'regions[{i}]'
    if not isinstance(r, dict):
        raise ManifestError(f'{where} must be an object')
    rid, image = r.get('id'), r.get('image')
    if not isinstance(rid, str) or not rid.strip():
        raise ManifestError(f'{where}.id must be a non-empty string')
    if not isinstance(image, str) or not image:
        raise ManifestError(f'{where}.image must be a file name (an RGB PNG at the model pixel size)')
    glomeruli = r.get('glomeruli', [])
    if not isinstance(glomeruli, list):
        raise ManifestError(f'{where}.glomeruli must be an array of polygons')
    polygons = [rings(p, f'{where}.glomeruli[{k}]') for k, p in enumerate(glomeruli)]
    reviewed = rings(r['reviewed'], f'{where}.reviewed') if r.get('reviewed') is not None else None
    stain = r.get('stain')
    if stain is not None and not (isinstance(stain, dict) and all(
            isinstance(stain.get(k), list) and len(stain[k]) == 3 and all(is_number(v) for v in stain[k])
            for k in ('mean', 'std'))):
        raise ManifestError(f'{where}.stain must be {{"mean": [L, a, b], "std": [L, a, b]}}')
    return {'id': rid, 'slide': str(r.get('slide', rid)), 'image': os.path.join(folder, image), 'glomeruli': polygons,
            'reviewed': reviewed, 'stain': stain}


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def rings(polygon, where):
    """A GeoJSON Polygon's coordinates: [outline, hole, ...], each ring [[x, y], ...] with at least 3 points."""
    ok = isinstance(polygon, list) and len(polygon) >= 1 and all(
        isinstance(ring, list) and len(ring) >= 3 and all(
            isinstance(p, list) and len(p) == 2 and is_number(p[0]) and is_number(p[1]) for p in ring)
        for ring in polygon)
    if not ok:
        raise ManifestError(f'{where} must be a polygon: [[[x, y], ...], ...holes] with 3 or more points a ring')
    return [[(float(x), float(y)) for x, y in ring] for ring in polygon]


def held_out(regions, fraction):
    """Ids of the held-out regions, as the server's AdaptModel splits (shared/src/adaptation.ts splitHeldOut, whose
    rule this repeats): regions ordered by the 32-bit FNV-1a hash of their id's UTF-16 code units (ties by id), the
    first round(fraction x n), at least one and at most n - 1; none with fewer than two regions or fraction 0."""
    if fraction <= 0 or len(regions) < 2:
        return set()
    count = min(len(regions) - 1, max(1, int(math.floor(fraction * len(regions) + 0.5))))
    order = sorted(regions, key=lambda r: (fnv1a(r['id']), r['id']))
    return {r['id'] for r in order[:count]}


def fnv1a(text):
    h = 0x811c9dc5
    units = text.encode('utf-16-le')
    for i in range(0, len(units), 2):
        h = ((h ^ (units[i] | units[i + 1] << 8)) * 0x01000193) & 0xffffffff
    return h


def load_region(region, total):
    """Decodes one region: uint8 (H, W, 3) image, float32 (H, W) glomerulus coverage and reviewed-area weight.
    `total` is a one-element list counting pixels against MAX_TOTAL_PIXELS."""
    try:
        with Image.open(region['image']) as img:
            w, h = img.size
            if not (MIN_EDGE <= w <= MAX_REGION_EDGE and MIN_EDGE <= h <= MAX_REGION_EDGE):
                raise ManifestError(f'{region["id"]}: {w} x {h} px (each edge {MIN_EDGE} to {MAX_REGION_EDGE})')
            total[0] += w * h
            if total[0] > MAX_TOTAL_PIXELS:
                raise ManifestError(f'the regions hold more than {MAX_TOTAL_PIXELS} pixels in all')
            rgb = np.asarray(img.convert('RGB'), dtype=np.uint8)
    except OSError as e:
        raise ManifestError(f'{region["id"]}: cannot read {region["image"]} ({e})') from None
    return rgb, raster(region['glomeruli'], w, h), (raster([region['reviewed']], w, h) if region['reviewed']
                                                     else np.ones((h, w), np.float32))


def raster(polygons, w, h, supersample=4):
    """Covered fraction of each pixel (polygons drawn at 4x and area-averaged, as training rasterises its truth)."""
    mask = Image.new('L', (w * supersample, h * supersample), 0)
    draw = ImageDraw.Draw(mask)
    for poly in polygons:
        for k, ring in enumerate(poly):
            pts = [(x * supersample, y * supersample) for x, y in ring]
            draw.polygon(pts, fill=0 if k else 255, outline=0 if k else 255)
    return np.asarray(mask.resize((w, h), Image.BOX), dtype=np.float32) / 255.0
