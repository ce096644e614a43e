#!/usr/bin/env python3
"""Builds common_words.txt, the list of ordinary lowercase English words.

The detector uses it for precision: a fuzzy (one-edit) match is rejected when
the text it matched is itself an ordinary word ("couch" is not "Coach"), a
brand found glued inside a longer token is rejected when that token is an
ordinary word ("applesauce"), and a brand term that is itself an ordinary word
("apple", "coach") needs context before it counts.

Source: the Debian package `wamerican` (SCOWL size 50, public domain-style
licence), installed with `apt-get install wamerican`. Only all-lowercase
alphabetic entries of three letters or more are kept, which leaves out proper
nouns such as "Nike" (the goddess) that the dictionary also lists.
"""
import re
import sys
from pathlib import Path

SOURCE = Path("/usr/share/dict/american-english")
TARGET = Path(__file__).with_name("common_words.txt")


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE} is missing: apt-get install wamerican", file=sys.stderr)
        return 1
    words = {
        line.strip()
        for line in SOURCE.read_text(encoding="utf-8").splitlines()
        if re.fullmatch(r"[a-z]{3,}", line.strip())
    }
    TARGET.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
