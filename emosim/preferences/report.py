"""Preference review in `emosim report`: what reviewers judged, and how far they agree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field

from emosim.labels.store import LabelStore
from emosim.schemas.common import StrictModel

from .agreement import Agreement, krippendorff_alpha, ranking_agreement
from .events import judgements_by_target, preference_events
from .human import load_human_preferences


class AgreementFigure(StrictModel):
    task: str = Field(description="What was judged.")
    level: str = Field(description="Krippendorff level of measurement used.")
    alpha: float | None = Field(description="Krippendorff's alpha (None: undefined).")
    units: int = Field(ge=0, description="Units judged by two or more reviewers.")
    reviewers: int = Field(ge=0)
    judgements: int = Field(ge=0)


def _figure(task: str, a: Agreement) -> AgreementFigure:
    return AgreementFigure(
        task=task,
        level=a.level,
        alpha=None if a.alpha is None else round(a.alpha, 4),
        units=a.units,
        reviewers=a.reviewers,
        judgements=a.judgements,
    )


class PreferenceReview(StrictModel):
    """Rankings of candidate replies and conversation-level authenticity judgements."""

    candidate_sets: int = Field(ge=0, description="Candidate sets of the reported records.")
    ranked_sets: int = Field(ge=0, description="Of those, sets at least one reviewer ranked.")
    rankings: int = Field(ge=0, description="Rankings (one per reviewer and set).")
    preference_pairs: int = Field(
        ge=0, description="Candidate pairs the aggregated rankings order (margin > 0)."
    )
    original_ranked_first: int = Field(
        ge=0, description="Ranked sets whose best-scored candidate is the reply that was sent."
    )
    reviewed_conversations: int = Field(ge=0, description="Conversations with a verdict.")
    verdicts: dict[str, int] = Field(default_factory=dict, description="accept/reject counts.")
    mean_scores: dict[str, float] = Field(
        default_factory=dict, description="Mean 1-5 score per scale, over all judgements."
    )
    agreement: list[AgreementFigure] = Field(
        default_factory=list, description="Krippendorff's alpha per task."
    )

    @property
    def empty(self) -> bool:
        return not (self.ranked_sets or self.reviewed_conversations or self.candidate_sets)


def preference_review(
    record_files: Iterable[Path], stores: Iterable[Path], contexts: dict[str, list[str]]
) -> PreferenceReview | None:
    """None when the records have no candidate sets and no preference judgements."""
    files, stores = list(record_files), list(stores)
    human = load_human_preferences(files, stores, contexts)
    events = []
    for path in stores:
        with LabelStore.open(path) as store:
            events += [e for e in preference_events(store) if e.target.conversation_id in contexts]
    from .human import candidate_files
    from .store import load_candidate_sets

    sets = [
        s
        for path in candidate_files(files)
        for s in load_candidate_sets(path)
        if s.conversation_id in contexts
    ]
    verdicts = judgements_by_target(events, "conversation_verdict")
    if not sets and not human.turns and not verdicts:
        return None
    ranked = list(human.turns.values())
    figures = [
        _figure(
            "ranking (places 1..n)",
            ranking_agreement((t.item.key, t.fit.rankings) for t in ranked),
        )
    ]
    figures.append(_figure("verdict (accept/reject)", krippendorff_alpha(verdicts, "nominal")))
    means: dict[str, float] = {}
    for name in ("emotional_authenticity", "helpfulness"):
        scores = judgements_by_target(events, name)
        figures.append(
            _figure(
                f"{name.replace('_', ' ')} (1-5)",
                krippendorff_alpha(scores, "ordinal", range(1, 6)),
            )
        )
        values = [v for by in scores.values() for v in by.values()]
        if values:
            means[name] = round(sum(values) / len(values), 3)
    counts = Counter(v for by in verdicts.values() for v in by.values())
    return PreferenceReview(
        candidate_sets=len(sets),
        ranked_sets=len(ranked),
        rankings=sum(t.fit.reviewers for t in ranked),
        preference_pairs=sum(len(t.pairs(None, None)) for t in ranked),
        original_ranked_first=sum(
            1 for t in ranked if t.fit.scores[0].candidate_id == t.item.original.candidate_id
        ),
        reviewed_conversations=len(verdicts),
        verdicts=dict(sorted(counts.items())),
        mean_scores=means,
        agreement=figures,
    )
