#!/usr/bin/env bash
# Creates scripts/pdq/.venv with the reference PDQ bindings (pdqhash), Pillow
# and numpy. The venv is only for generating fixtures and for comparison
# benchmarks; the product never runs Python.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install --quiet --disable-pip-version-check \
  "pdqhash==0.2.8" "pillow>=10" "numpy>=1.26"
echo "$here/.venv/bin/python"
