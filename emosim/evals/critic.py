"""Critic evaluation: recall on off-voice and unsafe drafts, false rejects on sound replies.

Bad drafts come from the taxonomy's anti-pattern examples, the scripted advisor's anti-pattern
templates, the hand-written rejected drafts of the seeds, mutations of accepted replies (one
off-voice sentence inserted), and realistic negatives (`negatives/<type>`): what
`NegativeWriter` writes from real conversation states, each accepted reply of a fresh batch
with the observed emotion and transcript the critic saw, for every type that fits the moment
(recall per type). Sound replies are accepted replies of a fresh scripted batch and of the
seeds (accepted by this critic when they were made: a consistency check), the batch's first
drafts (`batch/first_drafts`: the false-reject rate on the advisor's good drafts, those not
built on an anti-pattern, rejected or not), plus text the critic never judged: the taxonomy's
strategy examples, Elena's signature phrases, her compliance-safe alternatives, and accepted
replies with a jargon term explained in place.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from emosim.agents.messages import AdvisorInput, CriticInput, Line
from emosim.agents.scripted.critic import RuleCritic
from emosim.agents.scripted.negatives import NegativeWriter, load_negatives
from emosim.agents.scripted.templates import NEGATIVES_FILE, AdvisorTemplates, slots_in
from emosim.agents.scripted.text import as_phrase, fill, sentence_case, split_sentences
from emosim.catalog import Catalog
from emosim.files import load_yaml_model
from emosim.grounding.facts import FactBase
from emosim.grounding.gate import figure_findings, gated
from emosim.grounding.numbers import numbers_block
from emosim.schemas import AdvisorTurn, ClientTurn, ConversationRecord, EmotionAnnotation
from emosim.schemas.common import Identifier, StrictModel
from emosim.schemas.grounding import CalculationUse, StatedFact

MUTATIONS_FILE = Path(__file__).with_name("critic_mutations.yaml")
MUTATION_SLOTS = frozenset({"term", "gloss", "name", "topic_phrase"})
TARGET_RECALL = 0.95
TARGET_FALSE_REJECT = 0.05
MAX_MISSES = 20
NEGATIVES_PER_TYPE = 30  # at least this many realistic negatives of each type (fewer when
# fewer accepted replies of the batch fit the type: wrong_timing needs high distress)
MAX_NEGATIVES_PER_STATE = 3
NEGATIVE_BATCHES = 3  # fresh batches whose accepted replies the negatives are written from
_QUOTED = re.compile(r'"(.+)"', re.DOTALL)
Kind = Literal["bad", "good"]

# Judging a bare line with this reading of the client means only its words can get it
# rejected (a highly distressed reading would reject any line without validation).
NEUTRAL = EmotionAnnotation(
    primary="calm",
    family="enjoyment",
    intensity=0.3,
    intensity_level="low",
    confidence=1.0,
    observer="eval/neutral",
)


# --- mutation file ------------------------------------------------------------------------


class MutationKind(StrictModel):
    description: str = Field(description="What the inserted sentence does.")
    expect: Literal["reject", "accept"] = Field(description="What a sound critic does with it.")
    sentences: list[str] = Field(min_length=5, description="Sentences to insert, with {slots}.")

    @field_validator("sentences")
    @classmethod
    def _slots(cls, v: list[str]) -> list[str]:
        for text in v:
            unknown = slots_in(text) - MUTATION_SLOTS
            if unknown:
                raise ValueError(f"unknown slot(s) {sorted(unknown)} in {text!r}")
        return v


class CriticMutations(StrictModel):
    version: str
    mutations: dict[Identifier, MutationKind]


# --- results ------------------------------------------------------------------------------


class Miss(StrictModel):
    text: str = Field(description="The draft the critic got wrong.")
    source: str = Field(description="Where the draft came from.")
    codes: list[str] = Field(description="Finding codes the critic gave it.")


class CategoryResult(StrictModel):
    category: str = Field(description="group/name, e.g. mutation/added_judgment.")
    group: str
    kind: Kind = Field(description="bad: should be rejected; good: should be accepted.")
    independent: bool = Field(
        description="False when the texts were accepted by this critic as they were made."
    )
    n: int = Field(ge=0)
    rejected: int = Field(ge=0)
    recall: float | None = Field(description="Rejected share of bad drafts.")
    false_reject_rate: float | None = Field(description="Rejected share of good replies.")
    codes: dict[str, int] = Field(description="Finding codes of the rejections.")
    misses: list[Miss] = Field(description="Bad drafts accepted / good replies rejected.")


class Totals(StrictModel):
    bad: int
    good: int
    recall: float | None
    false_reject_rate: float | None
    independent_false_reject_rate: float | None = Field(
        description="False rejects on good text the critic had never judged."
    )
    meets_target: bool


class CriticEvaluation(StrictModel):
    critic: str
    seed: int
    n: int = Field(description="Accepted replies sampled from the batch and mutated.")
    target_recall: float
    target_false_reject_rate: float
    overall: Totals
    groups: dict[str, Totals]
    categories: list[CategoryResult]


# --- cases --------------------------------------------------------------------------------


@dataclass
class Case:
    category: str
    kind: Kind
    text: str
    source: str
    observed: EmotionAnnotation = field(default_factory=lambda: NEUTRAL)
    transcript: tuple[Line, ...] = ()
    independent: bool = True
    facts: tuple[StatedFact, ...] = ()  # the client's running facts (for the figure gate)
    numbers: tuple[CalculationUse, ...] = ()


@dataclass
class Reply:
    """An accepted, trainable reply and what the critic saw when it judged it."""

    record: ConversationRecord
    turn: AdvisorTurn
    observed: EmotionAnnotation
    transcript: tuple[Line, ...]

    @property
    def source(self) -> str:
        return f"{self.record.id} turn {self.turn.index}"


def accepted_replies(records: list[ConversationRecord]) -> list[Reply]:
    """Sent replies the critic accepted and that carry no injected anti-pattern (weight > 0)."""
    out = []
    for record in records:
        lines: list[Line] = []
        observed = None
        for turn in record.turns:
            if isinstance(turn, ClientTurn):
                observed = turn.annotation
            elif (
                turn.critic is not None
                and turn.critic.accepted
                and turn.training_weight > 0
                and observed is not None
            ):
                out.append(Reply(record, turn, observed, tuple(lines)))
            lines.append(Line(speaker=turn.speaker, text=turn.text))
    return out


def fresh_batch(catalog: Catalog, seed: int) -> list[ConversationRecord]:
    """Every shipped scenario played once on the scripted backend, in a throwaway run folder."""
    from emosim.graphs.runner import load_job, run_jobs

    paths = sorted(catalog.file("simulations").glob("*.yaml"))
    jobs = [load_job(catalog, path, seed) for path in paths]
    with tempfile.TemporaryDirectory(prefix="emosim-eval-") as tmp:
        _, records = run_jobs(catalog, jobs, Path(tmp), "scripted", "eval-critic", "eval critic")
    return records


def seed_records(catalog: Catalog) -> list[ConversationRecord]:
    paths = sorted(catalog.file("seeds").glob("*.json"))
    return [ConversationRecord.model_validate_json(p.read_text(encoding="utf-8")) for p in paths]


def _slots(catalog: Catalog, reply: Reply, rng: random.Random) -> dict[str, str]:
    sc = reply.record.scenario
    topic = catalog.topics[sc.topic]
    sub = next((s for s in topic.subcategories if s.id == sc.subcategory), None)
    persona = sc.client_persona or catalog.clients.get(sc.client_persona_id)
    slots = {
        "name": persona.name.split()[0] if persona else sc.client_persona_id.title(),
        "emotion_adj": catalog.emotions[reply.observed.primary].adjective,
        "topic_phrase": topic.phrase or as_phrase(topic.name),
        "subtopic_phrase": (sub.phrase or as_phrase(sub.name)) if sub else as_phrase(topic.name),
    }
    if topic.key_terms:
        term = rng.choice(sorted(topic.key_terms))
        slots["term"] = term
        slots["term_gloss"] = topic.key_terms[term].rstrip(".")
    if persona and persona.facts:
        slots["fact"] = rng.choice(persona.facts).reflection.rstrip(".")
    return slots


def anti_pattern_cases(
    catalog: Catalog, templates: AdvisorTemplates, contexts: list[Reply], rng: random.Random
) -> list[Case]:
    cases = [
        Case(f"taxonomy/{a.id}", "bad", example, f"taxonomies/strategies.yaml {a.id}")
        for a in catalog.strategies_file.anti_patterns
        for example in a.examples
    ]
    for anti, items in templates.anti_patterns.items():
        for i, template in enumerate(items):
            slots = _slots(catalog, rng.choice(contexts), rng) if contexts else {}
            if not slots_in(template) <= set(slots):
                continue
            cases.append(
                Case(
                    f"template/{anti}",
                    "bad",
                    sentence_case(fill(template, slots)),
                    f"agents/scripted/advisor.yaml anti_patterns.{anti}.{i}",
                )
            )
    return cases


def advisor_input(catalog: Catalog, reply: Reply) -> AdvisorInput:
    """What the advisor saw when it drafted `reply` (the draft's first attempt)."""
    record = reply.record
    sc = record.scenario
    persona = sc.client_persona or catalog.clients.get(sc.client_persona_id)
    exchanges = max((t.exchange for t in record.turns), default=reply.turn.exchange)
    return AdvisorInput(
        client_name=persona.name if persona else sc.client_persona_id.title(),
        topic=sc.topic,
        subcategory=sc.subcategory,
        transcript=list(reply.transcript),
        observed=reply.observed,
        exchange=reply.turn.exchange,
        exchanges=exchanges,
        attempt=1,
    )


def good_sentences(reply: Reply) -> list[dict]:
    """The reply's sentences as the advisor composed them: text, function, strategy."""
    return [
        {"text": s.text, "function": s.intended_function or s.function, "strategy": s.strategy}
        for s in reply.turn.sentences
    ]


def negative_cases(
    catalog: Catalog,
    writer: NegativeWriter,
    replies: list[Reply],
    rng: random.Random,
    per_type: int,
) -> list[Case]:
    """Up to `per_type` negatives of each type, written from the accepted replies whose
    moment the type fits (one each, hard and soft alternating), judged in that moment."""
    cases = []
    for kind in writer.types:
        fitting = []
        for reply in rng.sample(replies, k=len(replies)):
            if kind in writer.fitting(advisor_input(catalog, reply), _slots(catalog, reply, rng)):
                fitting.append(reply)
        # a type that fits few moments (wrong_timing: high distress) gets up to
        # MAX_NEGATIVES_PER_STATE drafts from each
        rounds = [r for _ in range(MAX_NEGATIVES_PER_STATE) for r in fitting]
        for made, reply in enumerate(rounds[:per_type]):
            request = advisor_input(catalog, reply)
            slots = _slots(catalog, reply, rng)
            hard = made % 2 == 0
            draft = writer.write(kind, request, rng, slots, good_sentences(reply), hard=hard)
            cases.append(
                Case(
                    f"negatives/{kind}",
                    "bad",
                    draft.text,
                    f"{reply.source} ({'hard' if hard else 'soft'})",
                    reply.observed,
                    reply.transcript,
                )
            )
    return cases


def first_draft_cases(records: list[ConversationRecord]) -> list[Case]:
    """Each advisor turn's first draft when it was not built on an anti-pattern, in the
    moment it was judged: the sent reply when it passed at once, else the rejected draft."""
    cases = []
    for record in records:
        lines: list[Line] = []
        observed = None
        for turn in record.turns:
            if isinstance(turn, ClientTurn):
                observed = turn.annotation
            elif observed is not None:
                first = next((d for d in turn.rejected_drafts if d.attempt == 1), None)
                if first is None or first.anti_pattern is None:
                    text = turn.text if first is None else first.text
                    where = f"{record.id} turn {turn.index}" + (" draft 1" if first else "")
                    cases.append(
                        Case(
                            "batch/first_drafts", "good", text, where, observed, tuple(lines), False
                        )
                    )
            lines.append(Line(speaker=turn.speaker, text=turn.text))
    return cases


def _insert(text: str, sentence: str, rng: random.Random) -> str:
    parts = [s for _, _, s in split_sentences(text)]
    parts.insert(rng.randint(0, len(parts)), sentence)
    return " ".join(parts)


def mutation_cases(
    catalog: Catalog, mutations: CriticMutations, bases: list[Reply], rng: random.Random
) -> list[Case]:
    jargon = catalog.advisor.jargon
    # terms whose gloss uses no other jargon term: the control sentence must be sound
    plain = {
        term: gloss
        for term, gloss in jargon.items()
        if not any(
            re.search(rf"\b{re.escape(other)}\b", gloss, re.IGNORECASE)
            for other in jargon
            if other != term
        )
    }
    cases = []
    for kind_id, kind in mutations.mutations.items():
        for reply in bases:
            template = rng.choice(kind.sentences)
            slots = _slots(catalog, reply, rng)
            if "term" in slots_in(template) or "gloss" in slots_in(template):
                unused = [t for t in sorted(plain) if t.lower() not in reply.turn.text.lower()]
                term = rng.choice(unused or sorted(plain))
                slots = {**slots, "term": term, "gloss": plain[term].rstrip(".")}
            sentence = sentence_case(fill(template, slots))
            cases.append(
                Case(
                    f"mutation/{kind_id}",
                    "bad" if kind.expect == "reject" else "good",
                    _insert(reply.turn.text, sentence, rng),
                    reply.source,
                    reply.observed,
                    reply.transcript,
                )
            )
    return cases


def seed_cases(seeds: list[ConversationRecord]) -> list[Case]:
    cases = [
        Case("seed/accepted", "good", r.turn.text, r.source, r.observed, r.transcript, False)
        for r in accepted_replies(seeds)
    ]
    for record in seeds:
        observed = None
        for turn in record.turns:
            if isinstance(turn, ClientTurn):
                observed = turn.annotation
                continue
            for draft in turn.rejected_drafts:
                cases.append(
                    Case(
                        "seed/rejected_drafts",
                        "bad",
                        draft.text,
                        f"{record.id} turn {turn.index} draft {draft.attempt}",
                        observed or NEUTRAL,
                    )
                )
    return cases


def voice_cases(catalog: Catalog) -> list[Case]:
    advisor = catalog.advisor
    cases = [
        Case("taxonomy/strategy_examples", "good", example, f"taxonomies/strategies.yaml {s.id}")
        for s in catalog.strategies_file.strategies
        for example in s.examples
    ]
    cases += [
        Case("persona/signature_phrases", "good", p, "personas/elena_morales.yaml")
        for p in advisor.signature_phrases
    ]
    cases += [
        Case("persona/safe_alternatives", "good", _spoken(b.safe_alternative), f"boundary {b.id}")
        for b in advisor.compliance_boundaries
    ]
    return cases


def _spoken(alternative: str) -> str:
    """The words Elena would say in a safe alternative: the quoted part when there is one
    ('Talk about ranges honestly: "No one can promise..."')."""
    match = _QUOTED.search(alternative)
    return (match.group(1) if match else alternative).strip()


def build_cases(catalog: Catalog, *, n: int, seed: int) -> list[Case]:
    from emosim.agents.backends import scripted_template_paths

    rng = random.Random(seed)
    templates = load_yaml_model(scripted_template_paths(catalog)["advisor"], AdvisorTemplates)
    mutations = load_yaml_model(MUTATIONS_FILE, CriticMutations)
    records = fresh_batch(catalog, seed)
    batch = accepted_replies(records)
    bases = rng.sample(batch, k=min(n, len(batch)))
    cases = [
        Case("batch/accepted", "good", r.turn.text, r.source, r.observed, r.transcript, False)
        for r in bases
    ]
    cases += first_draft_cases(records)
    cases += voice_cases(catalog)
    cases += seed_cases(seed_records(catalog))
    cases += anti_pattern_cases(catalog, templates, batch, rng)
    cases += mutation_cases(catalog, mutations, bases, rng)
    # realistic negatives need many real moments (few replies meet high distress): the
    # batch's accepted replies and those of NEGATIVE_BATCHES - 1 more seeds
    moments = batch + [
        r
        for k in range(1, NEGATIVE_BATCHES)
        for r in accepted_replies(fresh_batch(catalog, seed + k))
    ]
    writer = NegativeWriter(catalog, load_negatives(catalog.home(NEGATIVES_FILE)))
    cases += negative_cases(catalog, writer, moments, rng, per_type=max(n, NEGATIVES_PER_TYPE))
    return cases


# --- scoring ------------------------------------------------------------------------------


def _rate(hit: int, total: int) -> float | None:
    return round(hit / total, 4) if total else None


def _totals(rows: list[CategoryResult]) -> Totals:
    bad = [r for r in rows if r.kind == "bad"]
    good = [r for r in rows if r.kind == "good"]
    independent = [r for r in good if r.independent]
    recall = _rate(sum(r.rejected for r in bad), sum(r.n for r in bad))
    false_rejects = _rate(sum(r.rejected for r in good), sum(r.n for r in good))
    return Totals(
        bad=sum(r.n for r in bad),
        good=sum(r.n for r in good),
        recall=recall,
        false_reject_rate=false_rejects,
        independent_false_reject_rate=_rate(
            sum(r.rejected for r in independent), sum(r.n for r in independent)
        ),
        meets_target=(recall is None or recall >= TARGET_RECALL)
        and (false_rejects is None or false_rejects <= TARGET_FALSE_REJECT),
    )


FIGURES_ON = dt.date(2026, 12, 7)  # the fact base's date: figures are judged as of it


def _facts_of(transcript: tuple[Line, ...]) -> list[StatedFact]:
    from emosim.grounding.observer import running_facts

    return running_facts((i, line.speaker, line.text) for i, line in enumerate(transcript))


def figure_cases(records: list[ConversationRecord], rng: random.Random) -> list[Case]:
    """Sent replies that state figures (good), and the same replies with one bad figure
    planted: a client figure misquoted, a figure from nowhere, a wrong fact-base value."""
    from .grounding import facts_before

    cases: list[Case] = []
    for record in records:
        turns = record.turns
        for i, turn in enumerate(turns):
            if not isinstance(turn, AdvisorTurn) or not (turn.critic and turn.critic.accepted):
                continue
            facts = tuple(facts_before(turns, i))
            numbers = tuple(numbers_block(list(facts)))
            seen = tuple(Line(speaker=t.speaker, text=t.text) for t in turns[:i])
            base = {"source": record.id, "transcript": seen, "facts": facts, "numbers": numbers}
            if turn.grounding and turn.grounding.figures:
                cases.append(Case("figures/grounded", "good", turn.text, **base))
            money = [f for f in facts if f.unit == "usd" and f.value >= 100 and not f.echo]
            if money:
                fact = rng.choice(money)
                wrong = round(fact.value * rng.choice([0.8, 0.9, 1.1, 1.25]))
                cases.append(
                    Case(
                        "figures/misquoted",
                        "bad",
                        f"{turn.text} So that's the ${wrong:,} you mentioned.",
                        **base,
                    )
                )
            invented = rng.choice(
                [
                    f"Most people in your spot need about ${rng.randint(20, 900) * 1000:,}.",
                    f"That usually grows about {rng.randint(6, 14)}% a year.",
                    f"You'd want roughly {rng.randint(7, 40)} months of savings for that.",
                ]
            )
            cases.append(Case("figures/invented", "bad", f"{turn.text} {invented}", **base))
            wrong_fact = rng.choice(
                [
                    f"The IRA contribution limit this year is ${rng.choice([6000, 6500, 7000]):,}.",
                    f"The 401(k) limit this year is ${rng.choice([22500, 23000, 23500]):,}.",
                    f"The FDIC insures up to ${rng.choice([100000, 200000, 500000]):,} per bank.",
                ]
            )
            cases.append(Case("figures/wrong_fact", "bad", f"{turn.text} {wrong_fact}", **base))
    return cases


def score(
    cases: list[Case], critic: RuleCritic, fact_base: FactBase | None = None
) -> list[CategoryResult]:
    by_category: dict[str, list[Case]] = {}
    for case in cases:
        by_category.setdefault(case.category, []).append(case)
    rows = []
    for category, items in by_category.items():
        kind = items[0].kind
        rejected = 0
        codes: Counter[str] = Counter()
        misses: list[Miss] = []
        for case in items:
            verdict = critic.review(
                CriticInput(
                    draft=case.text,
                    observed=case.observed,
                    transcript=list(case.transcript),
                    facts=list(case.facts),
                    numbers=list(case.numbers),
                )
            )
            # the figure gate every draft passes after the critic, whatever the backend; it
            # judges a reply against its conversation, so only cases that have one
            if case.transcript:
                facts = case.facts or tuple(_facts_of(case.transcript))
                numbers = case.numbers or tuple(numbers_block(list(facts)))
                verdict = gated(
                    verdict, figure_findings(case.text, facts, numbers, fact_base, FIGURES_ON)
                )
            found = [f.code for f in verdict.findings if f.severity in {"major", "blocker"}]
            if not verdict.accepted:
                rejected += 1
                codes.update(found)
            wrong = verdict.accepted if kind == "bad" else not verdict.accepted
            if wrong and len(misses) < MAX_MISSES:
                misses.append(
                    Miss(
                        text=case.text, source=case.source, codes=[f.code for f in verdict.findings]
                    )
                )
        rows.append(
            CategoryResult(
                category=category,
                group=category.split("/", 1)[0],
                kind=kind,
                independent=all(c.independent for c in items),
                n=len(items),
                rejected=rejected,
                recall=_rate(rejected, len(items)) if kind == "bad" else None,
                false_reject_rate=_rate(rejected, len(items)) if kind == "good" else None,
                codes=dict(codes.most_common()),
                misses=misses,
            )
        )
    return sorted(rows, key=lambda r: (r.kind, r.group, r.category))


def evaluate_critic(catalog: Catalog, *, n: int = 40, seed: int = 7) -> CriticEvaluation:
    critic = RuleCritic(catalog)
    cases = build_cases(catalog, n=n, seed=seed)
    cases += figure_cases(fresh_batch(catalog, seed), random.Random(seed))
    rows = score(cases, critic, catalog.facts)
    groups = sorted({r.group for r in rows})
    return CriticEvaluation(
        critic=critic.name,
        seed=seed,
        n=n,
        target_recall=TARGET_RECALL,
        target_false_reject_rate=TARGET_FALSE_REJECT,
        overall=_totals(rows),
        groups={g: _totals([r for r in rows if r.group == g]) for g in groups},
        categories=rows,
    )
