#!/usr/bin/env python3
"""Hash-index benchmark: ipguard-hashindex against faiss's IndexBinaryFlat.

Writes random 256-bit hashes and queries to files both sides read, runs the
Rust index (crates/ipguard-hashindex/examples/index_bench.rs) and faiss's
brute-force binary index (range_search) on the same data and queries, checks
that the answers are identical, and prints build time, memory per hash and
queries/s for both.

Half of the queries are random; the other half are stored hashes with 0 to
radius + 2 bits flipped, so answers are non-empty and hashes sit exactly at
the radius and just beyond it.

    python3 bench/images/index_bench.py --sizes 1000000 10000000

The script creates bench/.venv with faiss-cpu and numpy on first use.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "bench" / ".venv"
VENV_PYTHON = VENV / "bin" / "python"


def ensure_venv():
    """Re-runs this script inside bench/.venv, creating it when missing."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not VENV_PYTHON.exists():
        venv.create(VENV, with_pip=True)
    check = subprocess.run([str(VENV_PYTHON), "-c", "import faiss, numpy"], capture_output=True)
    if check.returncode != 0:
        subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "-q", "faiss-cpu", "numpy"], check=True)
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])


def make_data(size, query_count, radius, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    db = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
    queries = rng.integers(0, 256, size=(query_count, 32), dtype=np.uint8)
    planted = np.arange(1, query_count, 2)
    sources = rng.integers(0, size, size=len(planted))
    for number, (row, source) in enumerate(zip(planted, sources)):
        flips = number % (radius + 3)
        bits = rng.choice(256, size=flips, replace=False)
        hash_bits = np.unpackbits(db[source])
        hash_bits[bits] ^= 1
        queries[row] = np.packbits(hash_bits)
    return db, queries


def build_rust_example():
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(ROOT / "target"))
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "ipguard-hashindex", "--example", "index_bench"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return Path(env["CARGO_TARGET_DIR"]) / "release" / "examples" / "index_bench"


def run_rust(binary, db_path, queries_path, radius, results_path, persist_path):
    command = [
        str(binary),
        "--db", str(db_path),
        "--queries", str(queries_path),
        "--radius", str(radius),
        "--results", str(results_path),
        "--persist", str(persist_path),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    report = json.loads(output)
    answers = []
    with open(results_path) as lines:
        for line in lines:
            pairs = [pair.split(":") for pair in line.split()]
            answers.append(sorted((int(distance), int(ident)) for ident, distance in pairs))
    return report, answers


def run_faiss(db, queries, radius, single_thread_queries):
    import faiss

    threads = faiss.omp_get_max_threads()
    started = time.perf_counter()
    index = faiss.IndexBinaryFlat(256)
    index.add(db)
    build_seconds = time.perf_counter() - started

    # faiss's binary range search returns distances strictly below the
    # radius it is given, so ask for radius + 1 to get "at most radius".
    started = time.perf_counter()
    lims, distances, ids = index.range_search(queries, radius + 1)
    all_threads_seconds = time.perf_counter() - started

    faiss.omp_set_num_threads(1)
    subset = queries[:single_thread_queries]
    started = time.perf_counter()
    index.range_search(subset, radius + 1)
    single_thread_seconds = time.perf_counter() - started
    faiss.omp_set_num_threads(threads)

    answers = [
        sorted(zip(distances[lims[q]:lims[q + 1]].tolist(), ids[lims[q]:lims[q + 1]].tolist()))
        for q in range(len(queries))
    ]
    report = {
        "build_seconds": build_seconds,
        "bytes_per_hash": index.code_size,
        "queries_per_second_1_thread": len(subset) / single_thread_seconds,
        "queries_per_second_all_threads": len(queries) / all_threads_seconds,
        "threads": threads,
    }
    return report, answers


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=None, help="queries per size (default: 10^10 / size, 500..10000)")
    parser.add_argument("--radius", type=int, default=31)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ipguard-index-bench"))
    args = parser.parse_args()

    ensure_venv()
    args.workdir.mkdir(parents=True, exist_ok=True)
    binary = build_rust_example()
    all_identical = True
    for size in args.sizes:
        query_count = args.queries or max(500, min(10_000, 10_000_000_000 // size))
        db, queries = make_data(size, query_count, args.radius, args.seed + size)
        db_path = args.workdir / f"db-{size}.bin"
        queries_path = args.workdir / f"queries-{size}.bin"
        db.tofile(db_path)
        queries.tofile(queries_path)

        rust, rust_answers = run_rust(
            binary, db_path, queries_path, args.radius,
            args.workdir / f"results-{size}.txt", args.workdir / f"index-{size}.ipgh",
        )
        faiss_report, faiss_answers = run_faiss(db, queries, args.radius, min(query_count, 500))
        identical = rust_answers == faiss_answers
        all_identical &= identical
        differing = sum(1 for ours, theirs in zip(rust_answers, faiss_answers) if ours != theirs)
        matches = sum(len(answer) for answer in faiss_answers)
        at_radius = sum(1 for answer in faiss_answers for distance, _ in answer if distance == args.radius)

        print(f"## {size:,} hashes, {query_count:,} queries, radius {args.radius}")
        print(f"answers identical: {identical} ({differing} queries differ; {matches} matches, {at_radius} at exactly the radius)")
        print("| | build s | bytes/hash | q/s 1 thread | q/s all threads |")
        print("|---|---|---|---|---|")
        print(
            f"| ipguard-hashindex | {rust['build_seconds']:.2f} | {rust['heap_bytes_per_hash']:.1f} heap, "
            f"{rust['resident_bytes_per_hash']:.1f} RSS | {rust['queries_per_second_1_thread']:,.0f} | "
            f"{rust['queries_per_second_all_threads']:,.0f} |"
        )
        print(
            f"| faiss IndexBinaryFlat | {faiss_report['build_seconds']:.2f} | {faiss_report['bytes_per_hash']} | "
            f"{faiss_report['queries_per_second_1_thread']:,.0f} | {faiss_report['queries_per_second_all_threads']:,.0f} |"
        )
        speedup_1 = rust["queries_per_second_1_thread"] / faiss_report["queries_per_second_1_thread"]
        speedup_all = rust["queries_per_second_all_threads"] / faiss_report["queries_per_second_all_threads"]
        print(f"speed-up over faiss: {speedup_1:.0f}x single thread, {speedup_all:.0f}x all threads")
        print(
            f"persistence: save {rust['save_seconds']:.2f} s, load (read + rebuild tables) {rust['load_seconds']:.2f} s, "
            f"file {rust['file_bytes'] / size:.1f} bytes/hash"
        )
        print(json.dumps({"size": size, "ipguard": rust, "faiss": faiss_report, "identical": identical}))
        print(flush=True)
        for path in (db_path, queries_path, args.workdir / f"index-{size}.ipgh"):
            path.unlink(missing_ok=True)
        del db, queries
    sys.exit(0 if all_identical else 1)


if __name__ == "__main__":
    main()
