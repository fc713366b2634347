"""Compute every figure of the quality report from the records (numbers only, no drawing)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from emosim.catalog import Catalog
from emosim.coverage import Targets
from emosim.schemas import ConversationRecord, CriticFinding

from ..diversity import distinct_n, near_duplicate_rate
from ..diversity import diversity as conversation_diversity
from .coverage import LENGTH_CLASSES, coverage
from .models import (
    Compliance,
    ComplianceCount,
    Cost,
    CostRow,
    CriticRejections,
    Diversity,
    DiversityScores,
    Lengths,
    NumberSummary,
    ReportFigures,
    StrategyDistribution,
    Trajectory,
    TrajectoryPoint,
)
from .observer import observer_accuracy
from .outcomes import strategy_outcomes

NEAR_DUPLICATE_THRESHOLD = 0.8
SHINGLE_WORDS = 3
WORD_BIN = 10
# Finding codes of the compliance dimension: boundaries, return guarantees, named securities.
COMPLIANCE_CODES = ("compliance", "false_guarantee", "specific_security")
# Backends that make no paid model calls.
FREE_BACKENDS = frozenset({"scripted", "rules", "replay", "classifier", "trained", "human"})


def build_figures(
    records: list[ConversationRecord],
    catalog: Catalog,
    targets: Targets,
    *,
    inputs: list[str],
    targets_file: Path | None = None,
    now: datetime | None = None,
) -> ReportFigures:
    valence = {e.id: e.valence for e in catalog.emotions_file.emotions}
    return ReportFigures(
        generated_at=now or datetime.now(UTC),
        inputs=inputs,
        conversations=len(records),
        sources=dict(Counter(r.provenance.source for r in records).most_common()),
        trajectories=trajectories(records, valence),
        coverage=coverage(records, catalog, targets, targets_file),
        strategies=strategy_distribution(records, targets.strategy_turns.min),
        outcomes=strategy_outcomes(records, valence),
        rejections=rejections(records),
        lengths=lengths(records),
        diversity=diversity(records),
        compliance=compliance(records, catalog),
        cost=cost(records),
        observer=observer_accuracy(records, catalog),
    )


def _mean(values: Sequence[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


def trajectories(records: list[ConversationRecord], valence: dict[str, float]) -> list[Trajectory]:
    """Mean true vs observed valence and intensity per exchange, one series per length class."""
    out = []
    for length_class in LENGTH_CLASSES:
        group = [r for r in records if r.scenario.length_class == length_class]
        by_exchange: dict[int, list] = defaultdict(list)
        for r in group:
            for t in r.client_turns:
                if t.ground_truth is not None and t.annotation is not None:
                    by_exchange[t.exchange].append((t.ground_truth, t.annotation))
        points = [
            TrajectoryPoint(
                exchange=x,
                n=len(pairs),
                true_valence=_mean([valence.get(g.emotion, g.valence or 0.0) for g, _ in pairs]),
                observed_valence=_mean([valence.get(a.primary, 0.0) for _, a in pairs]),
                true_intensity=_mean([g.intensity for g, _ in pairs]),
                observed_intensity=_mean([a.intensity for _, a in pairs]),
                emotion_agreement=_mean([float(g.emotion == a.primary) for g, a in pairs]),
            )
            for x, pairs in sorted(by_exchange.items())
        ]
        out.append(Trajectory(length_class=length_class, conversations=len(group), points=points))
    return out


def strategy_distribution(records: list[ConversationRecord], target: int) -> StrategyDistribution:
    intended: Counter[str] = Counter()
    observed: Counter[str] = Counter()
    used: Counter[str] = Counter()
    agree = known = 0
    for r in records:
        for t in r.advisor_turns:
            if t.intended_strategies:
                intended[t.intended_strategies.primary] += 1
                used.update({t.intended_strategies.primary, *t.intended_strategies.combination})
            if t.strategies:
                observed[t.strategies.primary] += 1
            if t.intended_strategies and t.strategies:
                known += 1
                agree += t.intended_strategies.primary == t.strategies.primary
    return StrategyDistribution(
        intended=dict(intended.most_common()),
        observed=dict(observed.most_common()),
        used=dict(used.most_common()),
        observer_agreement=round(agree / known, 4) if known else None,
        target_per_strategy=target,
    )


def rejections(records: list[ConversationRecord]) -> CriticRejections:
    reasons: Counter[str] = Counter()
    by_anti: dict[str, Counter[str]] = defaultdict(Counter)
    turns = drafts = clean = 0
    for r in records:
        for t in r.advisor_turns:
            turns += 1
            clean += not t.rejected_drafts
            for d in t.rejected_drafts:
                drafts += 1
                codes = [f.code for f in d.verdict.findings] or ["unstated"]
                reasons.update(codes)
                by_anti[d.anti_pattern or "none"].update(codes)
    return CriticRejections(
        advisor_turns=turns,
        rejected_drafts=drafts,
        first_pass_rate=round(clean / turns, 4) if turns else None,
        reasons=dict(reasons.most_common()),
        by_anti_pattern={k: dict(v.most_common()) for k, v in sorted(by_anti.items())},
    )


def summary(values: Sequence[float]) -> NumberSummary:
    if not values:
        return NumberSummary(n=0, mean=None, median=None, minimum=None, maximum=None)
    return NumberSummary(
        n=len(values),
        mean=round(statistics.fmean(values), 2),
        median=float(statistics.median(values)),
        minimum=float(min(values)),
        maximum=float(max(values)),
    )


def word_histogram(counts: Sequence[int]) -> dict[str, int]:
    bins = Counter(c // WORD_BIN for c in counts)
    return {
        f"{b * WORD_BIN}-{b * WORD_BIN + WORD_BIN - 1}": bins[b]
        for b in range(max(bins) + 1 if bins else 0)
    }


def lengths(records: list[ConversationRecord]) -> Lengths:
    from ..diversity import words

    client = [len(words(t.text)) for r in records for t in r.client_turns]
    advisor = [len(words(t.text)) for r in records for t in r.advisor_turns]
    exchanges = Counter(len(r.advisor_turns) for r in records)
    return Lengths(
        exchanges=dict(sorted(exchanges.items())),
        exchanges_by_class={
            c: summary([len(r.advisor_turns) for r in records if r.scenario.length_class == c])
            for c in LENGTH_CLASSES
        },
        client_words=summary(client),
        advisor_words=summary(advisor),
        client_word_histogram=word_histogram(client),
        advisor_word_histogram=word_histogram(advisor),
    )


def diversity_scores(texts: list[str]) -> DiversityScores:
    return DiversityScores(
        texts=len(texts),
        distinct_1=round(distinct_n(texts, 1), 4),
        distinct_2=round(distinct_n(texts, 2), 4),
        near_duplicate_rate=round(
            near_duplicate_rate(texts, NEAR_DUPLICATE_THRESHOLD, SHINGLE_WORDS), 4
        ),
    )


def diversity(records: list[ConversationRecord]) -> Diversity:
    return Diversity(
        threshold=NEAR_DUPLICATE_THRESHOLD,
        shingle_words=SHINGLE_WORDS,
        client=diversity_scores([t.text for r in records for t in r.client_turns]),
        advisor=diversity_scores([t.text for r in records for t in r.advisor_turns]),
        conversations=conversation_diversity(records),
    )


def compliance_key(finding: CriticFinding, boundaries: set[str]) -> str | None:
    """The boundary id of a 'compliance' finding (its message starts 'id: rule'), else the code."""
    if finding.code not in COMPLIANCE_CODES:
        return None
    if finding.code == "compliance":
        head = finding.message.split(":", 1)[0].strip()
        return head if head in boundaries else "compliance"
    return finding.code


def compliance(records: list[ConversationRecord], catalog: Catalog) -> Compliance:
    boundaries = {b.id for b in catalog.advisor.compliance_boundaries}
    sent: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    replies = 0
    for r in records:
        for t in r.advisor_turns:
            keys = [compliance_key(f, boundaries) for f in (t.critic.findings if t.critic else [])]
            keys = [k for k in keys if k]
            sent.update(keys)
            replies += bool(keys)
            for d in t.rejected_drafts:
                rejected.update(
                    k for k in (compliance_key(f, boundaries) for f in d.verdict.findings) if k
                )
    keys = sorted(set(sent) | set(rejected), key=lambda k: (-(sent[k] + rejected[k]), k))
    return Compliance(
        codes=list(COMPLIANCE_CODES),
        findings={k: ComplianceCount(sent=sent[k], rejected=rejected[k]) for k in keys},
        sent_replies_with_findings=replies,
    )


def cost(records: list[ConversationRecord]) -> Cost:
    """Model cost from provenance and reported usage; free backends cost exactly 0."""
    rows: Counter[tuple[str, str, str | None]] = Counter()
    tokens: Counter[str] = Counter()
    total = 0.0
    unpriced = 0
    for r in records:
        paid = False
        for role, info in r.provenance.backends.items():
            rows[(role, info.backend, info.model)] += 1
            paid |= info.backend not in FREE_BACKENDS
        for key, value in r.quality.scores.items():
            if key.startswith("tokens_") or key.endswith("_tokens") or key == "model_calls":
                tokens[key] += value
        if "cost_usd" in r.quality.scores:
            total += r.quality.scores["cost_usd"]
        elif paid:
            unpriced += 1
    return Cost(
        rows=[
            CostRow(
                role=role,
                backend=backend,
                model=model,
                conversations=n,
                free=backend in FREE_BACKENDS,
            )
            for (role, backend, model), n in sorted(
                rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
            )
        ],
        tokens=dict(sorted(tokens.items())),
        cost_usd=round(total, 6),
        unpriced_conversations=unpriced,
    )
