"""Human preferences for the exports: each ranked candidate set, fitted, as pairs and labels.

For every advisor turn whose candidate set reviewers ranked (`candidate_ranking` events in
the label store beside the records, or `--labels`), the rankings are aggregated
(`aggregate.py`) and the set's agreement measured (`agreement.py`). A pair is two candidates
the model orders, the better-scored one chosen; its `margin` is the score difference (the
model's log-odds that the chosen reply is preferred), its `agreement` the set's Krippendorff's
alpha (None with one reviewer), its `support` the share of reviewers who put chosen above
rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from emosim.labels.store import LabelStore

from .aggregate import CandidateScore, PairPreference, SetAggregate, aggregate_rankings
from .agreement import ranking_agreement
from .events import judgements_by_target, preference_events
from .models import CANDIDATES_DIR, CANDIDATES_FILE, Candidate, CandidateSet
from .store import load_candidate_sets


@dataclass(frozen=True)
class HumanPair:
    chosen: Candidate
    rejected: Candidate
    preference: PairPreference
    agreement: float | None


@dataclass(frozen=True)
class RankedTurn:
    """A candidate set with its reviewers' rankings, fitted."""

    item: CandidateSet
    fit: SetAggregate
    agreement: float | None

    def pairs(self, min_agreement: float | None, min_margin: float | None) -> list[HumanPair]:
        if not self.passes(min_agreement):
            return []
        out = []
        for p in self.fit.pairs():
            if p.margin <= 0 or (min_margin is not None and p.margin < min_margin):
                continue
            chosen, rejected = self.item.candidate(p.chosen), self.item.candidate(p.rejected)
            assert chosen is not None and rejected is not None
            out.append(HumanPair(chosen, rejected, p, self.agreement))
        return out

    def passes(self, min_agreement: float | None) -> bool:
        if min_agreement is None:
            return True
        return self.agreement is not None and self.agreement >= min_agreement

    def labelled(
        self, min_agreement: float | None, min_margin: float | None
    ) -> list[tuple[Candidate, CandidateScore, bool]]:
        """KTO: above the set's average score desirable, below undesirable; --min-margin keeps
        candidates at least that far from the average."""
        if not self.passes(min_agreement):
            return []
        out = []
        for s in self.fit.scores:
            if s.score == 0 or (min_margin is not None and abs(s.score) < min_margin):
                continue
            candidate = self.item.candidate(s.candidate_id)
            assert candidate is not None
            out.append((candidate, s, s.score > 0))
        return out


@dataclass
class HumanPreferences:
    turns: dict[tuple[str, int], RankedTurn] = field(default_factory=dict)
    candidate_files: list[str] = field(default_factory=list)
    stale_rankings: int = 0
    """Rankings naming candidates their set no longer has (the set was made again)."""
    unmatched_sets: int = 0
    """Ranked sets whose conversation so far differs from the record's (records changed)."""

    def for_record(self, record_id: str) -> dict[int, RankedTurn]:
        return {t: r for (cid, t), r in self.turns.items() if cid == record_id}


def candidate_files(record_files: Iterable[Path]) -> list[Path]:
    """RUN/candidates/candidates.jsonl beside each records file read, once each, if present."""
    found: dict[Path, None] = {}
    for file in record_files:
        folder = file if file.is_dir() else file.parent
        path = folder / CANDIDATES_DIR / CANDIDATES_FILE
        if path.is_file():
            found.setdefault(path, None)
    return list(found)


def load_human_preferences(
    record_files: Iterable[Path],
    stores: Iterable[Path],
    contexts: dict[str, list[str]],
) -> HumanPreferences:
    """`contexts`: record id -> its turn texts, to check each set belongs to the record read."""
    sets: dict[tuple[str, int], CandidateSet] = {}
    files = candidate_files(record_files)
    for path in files:
        for item in load_candidate_sets(path):
            if item.conversation_id in contexts:
                sets[item.key] = item
    out = HumanPreferences(candidate_files=[str(p) for p in files])
    if not sets:
        return out
    rankings: dict[tuple[str, int], dict[str, list[str]]] = {}
    for path in stores:
        with LabelStore.open(path) as store:
            for key, by_reviewer in judgements_by_target(
                preference_events(store), "candidate_ranking"
            ).items():
                slot = (key.conversation_id, key.turn_index or 0)
                if slot in sets:
                    rankings.setdefault(slot, {}).update(by_reviewer)
    for slot, by_reviewer in sorted(rankings.items()):
        item = sets[slot]
        texts = contexts[item.conversation_id][: item.turn_index]
        if [t.text for t in item.context] != texts:
            out.unmatched_sets += 1
            continue
        ids = {c.candidate_id for c in item.candidates}
        usable = {r: v for r, v in by_reviewer.items() if set(v) <= ids}
        out.stale_rankings += len(by_reviewer) - len(usable)
        if not usable:
            continue
        fit = aggregate_rankings([c.candidate_id for c in item.candidates], usable)
        alpha = ranking_agreement([(slot, usable)]).alpha
        out.turns[slot] = RankedTurn(item, fit, alpha)
    return out
