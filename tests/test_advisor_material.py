"""Elena's scripted material (agents/scripted/advisor.yaml) stays in her voice however its
inline alternatives ("[a|b]") are resolved.

Every expansion of a strategy template still carries one of its strategy's cues (so a
text-only observer can recognise it) and nothing the critic rejects; a closing never asks a
question; and the alternatives give enough distinct sentences that the corpus stops
repeating itself.
"""

from __future__ import annotations

import itertools
import random
import re
import statistics

import pytest

from emosim.agents.backends import load_advisor_templates
from emosim.agents.messages import CriticInput
from emosim.agents.scripted.critic import RuleCritic
from emosim.agents.scripted.observers import LexiconStrategyObserver
from emosim.agents.scripted.templates import AdvisorTemplates
from emosim.agents.scripted.text import Lexicon, expand, fill, sentence_case, variants, word_count
from emosim.catalog import Catalog
from emosim.evals.critic import NEUTRAL
from emosim.schemas import EmotionAnnotation

# An upset client (negative feeling, medium intensity): a sentence must not read as a plan
# pushed before the feeling is heard (the critic's premature_advice in context).
UPSET = EmotionAnnotation(
    primary="anxiety",
    family="fear",
    intensity=0.55,
    intensity_level="medium",
    confidence=1.0,
    observer="test/upset",
)

SAMPLES = 50  # expansions drawn per template
MIN_TEMPLATES = 10  # per strategy
MIN_DISTINCT = 5000  # distinct strategy sentences over all templates (before slots are filled)
_CHOICE = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")

SLOTS = [
    {
        "name": "Dana",
        "emotion_adj": "anxious",
        "topic_phrase": "debt management",
        "subtopic_phrase": "credit card debt",
        "term": "APR",
        "term_gloss": "the yearly cost of borrowing, including interest and some fees",
        "client_quote": "I can't sleep over it",
        "fact": "you owe about $18,000 across three cards",
        "next_step": "the enrollment form",
    },
    {
        "name": "Marcus",
        "emotion_adj": "frustrated",
        "topic_phrase": "retirement planning",
        "subtopic_phrase": "your 401(k)",
        "term": "vesting",
        "term_gloss": "the schedule for when your employer's money becomes fully yours to keep",
        "client_quote": "nobody ever explained this to me",
        "fact": "you're 52 and have about $40,000 saved",
        "next_step": "the call with HR",
    },
]


@pytest.fixture(scope="module")
def templates(catalog: Catalog) -> AdvisorTemplates:
    return load_advisor_templates(catalog)


@pytest.fixture(scope="module")
def critic(catalog: Catalog) -> RuleCritic:
    return RuleCritic(catalog)


def _expansions(template: str, seed: object) -> set[str]:
    rng = random.Random(f"{seed}")
    return {expand(template, rng) for _ in range(SAMPLES)}


def _rejections(critic: RuleCritic, text: str) -> list[str]:
    out = []
    for observed in (NEUTRAL, UPSET):
        verdict = critic.review(CriticInput(draft=text, observed=observed, transcript=[]))
        out += [
            f"{f.code}: {f.evidence}"
            for f in verdict.findings
            if f.severity in {"major", "blocker"}
        ]
    return out


def test_closings_are_warm_and_ask_nothing(templates: AdvisorTemplates, critic: RuleCritic) -> None:
    assert len(templates.closings) >= 15 and len(templates.closings_unresolved) >= 8
    for key in ("closings", "closings_unresolved"):
        for i, template in enumerate(getattr(templates, key)):
            for text in _expansions(template, (key, i)):
                assert "[" not in text and "]" not in text, (key, i, text)
                for slots in SLOTS:
                    line = fill(text, slots)
                    assert "?" not in line, (key, i, line)
                    assert "{" not in line, (key, i, line)
                    assert 1 <= line.count(".") + line.count("!") <= 3, (key, i, line)
                    assert not _rejections(critic, line), (key, i, line, _rejections(critic, line))


def test_closings_vary(templates: AdvisorTemplates) -> None:
    assert sum(variants(t) for t in templates.closings) >= 150
    assert sum(variants(t) for t in templates.closings_unresolved) >= 60


def _all_expansions(template: str) -> set[str]:
    """Every text `expand` can make of `template`."""
    groups = [group.split("|") for group in _CHOICE.findall(template)]
    out = set()
    pieces = _CHOICE.split(template)  # literal, group, literal, group, ..., literal
    literals = pieces[::2]
    for combo in itertools.product(*groups):
        out.add("".join(lit + part for lit, part in zip(literals, [*combo, ""], strict=True)))
    return out


def test_every_strategy_has_enough_templates_with_alternatives(
    templates: AdvisorTemplates, catalog: Catalog
) -> None:
    assert set(templates.strategies) == set(catalog.strategies)
    for sid, items in templates.strategies.items():
        assert len(items) >= MIN_TEMPLATES, sid
        with_choices = sum(variants(t.text) > 1 for t in items)
        assert with_choices >= len(items) - 1, sid  # almost every template varies
    distinct = {
        e for items in templates.strategies.values() for t in items for e in _all_expansions(t.text)
    }
    assert len(distinct) >= MIN_DISTINCT


def test_strategy_expansions_keep_their_cue_and_pass_the_critic(
    templates: AdvisorTemplates, catalog: Catalog, critic: RuleCritic
) -> None:
    """Whichever alternatives are picked, the sentence carries a cue of its strategy, the
    critic accepts it, and the strategy observer reads it as that strategy."""
    observer = LexiconStrategyObserver(catalog)
    read_as_own = total = 0
    words = []
    for sid, items in templates.strategies.items():
        cues = Lexicon({sid: catalog.strategies[sid].cues})
        for i, template in enumerate(items):
            for text in _expansions(template.text, (sid, i)):
                assert "[" not in text and "]" not in text and "|" not in text, (sid, i, text)
                for slots in SLOTS:
                    sentence = sentence_case(fill(text, slots))
                    assert "{" not in sentence, (sid, i, sentence)
                    assert cues.find(sentence), (sid, i, "no cue", sentence)
                    rejected = _rejections(critic, sentence)
                    assert not rejected, (sid, i, sentence, rejected)
                    assert sentence.count("?") <= 1, (sid, i, sentence)
                    read_as_own += observer.sentence_strategy(sentence) == sid
                    total += 1
                    words.append(word_count(sentence))
    assert read_as_own / total >= 0.95
    assert 8 <= statistics.median(words) <= 18


@pytest.mark.parametrize(
    ("clause", "said"),
    [
        (
            "your estranged father died and left you $62,000",
            "I'm sorry about your father. He left you $62,000.",
        ),
        (
            "your mother passed away in March",
            "I'm sorry about your mother. Your mother passed away in March.",
        ),
        ("your father co-signed the loan for $8,000", None),
    ],
)
def test_a_death_is_met_with_sympathy_before_its_figures(clause: str, said: str | None) -> None:
    from emosim.agents.scripted.advisor import with_sympathy

    assert with_sympathy(clause) == said
