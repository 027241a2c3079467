"""An adapt.py manifest from images with GeoJSON ground truth (an other-labs/<set> folder: tiles.csv with tile_id,
case, um_per_px; <id>.png, <id>.geojson): each whole image is one reviewed region, resampled to the model's pixel size
as the product reads a flat image (area-averaged by the largest power of two at or below the scale, then Lanczos),
its polygons scaled alike. Until `glomseg annotations import` and the server's datastore make these, this is how
training/adapt_measure.sh feeds the issue-30 measurement.

  /usr/bin/python3 training/adapt_regions.py SET OUT --patients C001,C002,C004 [--card models/glomseg-unet.json]
Writes OUT/<id>.png and OUT/manifest.json; prints the manifest's counts as JSON.
"""
import argparse
import csv
import json
import os

from PIL import Image


def resample(img, factor):
    """img at 1/factor of its size: box-average by 2^k <= factor (a synthesised pyramid level), then Lanczos."""
    k = 1
    while k * 2 <= factor * (1 + 1e-6):
        k *= 2
    if k > 1:
        img = img.reduce(k)
    size = (max(1, int(round(img.width * k / factor))), max(1, int(round(img.height * k / factor))))
    return img.resize(size, Image.LANCZOS)


def polygons(geojson_path, factor):
    with open(geojson_path) as f:
        features = json.load(f)['features']
    out = []
    for feature in features:
        geometry = feature['geometry']
        shells = [geometry['coordinates']] if geometry['type'] == 'Polygon' else geometry['coordinates']
        for rings in shells:
            out.append([[[x / factor, y / factor] for x, y in ring] for ring in rings])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('set')
    parser.add_argument('out')
    parser.add_argument('--patients', required=True, help='comma-separated tiles.csv case values to include')
    parser.add_argument('--card', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'models',
                                                       'glomseg-unet.json'))
    args = parser.parse_args()
    with open(args.card) as f:
        model_mpp = json.load(f)['mpp']
    patients = set(args.patients.split(','))
    with open(os.path.join(args.set, 'tiles.csv'), newline='') as f:
        rows = [r for r in csv.DictReader(f) if r['case'] in patients]
    os.makedirs(args.out, exist_ok=True)
    regions = []
    for row in rows:
        factor = model_mpp / float(row['um_per_px'])
        with Image.open(os.path.join(args.set, f"{row['tile_id']}.png")) as img:
            resample(img.convert('RGB'), factor).save(os.path.join(args.out, f"{row['tile_id']}.png"))
        regions.append({'id': row['tile_id'], 'slide': row['case'], 'image': f"{row['tile_id']}.png",
                        'glomeruli': polygons(os.path.join(args.set, f"{row['tile_id']}.geojson"), factor)})
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump({'mpp': model_mpp, 'source': os.path.abspath(args.set), 'regions': regions}, f)
    print(json.dumps({'regions': len(regions), 'glomeruli': sum(len(r['glomeruli']) for r in regions),
                      'manifest': os.path.join(args.out, 'manifest.json')}))


if __name__ == '__main__':
    main()
