#!/usr/bin/env python3
"""Builds common_words.txt, the list of ordinary lowercase English words, and
names.txt, the capitalised entries (people, places, firms), lowercased.

The detector uses it for precision: a fuzzy (one-edit) match is rejected when
the text it matched is itself an ordinary word ("couch" is not "Coach"), a
brand found glued inside a longer token is rejected when that token is an
ordinary word ("applesauce"), and a brand term that is itself an ordinary word
("apple", "coach") needs context before it counts.

Source: the Debian package `wamerican` (SCOWL size 50, public domain-style
licence), installed with `apt-get install wamerican`. Only all-lowercase
alphabetic entries of three letters or more are kept, which leaves out proper
nouns such as "Nike" (the goddess) that the dictionary also lists. Those go
to names.txt, which is used only to reject one-edit matches ("Prado" is a
place and a car, not a misspelt "Prada").
"""
import re
import sys
from pathlib import Path

SOURCE = Path("/usr/share/dict/american-english")
TARGET = Path(__file__).with_name("common_words.txt")
NAMES = Path(__file__).with_name("names.txt")


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE} is missing: apt-get install wamerican", file=sys.stderr)
        return 1
    words = {
        line.strip()
        for line in SOURCE.read_text(encoding="utf-8").splitlines()
        if re.fullmatch(r"[a-z]{3,}", line.strip())
    }
    names = {
        line.strip().lower()
        for line in SOURCE.read_text(encoding="utf-8").splitlines()
        if re.fullmatch(r"[A-Z][a-z]{2,}", line.strip())
    } - words
    TARGET.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    NAMES.write_text("\n".join(sorted(names)) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {TARGET} and {len(names)} names to {NAMES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
