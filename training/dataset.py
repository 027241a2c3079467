"""Loading the HuBMAP VU tiles at the working scale: area-downsampled images and glomerulus-fraction masks."""
import csv
import json
import os

import numpy as np
from PIL import Image, ImageDraw


def read_splits(data_dir):
    with open(os.path.join(data_dir, 'splits.csv'), newline='') as f:
        return list(csv.DictReader(f))


def polygons(data_dir, tile_id):
    with open(os.path.join(data_dir, 'tiles', f'{tile_id}.json')) as f:
        card = json.load(f)
    return [
        [(float(x), float(y)) for x, y in s['points']]
        for s in card['shapes']
        if s.get('shape_type', 'polygon') == 'polygon' and len(s['points']) >= 3
    ], (card['imageWidth'], card['imageHeight'])


def polygon_area(points):
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    return 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1)))


def downsample_image(img, factor):
    """Box (area) averaging, the way pyramid levels of a TIFF are made."""
    return img if factor == 1 else img.reduce(factor)


def load_tile(data_dir, tile_id, factor):
    """Returns (image uint8 HxWx3, mask float32 HxW in [0,1]) at 1/factor of level 0."""
    img = Image.open(os.path.join(data_dir, 'tiles', f'{tile_id}.jpg')).convert('RGB')
    polys, (w, h) = polygons(data_dir, tile_id)
    if img.size != (w, h):
        raise ValueError(f'tile {tile_id}: image {img.size} does not match annotation {(w, h)}')
    # Rasterise at full resolution, then area-downsample so the target is the covered fraction.
    mask = Image.new('L', (w, h), 0)
    draw = ImageDraw.Draw(mask)
    for poly in polys:
        draw.polygon(poly, fill=255, outline=255)
    image = np.asarray(downsample_image(img, factor), dtype=np.uint8)
    frac = np.asarray(downsample_image(mask, factor), dtype=np.float32) / 255.0
    return image, frac


def load_tiles(data_dir, tile_ids, factor):
    images, masks = [], []
    for tid in tile_ids:
        im, m = load_tile(data_dir, tid, factor)
        images.append(im)
        masks.append(m)
    return images, masks


def choose_validation(rows, val_rows_a, val_b_count):
    """Whole grid rows of slide A (no seam-neighbour leak across a row) plus the last few slide-B tiles."""
    train = [r for r in rows if r['split'] == 'train']
    val = [r['tile_id'] for r in train if r['slide'] == 'A' and r['grid_row'] != '' and int(r['grid_row']) in val_rows_a]
    b_ids = sorted((r['tile_id'] for r in train if r['slide'] == 'B'), key=int)
    if val_b_count > 0:
        val += b_ids[-val_b_count:]
    fit = [r['tile_id'] for r in train if r['tile_id'] not in val]
    return fit, val


def min_glomerulus_area(data_dir, tile_ids, border=2.0):
    """Smallest whole (not cut by the tile edge) training glomerulus, in level-0 px^2."""
    best = None
    for tid in tile_ids:
        polys, (w, h) = polygons(data_dir, tid)
        for p in polys:
            xs = [q[0] for q in p]
            ys = [q[1] for q in p]
            if min(xs) <= border or min(ys) <= border or max(xs) >= w - border or max(ys) >= h - border:
                continue
            a = polygon_area(p)
            best = a if best is None else min(best, a)
    return best
