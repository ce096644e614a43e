#!/usr/bin/env bash
# Scan benchmark for the detection engine (issue 3).
#
# Generates a 20,000-brand catalog (~60,000 terms) and 1,000,000 listings
# (bench/scan/data, git-ignored), then runs the whole pipeline (JSON in,
# normalise, match, categories, price, score, JSON out) single-threaded and on
# all cores, printing listings/s, MB/s and peak memory, and compares the
# normaliser + matcher on the titles alone with pyahocorasick (exact matching,
# one call per title) on the same titles.
#
# usage: bench/scan/run.sh [LISTINGS]   (default 1000000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
listings=${1:-1000000}
data=$here/data

if [ ! -f "$data/listings.jsonl" ] || [ "$(wc -l < "$data/listings.jsonl")" -ne "$listings" ]; then
    python3 "$here/gen.py" "$data" --listings "$listings"
fi
if [ ! -x "$here/.venv/bin/python" ]; then
    python3 -m venv "$here/.venv"
fi
if ! "$here/.venv/bin/python" -c 'import ahocorasick' 2>/dev/null; then
    "$here/.venv/bin/pip" install --quiet pyahocorasick==2.3.1
fi

(cd "$root" && cargo build --release --quiet -p ipguard-detect --example scan_bench)
bin=${CARGO_TARGET_DIR:-$root/target}/release/examples/scan_bench

echo "== machine"
echo "cores=$(nproc)"
lscpu | grep -E '^Model name' | sed 's/  */ /g'
echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
echo "== full pipeline, 1 thread"
"$bin" "$data/catalog.json" "$data/listings.jsonl" --threads 1 | tee "$data/one.txt"
echo "== full pipeline, all cores"
"$bin" "$data/catalog.json" "$data/listings.jsonl" --threads "$(nproc)" | tee "$data/all.txt"
echo "== normaliser + matcher on titles, 1 thread"
"$bin" "$data/catalog.json" "$data/listings.jsonl" --titles "$data/titles.txt" | tee "$data/titles-ours.txt"
echo "== pyahocorasick on the same titles, 1 thread"
"$here/.venv/bin/python" "$here/pyac.py" "$data/catalog.json" "$data/titles.txt" | tee "$data/titles-pyac.txt"

value() { grep -E "^$2=" "$1" | head -1 | cut -d= -f2; }
ours=$(value "$data/titles-ours.txt" titles_per_second)
theirs=$(value "$data/titles-pyac.txt" pyac_titles_per_second)
ours_cpu=$(value "$data/titles-ours.txt" titles_per_cpu_second)
theirs_cpu=$(value "$data/titles-pyac.txt" pyac_titles_per_cpu_second)
one=$(value "$data/one.txt" listings_per_second)
all=$(value "$data/all.txt" listings_per_second)
echo "== summary"
echo "titles_ratio_vs_pyahocorasick=$(python3 -c "print(round($ours / $theirs, 2))")"
echo "titles_ratio_vs_pyahocorasick_cpu_time=$(python3 -c "print(round($ours_cpu / $theirs_cpu, 2))")"
echo "scaling_all_cores_vs_one=$(python3 -c "print(round($all / $one, 2))")"
