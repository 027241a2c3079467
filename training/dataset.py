"""Loading the HuBMAP VU tiles at the working scale: area-downsampled images and glomerulus-fraction masks."""
import csv
import io
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


def write_truth_geojson(data_dir, tile_id, factor, path):
    """A tile's glomeruli as a GeoJSON FeatureCollection in the pixels of the tile shrunk by `factor` (QuPath style)."""
    polys, _ = polygons(data_dir, tile_id)
    features = [{
        'type': 'Feature',
        'geometry': {'type': 'Polygon', 'coordinates': [[[x / factor, y / factor] for x, y in p + [p[0]]]]},
        'properties': {'objectType': 'annotation', 'classification': {'name': 'Glomerulus'}},
    } for p in polys]
    with open(path, 'w') as f:
        json.dump({'type': 'FeatureCollection', 'features': features}, f)


def polygon_area(points):
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    return 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1)))


# How a slide's lower pyramid levels may have been made: scanners and libtiff/vips tools differ, and a level made
# with a sharper kernel (then JPEG-compressed again) looks unlike a box average; see pyramid_look().
RESAMPLERS = ('box', 'lanczos', 'bicubic')


def downsample_image(img, factor, resample='box'):
    """Box (area) averaging by default; 'lanczos' or 'bicubic' for the sharper levels some pyramid tools write."""
    if factor == 1:
        return img
    if resample == 'box':
        return img.reduce(factor)
    kernel = {'lanczos': Image.LANCZOS, 'bicubic': Image.BICUBIC}[resample]
    return img.resize((img.width // factor, img.height // factor), kernel)


def jpeg_roundtrip(img, quality):
    """The image after JPEG coding with 4:2:0 chroma, as stored in a JPEG-compressed TIFF pyramid level."""
    buf = io.BytesIO()
    img.save(buf, 'JPEG', quality=quality, subsampling=2)
    buf.seek(0)
    return Image.open(buf).convert('RGB')


def pyramid_look(img, factor):
    """A tile as read from a JPEG pyramid level made with a Lanczos kernel (quality 90): validates that shift."""
    return jpeg_roundtrip(downsample_image(img, factor, 'lanczos'), 90)


def load_tiles(data_dir, tile_ids, factor, looks=(downsample_image,)):
    """Returns (images, masks) at 1/factor of level 0: `images` holds one list of uint8 HxWx3 arrays per look, a look
    turning the full-resolution tile into the downsampled one (box averaging by default); `masks` holds float32 HxW
    covered fractions in [0,1]. Each tile is decoded and rasterised once, however many looks.
    """
    images, masks = [[] for _ in looks], []
    for tile_id in tile_ids:
        img = Image.open(os.path.join(data_dir, 'tiles', f'{tile_id}.jpg')).convert('RGB')
        polys, (w, h) = polygons(data_dir, tile_id)
        if img.size != (w, h):
            raise ValueError(f'tile {tile_id}: image {img.size} does not match annotation {(w, h)}')
        # Rasterise at full resolution, then area-downsample so the target is the covered fraction.
        mask = Image.new('L', (w, h), 0)
        draw = ImageDraw.Draw(mask)
        for poly in polys:
            draw.polygon(poly, fill=255, outline=255)
        for out, look in zip(images, looks):
            out.append(np.asarray(look(img, factor), dtype=np.uint8))
        masks.append(np.asarray(downsample_image(mask, factor), dtype=np.float32) / 255.0)
    return images, masks


def instance_gaps(data_dir, tile_ids, factor, reach):
    """Per tile, float32 HxW at 1/factor: 1 on the background pixels within `reach` px of two or more glomeruli (the
    narrow gaps between neighbours, which a model must keep open to tell them apart), else 0. Each glomerulus is
    rasterised alone, area-downsampled, and dilated by `reach` with a max filter."""
    import torch
    import torch.nn.functional as F
    gaps = []
    for tile_id in tile_ids:
        polys, (w, h) = polygons(data_dir, tile_id)
        size = (h // factor, w // factor)
        if len(polys) < 2:
            gaps.append(np.zeros(size, np.float32))
            continue
        instances = []
        for poly in polys:
            mask = Image.new('L', (w, h), 0)
            ImageDraw.Draw(mask).polygon(poly, fill=255, outline=255)
            instances.append(np.asarray(downsample_image(mask, factor), dtype=np.float32) / 255.0)
        fractions = torch.from_numpy(np.stack(instances))[:, None]
        near = F.max_pool2d((fractions >= 0.5).float(), 2 * reach + 1, 1, reach).sum(0)[0]
        gaps.append(((near >= 2) & (fractions.sum(0)[0] < 0.5)).float().numpy())
    return gaps


def load_tile(data_dir, tile_id, factor):
    """One tile, box-averaged: (image uint8 HxWx3, mask float32 HxW in [0,1])."""
    images, masks = load_tiles(data_dir, [tile_id], factor)
    return images[0][0], masks[0]


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


def load_other_labs(folder, model_mpp, limit=0):
    """A validation set of other labs' images (other-labs/<set>: tiles.csv with tile_id, um_per_px; <id>.png and
    <id>.geojson polygons in image pixels) at the model's um/px: images box-resampled, masks rasterised at full
    resolution and area-resampled to covered fractions. For validation and model choice only, never for training.
    Returns (ids, uint8 HxWx3 arrays, float32 HxW masks, cases: the patient of each image)."""
    with open(os.path.join(folder, 'tiles.csv'), newline='') as f:
        rows = list(csv.DictReader(f))
    if limit:  # the first image of each of the first cases: a small set that still spans cases
        first = {}
        for row in rows:
            first.setdefault(row.get('case', row['tile_id']), row)
        rows = list(first.values())[:limit]
    ids, images, masks, cases = [], [], [], []
    for row in rows:
        img = Image.open(os.path.join(folder, f"{row['tile_id']}.png")).convert('RGB')
        factor = model_mpp / float(row['um_per_px'])
        size = (int(round(img.width / factor)), int(round(img.height / factor)))
        mask = Image.new('L', img.size, 0)
        draw = ImageDraw.Draw(mask)
        with open(os.path.join(folder, f"{row['tile_id']}.geojson")) as f:
            features = json.load(f)['features']
        for feature in features:
            geometry = feature['geometry']
            shells = [geometry['coordinates']] if geometry['type'] == 'Polygon' else geometry['coordinates']
            for rings in shells:
                draw.polygon([(float(x), float(y)) for x, y in rings[0]], fill=255, outline=255)
                for hole in rings[1:]:
                    draw.polygon([(float(x), float(y)) for x, y in hole], fill=0, outline=0)
        ids.append(row['tile_id'])
        cases.append(row.get('case', ''))
        images.append(np.asarray(img.resize(size, Image.BOX), dtype=np.uint8))
        masks.append(np.asarray(mask.resize(size, Image.BOX), dtype=np.float32) / 255.0)
    return ids, images, masks, cases
