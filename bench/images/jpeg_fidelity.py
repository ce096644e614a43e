#!/usr/bin/env python3
"""Distance between ipguard's JPEG hashes and pdqhash's on Pillow's RGB.

Run through jpeg_fidelity.sh. Generates JPEGs whose PDQ quality spans 0 to
100 (photos, shapes and text at reduced contrast, and noisy shaded
patterns, at several JPEG qualities and chroma subsamplings), hashes them
with ipguard (`pdq_hash`, what `ipguard hash` does) and with the reference
on `Image.open(f).convert("RGB")`, and prints the largest and mean distance
per band of the reference's quality. ipguard hashes a YCbCr JPEG from its
luma plane unless that gives a quality under 30, and then from a full RGB
decode; the conformance tolerance for JPEG is 10 bits.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import pdqhash
from PIL import Image, ImageEnhance

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "pdq"))
from make_fixtures import photo, shapes, text  # noqa: E402  (shared generators)

SIZES = [(640, 480), (800, 600), (1000, 750), (500, 375), (1024, 768), (333, 500)]
BANDS = [(0, 10), (10, 20), (20, 30), (30, 50), (50, 101)]


def generated(directory):
    """Paths of the generated JPEGs."""
    rng = np.random.default_rng(11)
    paths = []
    for k in range(90):
        w, h = SIZES[k % len(SIZES)]
        img = [photo, shapes, text][k % 3](w, h, rng)
        img = ImageEnhance.Contrast(img).enhance([0.05, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5][k % 7])
        path = os.path.join(directory, f"content-{k}.jpg")
        img.save(path, quality=[50, 60, 75, 85, 95][k % 5], subsampling=[0, 2][k % 2])
        paths.append(path)
    for amplitude in [0.3, 0.6, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24]:
        for kind, (w, h) in enumerate([(640, 480), (800, 600), (1000, 750), (500, 375)]):
            y, x = np.mgrid[0:h, 0:w]
            base = 120 + amplitude * np.sin(x / (37 + kind * 11)) * np.cos(y / (29 + kind * 7)) * 4
            base += amplitude * ((x // (50 + kind * 10) + y // (40 + kind * 5)) % 2) * 3
            red = base + rng.normal(0, 1.0, (h, w)) * amplitude * 0.5
            green = base * 0.9 + 10 + rng.normal(0, 1.0, (h, w)) * amplitude * 0.5
            blue = base * 0.7 + 40 + amplitude * 2 * np.sin(x / 13.0)
            pixels = np.clip(np.stack([red, green, blue], -1), 0, 255).astype(np.uint8)
            path = os.path.join(directory, f"pattern-{amplitude}-{kind}.jpg")
            Image.fromarray(pixels).save(path, quality=[90, 75, 85, 60][kind])
            paths.append(path)
    return paths


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as directory:
        paths = generated(directory)
        out = subprocess.run([binary, *paths], check=True, capture_output=True, text=True).stdout
        ours = {}
        for line in out.splitlines():
            file, quality, digest = line.split("\t")
            ours[file] = int(digest, 16)
        distances = []
        for path in paths:
            bits, quality = pdqhash.compute(np.asarray(Image.open(path).convert("RGB")))
            reference = int(np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(), 16)
            distances.append((quality, bin(ours[path] ^ reference).count("1")))
    print(f"{len(distances)} generated JPEGs; distance to pdqhash on Pillow's RGB")
    print(f"{'PDQ quality':>12} {'images':>7} {'largest':>8} {'mean':>6}")
    for low, high in BANDS:
        band = [d for q, d in distances if low <= q < high]
        if band:
            label = f"{low}-{min(high, 100) - (0 if high > 100 else 1)}"
            print(f"{label:>12} {len(band):7d} {max(band):8d} {sum(band) / len(band):6.1f}")


if __name__ == "__main__":
    main()
