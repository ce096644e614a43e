#!/usr/bin/env bash
# Regenerates crates/ipguard-pdq/tests/fixtures with the reference PDQ bindings.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$("$here/setup_venv.sh")"
"$python" "$here/make_fixtures.py"
