#!/usr/bin/env python3
"""PDQ hashing throughput: ipguard-pdq against the reference `pdqhash`
(Meta's C++ core) on the same images, in the same run.

Run through hash_bench.sh. Prints images/s hashed from decoded pixels at
1000x750 and 1024x768 (a power-of-two width, where the reference's column
pass slows down) and from JPEG files, on one core and on all cores, and the
JPEG decode-only rate against decode-and-hash.
"""

import io
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pdqhash
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "pdq"))
from make_fixtures import photo, shapes, text  # noqa: E402  (shared generators)

SIZES = [(1000, 750), (1024, 768)]
IMAGES_PER_SIZE = 6
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
CORES = os.cpu_count() or 1

_pixels = []  # set before forking workers


def _hash_index(i):
    pdqhash.compute(_pixels[i % len(_pixels)])


def reference_rate(pixels, processes):
    """Images per second of pdqhash.compute over decoded pixels."""
    global _pixels
    _pixels = pixels
    if processes == 1:
        start, done = time.perf_counter(), 0
        while time.perf_counter() - start < SECONDS:
            for p in pixels:
                pdqhash.compute(p)
            done += len(pixels)
        return done / (time.perf_counter() - start)
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        batch = len(pixels) * processes * 2
        pool.map(_hash_index, range(batch))
        start, done = time.perf_counter(), 0
        while time.perf_counter() - start < SECONDS:
            pool.map(_hash_index, range(batch))
            done += batch
        return done / (time.perf_counter() - start)


def reference_fastest_ms(pixels):
    """The fastest single pdqhash.compute, in ms: the figure other load on
    the machine disturbs least."""
    best = float("inf")
    for _ in range(20):
        for p in pixels:
            start = time.perf_counter()
            pdqhash.compute(p)
            best = min(best, time.perf_counter() - start)
    return best * 1000


def reference_jpeg_rates(files):
    blobs_ = [open(f, "rb").read() for f in files]

    def decode(b):
        return np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))

    def rate(work):
        start, done = time.perf_counter(), 0
        while time.perf_counter() - start < SECONDS:
            for b in blobs_:
                work(b)
            done += len(blobs_)
        return done / (time.perf_counter() - start)

    return rate(decode), rate(lambda b: pdqhash.compute(decode(b)))


def ours(binary, mode, threads, files):
    out = subprocess.run(
        [binary, mode, str(threads), str(SECONDS), *files],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def make_images(directory):
    rng = np.random.default_rng(7)
    made = {}
    for w, h in SIZES:
        pngs, jpegs = [], []
        for k in range(IMAGES_PER_SIZE):
            img = [photo, shapes, text][k % 3](w, h, rng)
            png = os.path.join(directory, f"{w}x{h}-{k}.png")
            jpg = os.path.join(directory, f"{w}x{h}-{k}.jpg")
            img.save(png)
            img.save(jpg, quality=90)
            pngs.append(png)
            jpegs.append(jpg)
        made[(w, h)] = (pngs, jpegs)
    return made


def main():
    binary = sys.argv[1]
    print(f"machine: {CORES} cores; {IMAGES_PER_SIZE} images per size; ~{SECONDS:.0f} s per figure")
    with tempfile.TemporaryDirectory() as directory:
        made = make_images(directory)
        rows = []
        fastest = []
        for (w, h), (pngs, jpegs) in made.items():
            pixels = [np.ascontiguousarray(np.asarray(Image.open(p).convert("RGB"))) for p in pngs]
            ref_ms = reference_fastest_ms(pixels)
            mine_ms = ours(binary, "pixels", 1, pngs)["fastest_ms"]
            fastest.append(f"pixels {w}x{h}: pdqhash {ref_ms:.2f} ms, ipguard {mine_ms:.2f} ms ({ref_ms / mine_ms:.1f}x)")
            for threads in (1, CORES):
                ref = reference_rate(pixels, threads)
                mine = ours(binary, "pixels", threads, pngs)["images_per_second"]
                rows.append((f"pixels {w}x{h}", threads, ref, mine))
            ref_decode, ref_hash = reference_jpeg_rates(jpegs)
            for threads in (1, CORES):
                j = ours(binary, "jpeg", threads, jpegs)
                if threads == 1:
                    fastest.append(
                        f"JPEG {w}x{h}: ipguard decode only {j['fastest_decode_ms']:.2f} ms, "
                        f"decode+hash {j['fastest_decode_and_hash_ms']:.2f} ms "
                        f"({j['fastest_decode_and_hash_ms'] / j['fastest_decode_ms']:.2f}x the decode time); "
                        f"per image: {' '.join(f'{r:.2f}x' for r in j['per_file_ratio'])}"
                    )
                    rows.append((f"JPEG {w}x{h} decode+hash", 1, ref_hash, j["decode_and_hash_per_second"]))
                    print(
                        f"JPEG {w}x{h}, 1 core: ipguard decode only {j['decode_per_second']:.1f}/s, "
                        f"decode+hash {j['decode_and_hash_per_second']:.1f}/s, "
                        f"ratio {j['decode_per_second'] / j['decode_and_hash_per_second']:.2f}x the decode time; "
                        f"Pillow decode only {ref_decode:.1f}/s"
                    )
                else:
                    rows.append((f"JPEG {w}x{h} decode+hash", threads, None, j["decode_and_hash_per_second"]))
        print()
        print(f"{'what':28} {'cores':>5} {'pdqhash img/s':>14} {'ipguard img/s':>14} {'speed-up':>9}")
        for what, threads, ref, mine in rows:
            ref_text = f"{ref:14.1f}" if ref else f"{'-':>14}"
            ratio = f"{mine / ref:8.1f}x" if ref else f"{'-':>9}"
            print(f"{what:28} {threads:5d} {ref_text} {mine:14.1f} {ratio}")
        print()
        print("fastest single image, one core (least disturbed by other load):")
        for line in fastest:
            print("  " + line)


if __name__ == "__main__":
    main()
