#!/usr/bin/env bash
# PDQ hashing benchmark: ipguard-pdq against the reference pdqhash bindings.
# Usage: bench/images/hash_bench.sh   (BENCH_SECONDS=3 per figure by default)
exec "$(dirname "${BASH_SOURCE[0]}")/run_pdq_example.sh" pdq_bench hash_bench.py "$@"
