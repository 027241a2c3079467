"""The model's validation tiles under a fixed, seeded set of transformations that other labs' slides show: paler,
darker, bluer, pinker, desaturated, another stain matrix, JPEG q50 with blur, and pixel sizes of 0.25 and 1.0 um/px.
Each transformation gets a folder of PNG tiles with their glomeruli as GeoJSON (in that folder's pixels), so
`glomseg score --mpp <mpp>` scores it through the product exactly as it scores a slide.

    /usr/bin/python3 training/stress_validation_tiles.py models/glomseg-unet.json OUT_DIR
Prints one line per transformation: NAME MPP DESCRIPTION (training/score_validation.sh --stress reads it).
"""
import io
import json
import os
import sys

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import write_truth_geojson  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'data', 'hubmap-vu')
SEED = 20261202
TILE_MPP = 0.5  # the HuBMAP tiles (data README)

# Ruifrok & Johnston optical densities of haematoxylin, eosin and a residual channel (rows), RGB columns.
HED = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
# Another lab's stains: a redder haematoxylin and a bluer counterstain, normalised rows.
OTHER = np.array([[0.49, 0.77, 0.41], [0.21, 0.91, 0.36], [0.27, 0.57, 0.78]])
OTHER = OTHER / np.linalg.norm(OTHER, axis=1, keepdims=True)
HED_N = HED / np.linalg.norm(HED, axis=1, keepdims=True)


def to_stains(rgb):
    od = -np.log(np.maximum(rgb.astype(np.float64), 1) / 255)
    return od.reshape(-1, 3) @ np.linalg.inv(HED_N)


def from_stains(stains, shape, matrix=HED_N):
    od = stains @ matrix
    return np.clip(255 * np.exp(-od), 0, 255).round().astype(np.uint8).reshape(shape)


def stain_scale(h, e):
    def apply(img, rng):
        rgb = np.asarray(img)
        s = to_stains(rgb)
        s[:, 0] *= h
        s[:, 1] *= e
        return Image.fromarray(from_stains(s, rgb.shape))
    return apply


def other_matrix(img, rng):
    rgb = np.asarray(img)
    return Image.fromarray(from_stains(to_stains(rgb), rgb.shape, OTHER))


def paler(img, rng):
    rgb = np.asarray(img).astype(np.float64)
    return Image.fromarray((rgb + (255 - rgb) * 0.4).round().astype(np.uint8))


def darker(img, rng):
    rgb = np.asarray(img).astype(np.float64) / 255
    return Image.fromarray((255 * rgb ** 1.6).round().astype(np.uint8))


def desaturated(img, rng):
    return ImageEnhance.Color(img).enhance(0.45)


def jpeg_blur(img, rng):
    buf = io.BytesIO()
    img.filter(ImageFilter.GaussianBlur(1.2)).save(buf, 'JPEG', quality=50, subsampling=2)
    buf.seek(0)
    return Image.open(buf).convert('RGB')


def noise(img, rng):
    rgb = np.asarray(img).astype(np.float64) + rng.normal(0, 8, size=np.asarray(img).shape)
    return Image.fromarray(np.clip(rgb, 0, 255).round().astype(np.uint8))


# name -> (pixel transformation, pixel-size factor, description). A factor f resizes by 1/f: f = 2 is 1.0 um/px.
TRANSFORMS = {
    'plain': (None, 1, 'the tiles as they are'),
    'paler': (paler, 1, '40 % towards white: a faint stain'),
    'darker': (darker, 1, 'gamma 1.6: a dense stain'),
    'bluer': (stain_scale(1.5, 0.7), 1, 'haematoxylin x1.5, counterstain x0.7'),
    'pinker': (stain_scale(0.7, 1.5), 1, 'haematoxylin x0.7, counterstain x1.5'),
    'desaturated': (desaturated, 1, 'saturation x0.45'),
    'other-stain-matrix': (other_matrix, 1, 'the same stain amounts drawn with another lab\'s stain vectors'),
    'jpeg50-blur': (jpeg_blur, 1, 'Gaussian blur 1.2 px, then JPEG quality 50 (4:2:0)'),
    'noise': (noise, 1, 'Gaussian noise, sigma 8 levels'),
    'mpp-0.25': (None, 0.5, 'scanned at 0.25 um/px (40x), passed with --mpp 0.25'),
    'mpp-1.0': (None, 2, 'scanned at 1.0 um/px (10x), passed with --mpp 1.0'),
}


def write(card_path, out_dir, data_dir=DATA):
    with open(card_path) as f:
        card = json.load(f)
    ids = card['provenance']['validationTiles']
    lines = []
    for k, (name, (transform, factor, description)) in enumerate(TRANSFORMS.items()):
        folder = os.path.join(out_dir, name)
        os.makedirs(folder, exist_ok=True)
        rng = np.random.default_rng(SEED + k)
        for tile_id in ids:
            img = Image.open(os.path.join(data_dir, 'tiles', f'{tile_id}.jpg')).convert('RGB')
            if factor != 1:
                img = img.resize((round(img.width / factor), round(img.height / factor)), Image.LANCZOS)
            if transform:
                img = transform(img, rng)
            img.save(os.path.join(folder, f'{tile_id}.png'))
            write_truth_geojson(data_dir, tile_id, factor, os.path.join(folder, f'{tile_id}.geojson'))
        lines.append(f'{name} {TILE_MPP * factor:g} {description}')
    return lines


if __name__ == '__main__':
    print('\n'.join(write(sys.argv[1], sys.argv[2])))
