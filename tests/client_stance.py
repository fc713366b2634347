"""A reader of the stance a client message takes toward what was just said, for tests.

Written apart from the client's material and the observers' cues: it reads words a person
uses to take something well ("that's a relief", "I can work with that") or to push back
("that sounds risky", "you lost me"), sentence by sentence. A message that takes something
well and pushes back in two plain sentences, with no "but" between them, says two opposite
things in one breath.
"""

from __future__ import annotations

import re

from emosim.agents.scripted.text import split_sentences

WELL = re.compile(
    r"\b(?:relie(?:f|ved)|weight off|that helps|helps a lot|helped|helpful|makes sense|"
    r"(?:that's|it's|so much|a lot) clearer|i can (?:work|live) with (?:that|it)|doable|"
    r"reassuring|good to know|i feel (?:a lot |so much |a bit |a little )?(?:better|lighter|"
    r"steadier|calmer|good|okay about it)|less scary|(?:more |so )?manageable|i get it now|"
    r"that settles|good news|phew|thank goodness|can be done|hopeful|excited|nerve back|"
    r"starting to believe|less lost|melted away|i've got this|i'm (?:all )?in\b|i'm on it|"
    r"what a relief|great|glad)\b",
    re.IGNORECASE,
)
AGAINST = re.compile(
    r"\b(?:risky|gambl\w*|not (?:so |too |really |totally |quite )?(?:sure|convinced|sold)|"
    r"unsure|(?:doesn't|does not|don't) (?:quite )?sit right|(?:doesn't|didn't|does not) "
    r"(?:really )?answer|lost me|lectur\w*+(?! i was expecting)|rushed|easy (?:for you )?to say|brushes? past|"
    r"won't get me anywhere|exhausting|makes me (?:really )?(?:nervous|uneasy)|uneasy|"
    r"skeptical|doubts|not (?:really )?helping|feel(?:ing)? worse|more stressed|"
    r"not what i (?:needed|was looking for|asked)|not hearing|not for me|feels? (?:wrong|"
    r"wasteful|irresponsible|greedy)|too slow|the wrong direction)\b",
    re.IGNORECASE,
)
CONTRAST = re.compile(
    r"\b(?:but|still|though|although|even so|that said|yet|except|at the same time|"
    r"part of me|mind you|on the other hand|even if|whereas|usually|for once|used to|then again|all the same)\b",
    re.IGNORECASE,
)


def stances(text: str) -> list[tuple[str, str]]:
    """(stance, sentence) per sentence: 'well', 'against', 'both' (a "but" sentence) or ''
    (none, or a question)."""
    out = []
    for _, _, sentence in split_sentences(text):
        if sentence.endswith("?"):  # a question asks; it takes no stance
            out.append(("", sentence))
            continue
        well = WELL.search(sentence) is not None
        against = AGAINST.search(sentence) is not None
        out.append(
            (
                "both" if well and against else "well" if well else "against" if against else "",
                sentence,
            )
        )
    return out


def contradiction(text: str) -> tuple[str, str] | None:
    """Two sentences of one message that take opposite stances with no contrast between
    them (the later one does not say "but", "still", "though"...), or None."""
    seen: dict[str, str] = {}
    for stance, sentence in stances(text):
        if stance in {"well", "against"}:
            other = "against" if stance == "well" else "well"
            if other in seen and CONTRAST.search(sentence) is None:
                return seen[other], sentence
            seen.setdefault(stance, sentence)
    return None
