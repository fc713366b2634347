"""The observers' one-pass cue matcher finds exactly what `text.Lexicon.find` finds, and their
shortcuts (merged marker pass, negation hint, per-sentence caches) change no reading."""

from __future__ import annotations

import random
import re

import pytest

from emosim.agents.backends import scripted_template_paths
from emosim.agents.messages import EmotionObserverInput
from emosim.agents.scripted import text
from emosim.agents.scripted.cues import Cues, lower, may_overlap
from emosim.agents.scripted.observers import (
    _NEGATION_HINT,
    CueSentenceObserver,
    LexiconEmotionObserver,
    LexiconStrategyObserver,
)
from emosim.agents.scripted.templates import ObserverMarkers
from emosim.files import load_yaml_model

# Cues that stress token boundaries: apostrophes inside and outside words, marks touching
# words, several spaces, a cue held in another, one label's cue that is another's too.
CUES = {
    "a": ["so", "so much", "don't", "can't sleep", "well-being", "worried ,", "' s", "it’s okay"],
    "b": ["so much", "much", "kind of", "ok .", "thank you", "you", "'", "x'"],
}
TEXTS = [
    "So much! so... SO much; so  much, so\nmuch, somuch",
    "I don't know, I can't  sleep; I DON’T, don 't, dont",
    "well - being well-being wellbeing -being",
    "worried, worried , worried,, unworried,",
    "it's okay it’s okay its okay it ’s okay",
    "x's 's ' s x' 'x x'' ''",
    "kind of kinda kind  of kind-of kindof",
    "ok. Ok .ok ok.. okay",
    "Thank you!you youth you're you' thank-you",
    "",
    "   ",
]


def lexicon_hits(cues: Cues, sample: str) -> list[tuple[str, int, int]]:
    return [(hit.label, hit.start, hit.end) for hit in cues.lexicon.find(sample)]


@pytest.mark.parametrize("sample", TEXTS)
def test_matcher_finds_what_the_lexicon_finds(sample: str) -> None:
    cues = Cues(CUES)
    assert lower(sample) is not None  # the regex path, not the fallback
    assert cues.find(sample, lower(sample)) == lexicon_hits(cues, sample)


def test_matcher_agrees_on_random_text(catalog) -> None:
    lexicons = [
        {e.id: e.cues for e in catalog.emotions_file.emotions},
        {s.id: s.cues for s in catalog.strategies_file.strategies},
        {f.id: [c for c in f.cues if c != "?"] for f in catalog.functions_file.functions},
        CUES,
    ]
    pieces = [c for lexicon in lexicons for cues in lexicon.values() for c in cues]
    pieces += ["'", "’", ",", ".", "-", "!", "x", "I", "'s", "not", "So"]
    rng = random.Random(7)
    for lexicon in lexicons:
        cues = Cues(lexicon)
        for _ in range(300):
            parts = [rng.choice(pieces) for _ in range(rng.randint(1, 8))]
            sample = "".join(p + rng.choice(["", " ", "  ", "'", "\n", ". "]) for p in parts)
            sample = sample.upper() if rng.random() < 0.2 else sample
            assert cues.find(sample, lower(sample)) == lexicon_hits(cues, sample), sample


def test_text_the_regex_cannot_read_goes_to_the_lexicon() -> None:
    assert lower("It’s FINE") == "it's fine"
    assert lower("naïve") is None
    cues = Cues(CUES)
    sample = "İ so much, naïve you"
    assert cues.find(sample, lower(sample)) == lexicon_hits(cues, sample) != []


def testmay_overlap() -> None:
    assert may_overlap([("a", "b")], [("b", "c")])  # one runs on into the other
    assert may_overlap([("x", "y", "z")], [("y",)])  # one holds the other
    assert may_overlap([("so",)], [("so", "much")])
    assert not may_overlap([("so",)], [("sort", "of")])
    assert may_overlap([("a", "b")], [("c", "a")])  # "c a b": they share the "a"


@pytest.fixture(scope="module")
def markers(catalog) -> ObserverMarkers:
    return load_yaml_model(scripted_template_paths(catalog)["observers"], ObserverMarkers)


def test_one_marker_pass_finds_both_kinds(catalog, markers: ObserverMarkers) -> None:
    observer = LexiconEmotionObserver(catalog, markers)
    assert len(observer._markers) == 1  # intensifiers and hedges never share a word
    samples = [*TEXTS, "I'm not sure, maybe a little scared and really, REALLY tired at all."]
    for sample in samples:
        merged = [hit for m in observer._markers for hit in m.find(sample, lower(sample))]
        separate = [
            (h.label, h.start, h.end)
            for lexicon in (observer.intensifiers, observer.hedges)
            for h in lexicon.find(sample)
        ]
        assert sorted(merged, key=lambda h: h[0] == "down") == separate


def test_negation_hint_covers_every_negation() -> None:
    words = re.search(r"\\b\(([^)]*)\)", text._NEGATION.pattern)
    assert words is not None
    for word in words.group(1).split("|"):
        assert _NEGATION_HINT.search(word.lower()), word


def test_negated_cues_still_skipped(catalog, markers: ObserverMarkers) -> None:
    observer = LexiconEmotionObserver(catalog, markers)
    worried = observer.observe(EmotionObserverInput(text="I'm worried about rent."))
    calm = observer.observe(EmotionObserverInput(text="I'm not worried about rent."))
    assert any(c.text == "worried" for c in worried.cues)
    assert not any(c.text == "worried" for c in calm.cues)


def test_cue_across_sentences_is_read_in_the_whole_text(catalog) -> None:
    observer = LexiconStrategyObserver(catalog)
    assert not observer._cues.can_cross_sentences
    observer._cues = Cues({"affirmation": ["fine . thanks"]})
    assert observer._cues.can_cross_sentences
    # the cue starts in the first sentence and ends in the second: only the whole text has it
    assert observer.scores("I'm fine. Thanks a lot.")["affirmation"] == 1.0


def test_sentence_caches_return_fresh_readings(catalog, scripted_run) -> None:
    _, records = scripted_run
    replies = [t.text for r in records for t in r.turns if t.speaker == "advisor"]
    assert replies
    strategies = LexiconStrategyObserver(catalog)
    sentences = CueSentenceObserver(catalog, strategies)
    for _ in range(2):  # the second round is read from the caches
        for reply in replies:
            fresh = LexiconStrategyObserver(catalog)
            assert strategies.observe(reply) == fresh.observe(reply)
            assert sentences.label(reply) == CueSentenceObserver(catalog, fresh).label(reply)


def test_position_still_decides_an_unmarked_sentence(catalog) -> None:
    observer = CueSentenceObserver(catalog)
    plain = "Bonds pay interest twice a year."
    assert observer.label(plain)[0].function == "acknowledge_emotion"
    assert observer.label(f"{plain} {plain}")[1].function == "explain_concept"
