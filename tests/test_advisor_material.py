"""Elena's scripted material (agents/scripted/advisor.yaml) stays in her voice however its
inline alternatives ("[a|b]") are resolved.

Every expansion of a strategy template still carries one of its strategy's cues (so a
text-only observer can recognise it) and nothing the critic rejects; a closing never asks a
question; and the alternatives give enough distinct sentences that the corpus stops
repeating itself.
"""

from __future__ import annotations

import random

import pytest

from emosim.agents.backends import load_advisor_templates
from emosim.agents.messages import CriticInput
from emosim.agents.scripted.critic import RuleCritic
from emosim.agents.scripted.templates import AdvisorTemplates
from emosim.agents.scripted.text import expand, fill, variants
from emosim.catalog import Catalog
from emosim.evals.critic import NEUTRAL

SAMPLES = 50  # expansions drawn per template

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
    verdict = critic.review(CriticInput(draft=text, observed=NEUTRAL, transcript=[]))
    return [
        f"{f.code}: {f.evidence}" for f in verdict.findings if f.severity in {"major", "blocker"}
    ]


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
