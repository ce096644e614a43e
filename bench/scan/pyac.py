#!/usr/bin/env python3
"""Baseline for the scan benchmark: the catalog's terms through the
`pyahocorasick` package, exact matching only, one call per title.

usage: pyac.py CATALOG TITLES  (TITLES: one title a line, as written by
scan_bench --titles). Prints key=value lines like scan_bench.
"""
import json
import sys
import time

import ahocorasick


def main():
    catalog = json.load(open(sys.argv[1], encoding="utf-8"))
    titles = open(sys.argv[2], encoding="utf-8").read().split("\n")
    if titles and titles[-1] == "":
        titles.pop()
    automaton = ahocorasick.Automaton()
    for index, term in enumerate(t for b in catalog["brands"] for t in b["terms"]):
        automaton.add_word(term, index)
    automaton.make_automaton()

    started = time.perf_counter()
    cpu_started = time.process_time()
    matches = 0
    for title in titles:
        for _ in automaton.iter(title):
            matches += 1
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(f"pyahocorasick_version={getattr(ahocorasick, '__version__', 'unknown')}")
    print(f"pyac_titles={len(titles)} pyac_matches={matches}")
    print(f"pyac_seconds={seconds:.3f}")
    print(f"pyac_titles_per_second={len(titles) / seconds:.0f}")
    print(f"pyac_titles_per_cpu_second={len(titles) / cpu:.0f}")


if __name__ == "__main__":
    main()
