#!/usr/bin/env bash
# How far ipguard's JPEG hashes are from the reference's on Pillow's pixels,
# by PDQ quality band (the luma-plane shortcut and its full-decode fallback).
# Usage: bench/images/jpeg_fidelity.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="$("$root/scripts/pdq/setup_venv.sh")"
target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --quiet --release -p ipguard-pdq --example pdq_hash)
"$python" "$here/jpeg_fidelity.py" "$target/release/examples/pdq_hash"
