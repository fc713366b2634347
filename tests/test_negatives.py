"""Realistic negatives (issue 19, item 5): `NegativeWriter` and the critic that must catch them.

Every type is produced, each has at least three subtle variants, no line of
agents/scripted/negatives.yaml appears in the critic's rules or Elena's persona file, hard
negatives keep the good reply's own sentences, and the critic rejects the negatives written
from real conversation states (recall per type) while it accepts the good replies they came
from.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from pathlib import Path

import pytest

from emosim.agents.messages import AdvisorInput, CriticInput, Line
from emosim.agents.scripted.critic import RuleCritic, question_count
from emosim.agents.scripted.negatives import NegativeWriter, client_asked, load_negatives
from emosim.agents.scripted.templates import NegativeTemplates
from emosim.agents.scripted.text import expand, fill, variants
from emosim.catalog import Catalog
from emosim.evals.critic import (
    _slots,
    accepted_replies,
    advisor_input,
    fresh_batch,
    good_sentences,
    negative_cases,
    score,
)
from emosim.schemas import EmotionAnnotation

TYPES = {
    "premature_advice",
    "wrong_timing",
    "question_stack",
    "over_validation",
    "jargon_dump",
    "false_reassurance",
    "minimizing",
    "judgment_blame",
    "toxic_positivity",
    "dismissal",
    "pressure",
    "false_guarantee",
    "specific_security",
}


@pytest.fixture(scope="module")
def negatives(catalog: Catalog) -> NegativeTemplates:
    return load_negatives(catalog.root)


@pytest.fixture(scope="module")
def writer(catalog: Catalog, negatives: NegativeTemplates) -> NegativeWriter:
    return NegativeWriter(catalog, negatives)


@pytest.fixture(scope="module")
def critic(catalog: Catalog) -> RuleCritic:
    return RuleCritic(catalog)


@pytest.fixture(scope="module")
def replies(catalog: Catalog):
    """Accepted replies of fresh scripted batches: real moments to write negatives for
    (three seeds, so that enough moments of high distress are among them)."""
    return [r for seed in (3, 4, 5) for r in accepted_replies(fresh_batch(catalog, seed))]


def _observed(primary: str, level: str) -> EmotionAnnotation:
    intensity = {"low": 0.2, "medium": 0.5, "high": 0.85}[level]
    return EmotionAnnotation(
        primary=primary,
        family="fear",
        intensity=intensity,
        intensity_level=level,
        confidence=0.9,
        observer="test",
    )


def _request(primary: str, level: str, client: str) -> AdvisorInput:
    return AdvisorInput(
        client_name="Dana Reyes",
        topic="debt_management",
        subcategory="credit_card_debt",
        transcript=[Line(speaker="client", text=client)],
        observed=_observed(primary, level),
        exchange=1,
        exchanges=5,
        attempt=1,
    )


SLOTS = {
    "name": "Dana",
    "emotion_adj": "anxious",
    "topic_phrase": "paying down debt",
    "subtopic_phrase": "credit card debt",
    "term": "debt avalanche",
    "term_gloss": "paying the debt with the highest interest rate first while making minimum "
    "payments on the rest",
}
GOOD = [
    {
        "text": "It makes complete sense that you'd feel anxious about paying down debt.",
        "function": "validate",
        "strategy": "empathic_validation",
    },
    {
        "text": "In plain terms, debt avalanche means paying the debt with the highest interest "
        "rate first while making minimum payments on the rest.",
        "function": "explain_concept",
        "strategy": "education",
    },
    {
        "text": "What would feel like a good outcome for paying down debt a year from now?",
        "function": "ask_open_question",
        "strategy": "open_question",
    },
]


# --- the file -------------------------------------------------------------------------------


def test_every_type_is_an_anti_pattern_with_three_subtle_variants_or_more(
    catalog: Catalog, negatives: NegativeTemplates
) -> None:
    assert set(negatives.types) == TYPES
    for kind, spec in negatives.types.items():
        assert kind in catalog.anti_patterns, kind
        assert len(spec.lines) >= 3, kind
        # inline alternatives: every line reads more than one way
        assert all(variants(line) >= 2 for line in spec.lines), kind


def _renderings(template: str, n: int = 12) -> set[str]:
    slots = {**SLOTS, "other_term": "balance transfer", "third_term": "charge-off"}
    rng = random.Random(0)
    return {fill(expand(template, rng), slots) for _ in range(n)}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def test_no_negatives_line_is_in_the_critics_rules(
    catalog: Catalog, negatives: NegativeTemplates, root: Path
) -> None:
    """The critic catches the behaviour, not the generator's wording: no run of eight words
    of any rendering of a line appears in the critic's module, Elena's persona file or the
    anti-pattern cues and examples it reads."""
    anti = [t for a in catalog.strategies_file.anti_patterns for t in a.cues + a.examples]
    sources = [
        (root / "emosim/agents/scripted/critic.py").read_text(encoding="utf-8"),
        (root / "personas/elena_morales.yaml").read_text(encoding="utf-8"),
        *anti,
    ]
    rules = " | ".join(" ".join(_words(text)) for text in sources)
    copied = []
    for kind, spec in negatives.types.items():
        for template in spec.lines + spec.extra:
            for text in _renderings(template):
                words = _words(text)
                for i in range(max(1, len(words) - 7)):
                    window = " ".join(words[i : i + 8])
                    if len(words) >= 8 and f" {window} " in f" {rules} ":
                        copied.append((kind, window))
    assert not copied, copied[:10]


# --- the writer -----------------------------------------------------------------------------


def test_type_fits_the_moment(writer: NegativeWriter) -> None:
    calm = _request("calm", "low", "Okay. That makes sense to me.")
    asked = _request("anxiety", "high", "I can't sleep over this. What do I even do first?")
    assert client_asked(asked) and not client_asked(calm)
    fits_calm = set(writer.fitting(calm, SLOTS))
    fits_asked = set(writer.fitting(asked, SLOTS))
    # a relaxed client is not given a plan before the feeling or a wrongly timed lesson
    assert not fits_calm & {"premature_advice", "wrong_timing", "over_validation"}
    assert {"question_stack", "jargon_dump", "judgment_blame"} <= fits_calm
    assert {"wrong_timing", "premature_advice", "over_validation"} <= fits_asked


def test_draft_sets_the_type_objective_and_strategies(writer: NegativeWriter) -> None:
    request = _request("anxiety", "high", "I can't sleep over this. What do I even do first?")
    seen = set()
    for seed in range(60):
        out = writer.draft(request, random.Random(seed), SLOTS, GOOD)
        assert out.anti_pattern in writer.fitting(request, SLOTS)
        assert out.learning_objective.startswith("Negative example: ")
        assert out.text == " ".join(s.text for s in out.sentences)
        used = {s.strategy for s in out.sentences if s.strategy}
        assert {out.strategies.primary, *out.strategies.combination} == used
        assert "{" not in out.text and "[" not in out.text
        seen.add(out.anti_pattern)
    assert len(seen) >= 5, seen


def test_every_type_is_produced_with_three_variants_or_more(writer: NegativeWriter) -> None:
    request = _request("anxiety", "high", "I can't sleep over this. What do I even do first?")
    for kind in TYPES:
        texts = {
            writer.write(kind, request, random.Random(seed), SLOTS, GOOD, hard=seed % 2 == 0).text
            for seed in range(30)
        }
        assert len(texts) >= 3, (kind, texts)


def test_hard_negatives_keep_the_good_drafts_content(writer: NegativeWriter) -> None:
    request = _request("anxiety", "high", "I can't sleep over this. What do I even do first?")
    good_texts = {s["text"] for s in GOOD}
    for kind in TYPES:
        out = writer.write(kind, request, random.Random(1), SLOTS, GOOD, hard=True)
        kept = [s.text for s in out.sentences if s.text in good_texts]
        assert kept, (kind, out.text)
        assert "hard negative" in out.learning_objective, kind
    # the strategy, not the content, goes wrong
    timing = writer.write("wrong_timing", request, random.Random(1), SLOTS, GOOD, hard=True)
    assert timing.sentences[0].text == GOOD[1]["text"]  # the education leads
    assert GOOD[0]["text"] not in timing.text  # the validation is gone
    stack = writer.write("question_stack", request, random.Random(1), SLOTS, GOOD, hard=True)
    assert GOOD[2]["text"] in stack.text and question_count(stack.text) >= 3
    jargon = writer.write("jargon_dump", request, random.Random(1), SLOTS, GOOD, hard=True)
    assert SLOTS["term_gloss"] not in jargon.text and SLOTS["term"] in jargon.text


# --- the critic on real moments -------------------------------------------------------------


def test_critic_recall_per_type_on_negatives_from_real_states(
    catalog: Catalog, writer: NegativeWriter, critic: RuleCritic, replies
) -> None:
    cases = negative_cases(catalog, writer, replies, random.Random(5), per_type=30)
    assert {c.category.split("/")[1] for c in cases} == TYPES
    rows = {r.category: r for r in score(cases, critic)}
    for kind in TYPES:
        row = rows[f"negatives/{kind}"]
        assert row.n >= 5, (kind, row.n)
        assert row.recall >= 0.95, (kind, row.recall, [m.text for m in row.misses])


def test_the_good_replies_behind_the_negatives_are_accepted(
    catalog: Catalog, critic: RuleCritic, replies
) -> None:
    rejected = [
        r.turn.text
        for r in replies
        if not critic.review(
            CriticInput(draft=r.turn.text, observed=r.observed, transcript=list(r.transcript))
        ).accepted
    ]
    assert len(rejected) / len(replies) <= 0.05, rejected


def test_negatives_are_written_from_the_moment_the_good_reply_was_made(
    catalog: Catalog, writer: NegativeWriter, replies
) -> None:
    by_type = defaultdict(int)
    rng = random.Random(2)
    for reply in replies[:20]:
        request = advisor_input(catalog, reply)
        slots = _slots(catalog, reply, rng)
        out = writer.draft(request, rng, slots, good_sentences(reply))
        by_type[out.anti_pattern] += 1
        assert out.anti_pattern in writer.fitting(request, slots) or not writer.fitting(
            request, slots
        )
    assert len(by_type) >= 3


# --- the behaviour rules, one case each -----------------------------------------------------


def _judge(critic: RuleCritic, draft: str, primary: str, level: str, client: str) -> set[str]:
    request = CriticInput(
        draft=draft,
        observed=_observed(primary, level),
        transcript=[Line(speaker="client", text=client)],
    )
    verdict = critic.review(request)
    return {f.code for f in verdict.findings if f.severity in {"major", "blocker"}}


def test_behaviour_rules(critic: RuleCritic) -> None:
    worried = "I keep missing payments and I'm scared. What are my options here?"
    # three questions at once, whatever the words
    assert "question_stack" in _judge(
        critic,
        "Thanks for sharing that. When did it start? Who else knows? What did the bank say?",
        "calm",
        "low",
        "Hi.",
    )
    # a plan for an upset client, no acknowledgement
    assert "premature_advice" in _judge(
        critic,
        "Start by calling the card company and asking for a hardship plan, then list the rest.",
        "worry",
        "medium",
        worried,
    )
    # the same plan after the feeling is acknowledged is not premature
    assert "premature_advice" not in _judge(
        critic,
        "It makes sense that you're scared after missing payments. Start by calling the card "
        "company and asking about a hardship plan, if that feels doable.",
        "worry",
        "medium",
        worried,
    )
    # warmth only, when a question was asked
    assert "over_validation" in _judge(
        critic,
        "I'm so glad you reached out, and it's completely understandable to feel this way. "
        "You're braver than you think.",
        "worry",
        "medium",
        worried,
    )
    # warmth and an answer is fine
    assert "over_validation" not in _judge(
        critic,
        "It's completely understandable to feel scared. One option is a hardship plan, where "
        "the card company lowers the payment for a while.",
        "worry",
        "medium",
        worried,
    )
    # two technical key terms of the topics, bare
    assert "jargon_dump" in _judge(
        critic,
        "Let's weigh the debt avalanche against a balance transfer.",
        "calm",
        "low",
        "Hi.",
    )
