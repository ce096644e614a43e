#!/usr/bin/env bash
# How far ipguard's JPEG hashes are from the reference's on Pillow's pixels,
# by PDQ quality band (the luma-plane shortcut and its full-decode fallback).
# Usage: bench/images/jpeg_fidelity.sh
exec "$(dirname "${BASH_SOURCE[0]}")/run_pdq_example.sh" pdq_hash jpeg_fidelity.py "$@"
