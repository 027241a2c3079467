"""An adapt.py replay manifest from the parent model's own training tiles (the HuBMAP VU layout: splits.csv,
tiles/<id>.jpg with labelme <id>.json): each tile whose id the card lists in provenance.trainTiles becomes one reviewed
region at the model's pixel size, resampled as adapt_regions.py resamples a lab's images. adapt.py --replay mixes
crops of them into every batch, so that a dozen corrections do not make the network forget the domain it was trained
on (and it keeps seeing many glomeruli, not only the lab's few).

  /usr/bin/python3 training/replay_regions.py DATA OUT [--card models/glomseg-unet.json] [--mpp 0.5]
Writes OUT/<id>.png and OUT/manifest.json; prints the manifest's counts as JSON. Never give it validation or
evaluation tiles: only the ids the card says the parent was fitted on are read.
"""
import argparse
import json
import os

from PIL import Image

from adapt_regions import resample
from dataset import polygons, read_splits


def train_tile_ids(card, data_dir):
    """The tiles the parent was fitted on: its card's provenance.trainTiles, else the data's split=train rows."""
    named = (card.get('provenance') or {}).get('trainTiles')
    if named:
        return [str(t) for t in named]
    return [r['tile_id'] for r in read_splits(data_dir) if r['split'] == 'train']


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data', help='a folder in the HuBMAP VU layout (splits.csv, tiles/)')
    parser.add_argument('out')
    parser.add_argument('--card', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'models',
                                                       'glomseg-unet.json'))
    parser.add_argument('--mpp', type=float, default=0.5, help="the tiles' um/px (HuBMAP VU: about 0.5)")
    args = parser.parse_args()
    with open(args.card) as f:
        card = json.load(f)
    factor = card['mpp'] / args.mpp
    os.makedirs(args.out, exist_ok=True)
    regions = []
    for tile_id in train_tile_ids(card, args.data):
        with Image.open(os.path.join(args.data, 'tiles', f'{tile_id}.jpg')) as img:
            resample(img.convert('RGB'), factor).save(os.path.join(args.out, f'{tile_id}.png'))
        polys, _ = polygons(args.data, tile_id)
        regions.append({'id': f'replay-{tile_id}', 'slide': 'replay', 'image': f'{tile_id}.png',
                        'glomeruli': [[[[x / factor, y / factor] for x, y in p]] for p in polys]})
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump({'mpp': card['mpp'], 'source': os.path.abspath(args.data), 'regions': regions}, f)
    print(json.dumps({'regions': len(regions), 'glomeruli': sum(len(r['glomeruli']) for r in regions),
                      'manifest': os.path.join(args.out, 'manifest.json')}))


if __name__ == '__main__':
    main()
