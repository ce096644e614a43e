#!/usr/bin/env python3
"""Generate PDQ conformance fixtures with the reference implementation.

Run through `scripts/pdq/make_fixtures.sh`, which sets up the venv. Writes
synthetic test images (no downloads) of many sizes, formats and colour types
to crates/ipguard-pdq/tests/fixtures/images/ and, for each, the hash, quality
and eight dihedral hashes that the `pdqhash` bindings (Meta's C++ PDQ core)
compute from the pixels Pillow's `convert("RGB")` gives, to
crates/ipguard-pdq/tests/fixtures/expected.json.
"""

import io
import json
import os
import sys

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "crates", "ipguard-pdq", "tests", "fixtures")
IMAGES = os.path.join(FIXTURES, "images")

# Formats whose decoded pixels are fully specified by the file, so our decoder
# must give the same pixels as Pillow and the hash must be identical.
LOSSLESS = {"png", "gif", "webp-lossless"}


def hex_from_bits(bits):
    """The reference's hex format: bit 255 first, as pdqhash's vector is."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def gradient(w, h, rng):
    x = np.linspace(0, 255, w)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h)[:, None].repeat(w, 1)
    rgb = np.stack([x, y, (x + y) / 2], axis=2)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def noise(w, h, rng):
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def blobs(w, h, rng):
    """Smooth, photo-like luminance fields: a sum of random Gaussians."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((h, w, 3))
    for _ in range(6):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        s = rng.uniform(0.1, 0.4) * max(w, h)
        g = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s))
        out += g[:, :, None] * rng.uniform(-120, 160, 3)[None, None, :]
    out += 90 + rng.normal(0, 4, out.shape)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "RGB")


def shapes(w, h, rng):
    img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, x1 = sorted(rng.integers(0, w, 2))
        y0, y1 = sorted(rng.integers(0, h, 2))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        elif kind == 1:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.line([x0, y0, x1, y1], fill=colour, width=max(1, w // 60))
    return img


def photo(w, h, rng):
    """Photo-like: smooth shading with objects and sensor-like noise, so it
    has the gradient energy (PDQ quality well above 50) of a real photo."""
    base = np.asarray(blobs(w, h, rng), dtype=np.float64)
    objects = np.asarray(shapes(w, h, rng), dtype=np.float64)
    mixed = 0.55 * base + 0.45 * objects + rng.normal(0, 6, base.shape)
    return Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8), "RGB")


def text(w, h, rng):
    img = Image.new("RGB", (w, h), (250, 248, 240))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    words = ["GENUINE", "Original", "brand", "SALE 50%", "ipguard", "PDQ", "authentic"]
    y = 2
    while y < h:
        line = " ".join(words[int(i)] for i in rng.integers(0, len(words), 4))
        draw.text((2, y), line, fill=tuple(int(v) for v in rng.integers(0, 120, 3)), font=font)
        y += 12
    return img


def checker(w, h, rng):
    yy, xx = np.mgrid[0:h, 0:w]
    board = (((xx // 8) + (yy // 8)) % 2 * 200 + 30).astype(np.uint8)
    return Image.fromarray(np.stack([board, board[::-1], 255 - board], axis=2), "RGB")


def flat(w, h, rng):
    return Image.new("RGB", (w, h), (128, 64, 200))


CONTENT = {
    "gradient": gradient,
    "noise": noise,
    "blobs": blobs,
    "shapes": shapes,
    "text": text,
    "checker": checker,
    "flat": flat,
    "photo": photo,
}


def with_alpha(img, rng):
    """RGBA whose alpha varies, with some fully transparent pixels, so that a
    decoder that composites instead of dropping alpha gets different pixels."""
    w, h = img.size
    alpha = np.tile(np.linspace(0, 255, w).astype(np.uint8), (h, 1))
    alpha[: h // 4, : w // 4] = 0
    rgba = img.convert("RGBA")
    rgba.putalpha(Image.fromarray(alpha, "L"))
    return rgba


def save(img, name, fmt, **kw):
    path = os.path.join(IMAGES, name)
    img.save(path, fmt, **kw)
    return name


def make_images(rng):
    """Yield (file name, kind) for every fixture image written."""
    cases = [
        # (content, width, height)
        ("gradient", 5, 5),
        ("noise", 5, 7),
        ("noise", 4, 9),  # under the reference's 5-pixel minimum: zero hash
        ("noise", 13, 7),
        ("shapes", 31, 17),
        ("noise", 64, 64),  # the reference's 64x64 fast path
        ("blobs", 63, 65),
        ("blobs", 127, 129),
        ("checker", 128, 128),
        ("text", 200, 133),
        ("shapes", 257, 255),
        ("blobs", 256, 192),
        ("gradient", 512, 384),
        ("shapes", 333, 777),
        ("blobs", 1024, 40),
        ("text", 640, 480),
        ("flat", 96, 80),
        ("shapes", 1000, 750),
        ("text", 1024, 768),
    ]
    for content, w, h in cases:
        img = CONTENT[content](w, h, rng)
        base = f"{content}-{w}x{h}"
        yield save(img, f"{base}-rgb.png", "PNG"), "png"

    # Colour types, lossless.
    img = shapes(301, 203, rng)
    yield save(with_alpha(img, rng), "shapes-301x203-rgba.png", "PNG"), "png"
    yield save(img.convert("L"), "shapes-301x203-gray.png", "PNG"), "png"
    yield save(with_alpha(img, rng).convert("LA"), "shapes-301x203-gray-alpha.png", "PNG"), "png"
    yield save(img.convert("1"), "shapes-301x203-bilevel.png", "PNG"), "png"
    yield save(img.convert("P", palette=Image.Palette.ADAPTIVE, colors=37), "shapes-301x203-palette.png", "PNG"), "png"
    pal = blobs(190, 210, rng).convert("P", palette=Image.Palette.ADAPTIVE, colors=200)
    yield save(pal, "blobs-190x210-palette-transparent.png", "PNG", transparency=3), "png"
    yield save(blobs(256, 256, rng), "blobs-256x256-rgb.gif", "GIF"), "gif"
    yield save(text(150, 90, rng), "text-150x90-rgb.gif", "GIF"), "gif"
    yield save(pal, "blobs-190x210-transparent.gif", "GIF", transparency=3), "gif"
    yield save(shapes(77, 9, rng).convert("L"), "shapes-77x9-gray.gif", "GIF"), "gif"
    yield save(blobs(240, 180, rng), "blobs-240x180-lossless.webp", "WEBP", lossless=True), "webp-lossless"
    yield save(with_alpha(shapes(160, 120, rng), rng), "shapes-160x120-rgba-lossless.webp", "WEBP", lossless=True, exact=True), "webp-lossless"
    # A PNG file with a .jpg name: the format must come from the content.
    yield save(checker(90, 60, rng), "checker-90x60-png-content.jpg", "PNG"), "png"

    # Lossy formats: decoders may round differently, so only closeness counts.
    smooth = blobs(600, 450, rng)
    yield save(smooth, "blobs-600x450-q90.jpg", "JPEG", quality=90), "jpeg"
    yield save(photo(480, 360, rng), "photo-480x360-q90.jpg", "JPEG", quality=90), "jpeg"
    yield save(photo(512, 384, rng), "photo-512x384-q75.jpg", "JPEG", quality=75), "jpeg"
    yield save(photo(333, 500, rng), "photo-333x500-progressive.jpg", "JPEG", quality=85, progressive=True), "jpeg"
    yield save(shapes(1024, 768, rng), "shapes-1024x768-q85.jpg", "JPEG", quality=85), "jpeg"
    yield save(text(321, 241, rng), "text-321x241-444.jpg", "JPEG", quality=95, subsampling=0), "jpeg"
    yield save(smooth.resize((400, 300)), "blobs-400x300-progressive.jpg", "JPEG", quality=80, progressive=True), "jpeg"
    yield save(smooth.convert("L").resize((333, 250)), "blobs-333x250-gray.jpg", "JPEG", quality=90), "jpeg"
    yield save(smooth.convert("CMYK").resize((300, 200)), "blobs-300x200-cmyk.jpg", "JPEG", quality=90), "jpeg"
    yield save(photo(300, 200, rng).convert("CMYK"), "photo-300x200-cmyk.jpg", "JPEG", quality=90), "jpeg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90": Pillow's open() ignores it, and so must we.
    yield save(shapes(200, 120, rng), "shapes-200x120-exif-rotated.jpg", "JPEG", quality=90, exif=exif), "jpeg"
    yield save(blobs(300, 220, rng), "blobs-300x220-lossy.webp", "WEBP", quality=85), "jpeg"

    # 16-bit gray PNG: Pillow opens it as "I;16" and its RGB conversion clips
    # values to 255 rather than scaling them, which is what users hash.
    ramp = np.asarray(blobs(150, 110, rng).convert("L"), dtype=np.uint16) * 2
    yield save(Image.fromarray(ramp), "blobs-150x110-gray16.png", "PNG"), "png"


def main():
    os.makedirs(IMAGES, exist_ok=True)
    for old in os.listdir(IMAGES):
        os.remove(os.path.join(IMAGES, old))
    rng = np.random.default_rng(20261123)
    entries = []
    for name, kind in list(make_images(rng)):
        with Image.open(os.path.join(IMAGES, name)) as img:
            mode = img.mode
            rgb = np.ascontiguousarray(np.asarray(img.convert("RGB")))
        pillow_pixels = None
        if kind not in LOSSLESS:
            # Pillow's decoded pixels, stored losslessly, so that the test can
            # check the hasher exactly even where our JPEG decoder differs.
            pillow_pixels = f"{name}.pillow-rgb.png"
            Image.fromarray(rgb, "RGB").save(os.path.join(IMAGES, pillow_pixels), "PNG")
        bits, quality = pdqhash.compute(rgb)
        dihedral, dihedral_quality = pdqhash.compute_dihedral(rgb)
        entries.append(
            {
                "file": name,
                "exact": kind in LOSSLESS,
                "pillow_mode": mode,
                "pillow_pixels": pillow_pixels,
                "width": rgb.shape[1],
                "height": rgb.shape[0],
                "hash": hex_from_bits(bits),
                "quality": int(quality),
                "dihedral_quality": int(dihedral_quality),
                "dihedral": [hex_from_bits(b) for b in dihedral],
            }
        )
    with open(os.path.join(FIXTURES, "expected.json"), "w") as out:
        json.dump(
            {
                "generator": "scripts/pdq/make_fixtures.py",
                "reference": f"pdqhash {pdqhash.__version__ if hasattr(pdqhash, '__version__') else '0.2.8'}",
                "dihedral_order": ["original", "rotate90", "rotate180", "rotate270", "flip_x", "flip_y", "flip_plus1", "flip_minus1"],
                "images": entries,
            },
            out,
            indent=1,
        )
        out.write("\n")
    total = sum(os.path.getsize(os.path.join(IMAGES, f)) for f in os.listdir(IMAGES))
    print(f"{len(entries)} fixtures, {total / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
