#!/usr/bin/env bash
# PDQ robustness: match rate of edited copies and false-match rate.
# Usage: bench/images/robustness.sh [FOLDER] [--distance 31] [--generate 40]
exec "$(dirname "${BASH_SOURCE[0]}")/run_pdq_example.sh" pdq_hash robustness.py "$@"
