#!/usr/bin/env bash
# Shared by the image scripts here: builds an ipguard-pdq example (release)
# and runs one of this folder's Python scripts in the venv that has the
# reference bindings, with the example's path and the remaining arguments.
# Usage: bench/images/run_pdq_example.sh EXAMPLE SCRIPT.py [ARGS...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
example=$1
script=$2
shift 2
python="$("$root/scripts/pdq/setup_venv.sh")"
target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --quiet --release -p ipguard-pdq --example "$example")
"$python" "$here/$script" "$target/release/examples/$example" "$@"
