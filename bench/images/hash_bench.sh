#!/usr/bin/env bash
# PDQ hashing benchmark: ipguard-pdq against the reference pdqhash bindings.
# Usage: bench/images/hash_bench.sh   (BENCH_SECONDS=3 per figure by default)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="$("$root/scripts/pdq/setup_venv.sh")"
target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --quiet --release -p ipguard-pdq --example pdq_bench)
"$python" "$here/hash_bench.py" "$target/release/examples/pdq_bench"
