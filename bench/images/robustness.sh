#!/usr/bin/env bash
# PDQ robustness: match rate of edited copies and false-match rate.
# Usage: bench/images/robustness.sh [FOLDER] [--distance 31] [--generate 40]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="$("$root/scripts/pdq/setup_venv.sh")"
target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --quiet --release -p ipguard-pdq --example pdq_hash)
"$python" "$here/robustness.py" "$target/release/examples/pdq_hash" "$@"
