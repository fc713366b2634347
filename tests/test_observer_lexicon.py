"""The lexicon emotion observer reads everyday emotional language: broad cues per emotion,
negation, thanks that do not outweigh a feeling, and a low-confidence reading when a turn
carries no emotion cue at all. (Human-data figures: README of the change / commit message.)"""

from __future__ import annotations

import pytest

from emosim.agents.backends import scripted_template_paths
from emosim.agents.messages import EmotionObserverInput
from emosim.agents.scripted.observers import LexiconEmotionObserver
from emosim.agents.scripted.templates import ObserverMarkers
from emosim.files import load_yaml_model


@pytest.fixture(scope="module")
def observer(catalog) -> LexiconEmotionObserver:
    markers = load_yaml_model(scripted_template_paths(catalog)["observers"], ObserverMarkers)
    return LexiconEmotionObserver(catalog, markers)


def read(observer: LexiconEmotionObserver, text: str, previous=None):
    return observer.observe(EmotionObserverInput(text=text, previous=previous))


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("I can't sleep, I'm a nervous wreck about all of this.", "anxiety"),
        ("Honestly I'm scared we won't have enough when I stop working.", "worry"),
        ("I'm burned out and I don't know what to do anymore.", "overwhelm"),
        (
            "I keep going back and forth, I'm so afraid of making a mistake here.",
            "fear_of_wrong_decision",
        ),
        ("I'm so sick and tired of the runaround from the bank.", "frustration"),
        ("I'm furious. They ripped me off and lied about it.", "anger"),
        (
            "Must be nice for my brother, he always gets bailed out and I never do. It's not fair.",
            "resentment",
        ),
        ("I feel like such an idiot, I'm ashamed I let it get this far.", "shame"),
        ("This is so embarrassing, sorry if this is a dumb question.", "embarrassment"),
        ("I feel terrible, it's my fault the kids won't get help with school.", "guilt"),
        ("I really wish I had started saving sooner, I'm kicking myself.", "regret"),
        ("Since my husband passed away I miss him every day and I'm so lonely.", "grief"),
        ("I'm feeling down, what's the point, I'm never going to get ahead.", "discouragement"),
        ("I'm hopeful, I can't wait to see where this goes.", "hope"),
        ("Phew, what a relief, that's a weight off my shoulders.", "relief"),
        ("I'm determined, no more excuses, starting today.", "determination"),
        ("I'm proud of myself, I think I've got this now.", "confidence"),
        ("I'm at peace with it, no rush at all.", "calm"),
        ("I'm so grateful, you've been a lifesaver.", "gratitude"),
        ("I trust you, I feel like I'm in good hands.", "trust"),
        ("Wait, I'm confused, that doesn't make sense to me.", "confusion"),
        ("I'm curious, how does that work exactly?", "curiosity"),
        ("It's a scam, these fee-hungry salespeople are disgusting.", "disdain"),
    ],
)
def test_everyday_words_name_the_emotion(observer, text: str, emotion: str) -> None:
    assert read(observer, text).primary == emotion


def test_thanks_do_not_outweigh_a_feeling(observer) -> None:
    annotation = read(observer, "Thank you so much, but honestly I'm terrified we'll run out.")
    assert annotation.primary == "worry"
    assert read(observer, "Thanks. I'm still really frustrated.").primary == "frustration"
    # thanks alone are still read as gratitude
    assert read(observer, "Thank you so much!").primary == "gratitude"


def test_negated_cues_do_not_count(observer) -> None:
    annotation = read(observer, "I'm not worried about it at all.")
    assert annotation.primary != "worry"
    assert read(observer, "I'm not giving up on this.").primary == "determination"


def test_money_words_are_not_feelings(observer) -> None:
    """Finance terms that share a word with a feeling cue carry no emotion."""
    for text in (
        "The capital loss offsets the gain, and the death benefit goes to the estate.",
        "I pay less than 500 a month into the trust, and my login is secure.",
        "I spent a lot on it and the payment went down.",
    ):
        annotation = read(observer, text)
        assert not [c for c in annotation.cues if c.signals != "intensity"], (text, annotation.cues)


def test_no_cue_is_a_low_confidence_neutral_reading(observer) -> None:
    first = read(observer, "My rent is 1,200 and my car payment is 300.")
    assert first.primary == "calm"
    assert first.confidence <= 0.1
    assert first.intensity_level == "low"
    worried = read(observer, "I'm really worried about the loan.")
    carried = read(observer, "The loan is 9,000 at 7 percent.", previous=worried)
    assert carried.primary == "worry"
    assert carried.confidence < worried.confidence
    assert carried.confidence <= 0.3
