"""Writes the model's validation tiles as they would be read from a JPEG pyramid level at the model's scale
(dataset.pyramid_look: Lanczos, JPEG q90 4:2:0), with their glomeruli as GeoJSON in that level's pixels, so
`glomseg score --mpp <model mpp>` reads them the way it reads level 2 of a libtiff-made slide.

    /usr/bin/python3 training/pyramid_validation_tiles.py models/glomseg-unet.json OUT_DIR
"""
import json
import os
import sys

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import pyramid_look, write_truth_geojson  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'data', 'hubmap-vu')


def write_tiles(card_path, out_dir, data_dir=DATA):
    with open(card_path) as f:
        card = json.load(f)
    factor = card['downsample']
    os.makedirs(out_dir, exist_ok=True)
    for tile_id in card['provenance']['validationTiles']:
        img = Image.open(os.path.join(data_dir, 'tiles', f'{tile_id}.jpg')).convert('RGB')
        pyramid_look(img, factor).save(os.path.join(out_dir, f'{tile_id}.png'))  # lossless: no second coding
        write_truth_geojson(data_dir, tile_id, factor, os.path.join(out_dir, f'{tile_id}.geojson'))
    return card['mpp']


if __name__ == '__main__':
    print(write_tiles(sys.argv[1], sys.argv[2]))
