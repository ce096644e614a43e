#!/usr/bin/env python3
"""How robust is PDQ matching to the edits counterfeit sellers make?

Run through robustness.sh. Takes a folder of images (or generates a set when
none is given), applies resize, recompression, crop, small rotation, flip,
brightness change and overlaid text to each, hashes everything with
ipguard-pdq (the crate's pdq_hash example), and reports per edit the share of
edited copies still matched to their original within the distance (31 by
default), plus the false-match rate between unrelated images.

A copy matches when its hash is within the distance of any of the original's
eight dihedral hashes, as the service matches: that is how mirrored and
rotated copies are found. The plain-hash rate (original hash only) is shown
beside it.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "pdq"))
from make_fixtures import photo, shapes, text  # noqa: E402  (shared generators)

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif")


def crop(img, fraction):
    w, h = img.size
    dx, dy = int(w * fraction / 2), int(h * fraction / 2)
    return img.crop((dx, dy, w - dx, h - dy))


def overlay_text(img):
    out = img.copy()
    draw = ImageDraw.Draw(out)
    w, h = out.size
    try:
        font = ImageFont.load_default(size=max(12, h // 12))
    except TypeError:  # Pillow < 10.1 has no sized default font
        font = ImageFont.load_default()
    draw.text((w // 20, h // 2), "SALE -50% www.shop.example", fill=(255, 0, 0), font=font)
    draw.text((w // 20, h // 10), "ORIGINAL QUALITY", fill=(255, 255, 255), font=font)
    return out


# (name, edit, saved as JPEG of this quality or None for PNG)
EDITS = [
    ("resize 50%", lambda im: im.resize((im.width // 2, im.height // 2), Image.LANCZOS), None),
    ("resize to 800 wide", lambda im: im.resize((800, max(1, im.height * 800 // im.width)), Image.BICUBIC), None),
    ("recompress JPEG q50", lambda im: im, 50),
    ("recompress JPEG q25", lambda im: im, 25),
    ("crop 5%", lambda im: crop(im, 0.05), None),
    ("crop 10%", lambda im: crop(im, 0.10), None),
    ("rotate 2 degrees", lambda im: im.rotate(2, resample=Image.BICUBIC, fillcolor=(255, 255, 255)), None),
    ("rotate 5 degrees", lambda im: im.rotate(5, resample=Image.BICUBIC, fillcolor=(255, 255, 255)), None),
    ("mirror left-right", ImageOps.mirror, None),
    ("flip top-bottom", ImageOps.flip, None),
    ("rotate 90 degrees", lambda im: im.transpose(Image.ROTATE_90), None),
    ("brightness +20%", lambda im: ImageEnhance.Brightness(im).enhance(1.2), None),
    ("brightness -20%", lambda im: ImageEnhance.Brightness(im).enhance(0.8), None),
    ("overlaid text", overlay_text, None),
    ("crop 5% + resize 50% + JPEG q70", lambda im: crop(im, 0.05).resize((im.width // 2, im.height // 2)), 70),
]


def generate(directory, count):
    rng = np.random.default_rng(11)
    paths = []
    for k in range(count):
        w, h = int(rng.integers(480, 900)), int(rng.integers(360, 700))
        img = [photo, photo, shapes, text][k % 4](w, h, rng)
        path = os.path.join(directory, f"generated-{k:03d}.png")
        img.save(path)
        paths.append(path)
    return paths


def hash_files(binary, files, dihedral):
    args = [binary] + (["--dihedral"] if dihedral else []) + files
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result = {}
    for line in out.splitlines():
        fields = line.split("\t")
        if fields[1] == "error":
            print(f"skipped {fields[0]}: {fields[2]}", file=sys.stderr)
            continue
        result[fields[0]] = (int(fields[1]), [int(h, 16) for h in fields[2:]])
    return result


def distance(a, b):
    return bin(a ^ b).count("1")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary", help="path to the pdq_hash example binary")
    parser.add_argument("folder", nargs="?", help="images to test (default: generate a set)")
    parser.add_argument("--distance", type=int, default=31)
    parser.add_argument("--generate", type=int, default=40, help="images to generate without a folder")
    parser.add_argument("--min-quality", type=int, default=0, help="ignore originals below this quality")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        if args.folder:
            originals = sorted(
                os.path.join(args.folder, f)
                for f in os.listdir(args.folder)
                if f.lower().endswith(EXTENSIONS)
            )
        else:
            originals = generate(work, args.generate)
        variants = {}  # (original, edit name) -> path
        for index, path in enumerate(originals):
            with Image.open(path) as opened:
                img = opened.convert("RGB")
            for number, (name, edit, jpeg_quality) in enumerate(EDITS):
                out = os.path.join(work, f"v{index:04d}-{number:02d}" + (".jpg" if jpeg_quality else ".png"))
                edited = edit(img)
                if jpeg_quality:
                    edited.save(out, quality=jpeg_quality)
                else:
                    edited.save(out)
                variants[(path, name)] = out

        reference = hash_files(args.binary, originals, dihedral=True)
        edited = hash_files(args.binary, list(variants.values()), dihedral=False)
        kept = [p for p in originals if p in reference and reference[p][0] >= args.min_quality]
        print(
            f"{len(kept)} originals ({len(originals) - len(kept)} skipped), {len(EDITS)} edits each, "
            f"match distance <= {args.distance}"
        )
        print()
        print(f"{'edit':34} {'matched':>8} {'plain hash':>11} {'median distance':>16}")
        for name, _, _ in EDITS:
            matched = plain = 0
            distances = []
            for path in kept:
                hashes = reference[path][1]
                variant = edited.get(variants[(path, name)])
                if variant is None:
                    continue
                query = variant[1][0]
                best = min(distance(h, query) for h in hashes)
                distances.append(best)
                matched += best <= args.distance
                plain += distance(hashes[0], query) <= args.distance
            n = max(1, len(distances))
            print(
                f"{name:34} {100 * matched / n:7.1f}% {100 * plain / n:10.1f}% {int(np.median(distances or [0])):16d}"
            )

        # Unrelated pairs: every edited copy against every other original.
        false_matches = pairs = 0
        for path in kept:
            for other in kept:
                if other == path:
                    continue
                hashes = reference[other][1]
                for name, _, _ in EDITS:
                    variant = edited.get(variants[(path, name)])
                    if variant is None:
                        continue
                    pairs += 1
                    false_matches += min(distance(h, variant[1][0]) for h in hashes) <= args.distance
        print()
        print(
            f"false matches between unrelated images: {false_matches} of {pairs} pairs "
            f"({100 * false_matches / max(1, pairs):.3f}%)"
        )


if __name__ == "__main__":
    main()
