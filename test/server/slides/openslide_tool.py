"""The slide-reader tests' independent side: Debian's OpenSlide reads pixels, tifffile and opj_compress write slides.

  region SLIDE LEVEL X Y W H OUT     OpenSlide's RGB pixels of a region (X, Y in the level's own pixels) into OUT
  aperio-jp2k SRC OUT COMPRESSION [CHROMA]
                                     an Aperio SVS of two levels whose 256 x 256 tiles are JPEG 2000 codestreams:
                                     33005 RGB (irreversible, with the codestream's colour transform), 33003 YCbCr
                                     (no colour transform: the reader converts, as Aperio's files need), its chroma
                                     at half width (CHROMA 422, the default) or whole (444)
  tiled-tiff SRC OUT                 an uncompressed tiled RGB TIFF, for tiffcp to recompress

SRC pixels come from OpenSlide too (a tissue window of CMU-1-Small-Region.svs). OUT of `region` is raw RGB bytes.
"""
import os
import subprocess
import sys
import tempfile

import numpy
import openslide
import tifffile

TILE = 256
# A window of CMU-1-Small-Region.svs with tissue, and a size that leaves partial tiles at the right and bottom.
WINDOW = (600, 900, 1000, 744)


def region(slide_path, level, x, y, width, height, out):
    slide = openslide.OpenSlide(slide_path)
    downsample = slide.level_downsamples[level]
    # OpenSlide takes level-0 coordinates; x * downsample must be whole for the read to be the level's own pixels.
    rgba = numpy.asarray(slide.read_region((round(x * downsample), round(y * downsample)), level, (width, height)))
    if (rgba[:, :, 3] != 255).any():
        sys.exit("the region reaches outside the slide (OpenSlide made it transparent)")
    rgba[:, :, :3].tofile(out)


def source_window(src):
    x, y, width, height = WINDOW
    rgba = numpy.asarray(openslide.OpenSlide(src).read_region((x, y), 0, (width, height)))
    return numpy.ascontiguousarray(rgba[:, :, :3])


def halve(rgb):
    height, width = rgb.shape[0] // 2, rgb.shape[1] // 2
    blocks = rgb[: height * 2, : width * 2].reshape(height, 2, width, 2, 3).astype(numpy.uint16)
    return (blocks.sum(axis=(1, 3)) // 4).astype(numpy.uint8)


def to_ycbcr(rgb, half_chroma):
    """JPEG's full-range YCbCr, chroma averaged over pairs of columns or not: planar Y, Cb, Cr as opj_compress reads raw."""
    r, g, b = (rgb[:, :, c].astype(numpy.float64) for c in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    pairs = (lambda plane: (plane[:, 0::2] + plane[:, 1::2]) / 2) if half_chroma else (lambda plane: plane)
    planes = [y, pairs(cb), pairs(cr)]
    return b"".join(numpy.clip(numpy.rint(p), 0, 255).astype(numpy.uint8).tobytes() for p in planes)


def encode_tile(tile, compression, chroma, scratch):
    raw = os.path.join(scratch, "tile.raw")
    j2k = os.path.join(scratch, "tile.j2k")
    if compression == 33003:
        with open(raw, "wb") as f:
            f.write(to_ycbcr(tile, chroma == "422"))
        layout = f"{TILE},{TILE},3,8,u@1x1:2x1:2x1" if chroma == "422" else f"{TILE},{TILE},3,8,u"
        options = ["-mct", "0"]
    else:
        with open(raw, "wb") as f:
            f.write(numpy.ascontiguousarray(tile.transpose(2, 0, 1)).tobytes())
        layout = f"{TILE},{TILE},3,8,u"
        options = ["-mct", "1"]
    subprocess.run(["/usr/bin/opj_compress", "-i", raw, "-o", j2k, "-F", layout, "-I", "-r", "20", *options],
                   check=True, stdout=subprocess.DEVNULL)
    with open(j2k, "rb") as f:
        return f.read()


def encoded_already(*args, **kwargs):
    raise RuntimeError("tiles are passed encoded")


def tiles(rgb, compression, chroma, scratch):
    height, width = rgb.shape[:2]
    for top in range(0, height, TILE):
        for left in range(0, width, TILE):
            # Edge tiles are whole 256 x 256 codestreams, padded (as Aperio's are); readers crop them.
            tile = numpy.full((TILE, TILE, 3), 255, numpy.uint8)
            part = rgb[top:top + TILE, left:left + TILE]
            tile[: part.shape[0], : part.shape[1]] = part
            yield encode_tile(tile, compression, chroma, scratch)


def aperio_jp2k(src, out, compression, chroma="422"):
    # The tiles come encoded; tifffile still looks up an encoder for the tag, which Debian's build (no imagecodecs)
    # lacks for JPEG 2000: name one that is never called.
    tifffile.TIFF.COMPRESSORS._codecs.setdefault(compression, encoded_already)
    level0 = source_window(src)
    level1 = halve(level0)
    height, width = level0.shape[:2]
    with tempfile.TemporaryDirectory() as scratch, tifffile.TiffWriter(out) as tif:
        for index, rgb in enumerate([level0, level1]):
            size = f"{width}x{height} ({TILE}x{TILE})"
            if index:
                size += f" -> {rgb.shape[1]}x{rgb.shape[0]}"
            description = f"Aperio Image Library vTest\n{size} J2K/KDU Q=70|AppMag = 20|MPP = 0.4990"
            tif.write(tiles(rgb, compression, chroma, scratch), shape=rgb.shape, dtype=numpy.uint8, tile=(TILE, TILE),
                      compression=compression, photometric="rgb", description=description, metadata=None)


def tiled_tiff(src, out):
    tifffile.imwrite(out, source_window(src), tile=(TILE, TILE), photometric="rgb", metadata=None)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "region":
        region(args[0], *map(int, args[1:6]), args[6])
    elif command == "aperio-jp2k":
        aperio_jp2k(args[0], args[1], int(args[2]), *args[3:4])
    elif command == "tiled-tiff":
        tiled_tiff(args[0], args[1])
    else:
        sys.exit(f"unknown command {command}")
