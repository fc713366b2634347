"""Mining the label history: corrections, the phrases behind them, agreement, proposed rules.

An *observation* is one source kind's label on one target. It is *reviewed* when a kind
ranked above it acted on the target, and *corrected* when the resolved label then comes
from a higher kind and differs (or every value was rejected). Which phrases in which
contexts go with people's corrections of the model, and the rules proposed from them, are
in `proposals.py`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from pydantic import Field
from sklearn.metrics import cohen_kappa_score

from emosim.schemas.common import StrictModel

from .checks import key_of
from .policy import HUMAN_KINDS, ResolutionPolicy
from .proposals import (
    TEXT_FIELDS,
    AnalyticsOptions,
    Evidence,
    Item,
    Mining,
    NotProposed,
    PhraseFinding,
    ProposedRule,
    mine,
    population,
)
from .resolve import Candidate, Resolution, comparable, resolve_events
from .store import LabelStore
from .targets import ConversationInfo, TargetKey

__all__ = ["AnalyticsOptions", "AnalyticsReport", "Evidence", "ProposedRule", "analyze"]


class SourceStats(StrictModel):
    kind: str = Field(description="Source kind.")
    labelled: int = Field(description="Targets this kind labelled.")
    reviewed: int = Field(description="Of those, targets a higher-ranked kind acted on.")
    corrected: int = Field(description="Reviewed targets whose resolved label differs.")
    correction_rate: float | None = Field(description="corrected / reviewed.")


class CorrectionRow(StrictModel):
    kind: str = Field(description="Kind whose label was corrected.")
    field: str = Field(description="Label field.")
    topic: str = Field(description="Topic of the conversations.")
    subcategory: str = Field(description="Sub-category of the conversations.")
    from_label: Any = Field(description="What the corrected kind said.")
    to_label: Any = Field(description="Resolved label (None: rejected, no replacement).")
    by: str = Field(description="Kind whose decision won.")
    count: int = Field(description="Corrections.")
    reviewed: int = Field(description="Reviewed labels of from_label in the same context.")
    rate: float = Field(description="count / reviewed.")


class ConfusionCell(StrictModel):
    kind: str = Field(description="Kind whose label is compared.")
    field: str = Field(description="Label field.")
    topic: str = Field(description="Topic.")
    subcategory: str = Field(description="Sub-category.")
    from_label: Any = Field(description="What the kind said.")
    to_label: Any = Field(description="Resolved label after review.")
    count: int = Field(description="Reviewed targets with this pair.")


class AgreementRow(StrictModel):
    field: str = Field(description="Label field.")
    kind_a: str = Field(description="First source kind.")
    kind_b: str = Field(description="Second source kind.")
    n: int = Field(description="Targets both labelled.")
    agreement: float = Field(description="Share of those with the same label.")
    kappa: float | None = Field(description="Cohen's kappa (None when undefined).")


class AnalyticsReport(StrictModel):
    options: AnalyticsOptions = Field(description="Thresholds used.")
    events: int = Field(description="Label events read.")
    targets: int = Field(description="Targets with at least one event.")
    sources: list[SourceStats] = Field(description="Per source kind.")
    corrections: list[CorrectionRow] = Field(description="Corrections per context.")
    confusion: list[ConfusionCell] = Field(description="Reviewed pairs, agreements included.")
    phrases: list[PhraseFinding] = Field(
        description="Phrase x context findings, proposed first (at most `options.top`)."
    )
    agreement: list[AgreementRow] = Field(description="Agreement between source kinds.")
    proposed_rules: list[ProposedRule] = Field(
        description="Rules from phrase x context findings, best first."
    )
    not_proposed: list[NotProposed] = Field(
        description="Each human correction of the model with no rule, and why."
    )
    tests: int = Field(description="Phrase x context hypotheses looked at (the BH family).")
    summary: str = Field(description="One sentence: what was proposed or why nothing was.")


@dataclass
class Observation:
    kind: str
    key: TargetKey
    info: ConversationInfo
    said: Any
    to: Any
    by: str | None
    by_names: frozenset[str]
    reviewed: bool
    corrected: bool

    @property
    def context(self) -> tuple[str, str]:
        return (self.info.topic, self.info.subcategory)


def said_by_kind(resolution: Resolution, policy: ResolutionPolicy) -> dict[str, Candidate]:
    """What each kind said, rejected values included (a rejection does not unsay a label)."""
    out: dict[str, Candidate] = {}
    pool = resolution.candidates + resolution.rejected
    for kind in policy.priority:
        mine = [c for c in pool if c.kind == kind]
        if mine:
            out[kind] = max(mine, key=lambda c: c.order)
    return out


def observations(
    resolutions: dict[TargetKey, Resolution],
    infos: dict[str, ConversationInfo],
    policy: ResolutionPolicy,
) -> list[Observation]:
    out: list[Observation] = []
    for key, res in resolutions.items():
        info = infos.get(key.conversation_id)
        if info is None or key.field not in TEXT_FIELDS:
            continue
        winner = res.winner
        for kind, cand in said_by_kind(res, policy).items():
            above = set(policy.kinds_above(kind))
            reviewed = bool(above & res.decided_by)
            won_above = winner is not None and winner.kind in above
            differs = won_above and comparable(key.field, winner.value) != comparable(
                key.field, cand.value
            )
            corrected = reviewed and (differs or winner is None)
            if winner is not None:
                by, names = winner.kind, frozenset({winner.event.source.name})
            else:
                rejecters = [c for c in res.rejected if c.kind == kind]
                deciders = [k for k in policy.priority if k in above & res.decided_by]
                by = deciders[0] if rejecters and deciders else None
                names = frozenset()
            out.append(
                Observation(
                    kind,
                    key,
                    info,
                    cand.value,
                    winner.value if winner else None,
                    by,
                    names,
                    reviewed,
                    corrected,
                )
            )
    return out


def _label(value: Any) -> str:
    return "∅" if value is None else str(value)


def _source_stats(obs: list[Observation], policy: ResolutionPolicy) -> list[SourceStats]:
    rows = []
    for kind in policy.priority:
        mine = [o for o in obs if o.kind == kind]
        if not mine:
            continue
        reviewed = sum(o.reviewed for o in mine)
        corrected = sum(o.corrected for o in mine)
        rows.append(
            SourceStats(
                kind=kind,
                labelled=len(mine),
                reviewed=reviewed,
                corrected=corrected,
                correction_rate=round(corrected / reviewed, 3) if reviewed else None,
            )
        )
    return rows


def _corrections(obs: list[Observation]) -> tuple[list[CorrectionRow], list[ConfusionCell]]:
    reviewed: Counter = Counter()
    pairs: Counter = Counter()
    confusion: Counter = Counter()
    for o in obs:
        if not o.reviewed:
            continue
        group = (o.kind, o.key.field, *o.context, repr(o.said))
        reviewed[group] += 1
        confusion[(o.kind, o.key.field, *o.context, _label(o.said), _label(o.to))] += 1
        if o.corrected:
            pairs[(group, o.said, o.to, o.by)] += 1
    rows = [
        CorrectionRow(
            kind=g[0],
            field=g[1],
            topic=g[2],
            subcategory=g[3],
            from_label=said,
            to_label=to,
            by=by or "",
            count=n,
            reviewed=reviewed[g],
            rate=round(n / reviewed[g], 3),
        )
        for (g, said, to, by), n in pairs.items()
    ]
    rows.sort(key=lambda r: (-r.count, r.kind, r.field, r.topic, r.subcategory))
    cells = [
        ConfusionCell(
            kind=k[0],
            field=k[1],
            topic=k[2],
            subcategory=k[3],
            from_label=k[4],
            to_label=k[5],
            count=n,
        )
        for k, n in sorted(confusion.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return rows, cells


def _agreement(
    resolutions: dict[TargetKey, Resolution], policy: ResolutionPolicy
) -> list[AgreementRow]:
    pairs: dict[tuple[str, str, str], tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for key, res in resolutions.items():
        said = said_by_kind(res, policy)
        for a, b in combinations([k for k in policy.priority if k in said], 2):
            left, right = pairs[(key.field, a, b)]
            left.append(repr(comparable(key.field, said[a].value)))
            right.append(repr(comparable(key.field, said[b].value)))
    rows = []
    for (field_name, a, b), (left, right) in sorted(pairs.items()):
        agree = sum(x == y for x, y in zip(left, right, strict=True)) / len(left)
        kappa: float | None = None
        if len(set(left) | set(right)) > 1:
            value = float(cohen_kappa_score(left, right))
            kappa = None if math.isnan(value) else round(value, 3)
        rows.append(
            AgreementRow(
                field=field_name,
                kind_a=a,
                kind_b=b,
                n=len(left),
                agreement=round(agree, 3),
                kappa=kappa,
            )
        )
    return rows


def analyze(
    store: LabelStore,
    policy: ResolutionPolicy | None = None,
    options: AnalyticsOptions | None = None,
    accepted_rule_ids: set[str] | None = None,
) -> AnalyticsReport:
    policy = policy or ResolutionPolicy()
    options = options or AnalyticsOptions()
    events = store.events()
    resolutions = resolve_events(events, policy)
    below = set(policy.kinds_below("rule"))
    reviewed = {k for k, r in resolutions.items() if HUMAN_KINDS & r.decided_by}
    mine_events = [e for e in events if e.source.kind in below]
    model_keys = {key_of(e) for e in mine_events}
    base = resolve_events((e for e in mine_events if key_of(e) in reviewed), policy)
    infos = store.conversations()
    obs = observations(resolutions, infos, policy)
    corrections, confusion = _corrections(obs)
    items = population(resolutions, base, infos)
    mined = mine(items, base, infos, options, model_keys)
    accepted = accepted_rule_ids or set()
    for p in mined.proposals:
        p.accepted = p.rule.id in accepted
    return AnalyticsReport(
        options=options,
        events=len(events),
        targets=len(resolutions),
        sources=_source_stats(obs, policy),
        corrections=corrections,
        confusion=confusion,
        phrases=mined.findings,
        agreement=_agreement(resolutions, policy),
        proposed_rules=mined.proposals,
        not_proposed=mined.not_proposed,
        tests=mined.tests,
        summary=_summary(len(events), items, mined),
    )


def _summary(events: int, items: list[Item], mined: Mining) -> str:
    corrected = sum(i.to is not None for i in items)
    if mined.proposals:
        return (
            f"{len(mined.proposals)} rule(s) proposed from {corrected} human correction(s) of "
            f"the model in {len(items)} reviewed label(s); {mined.tests} phrase x context "
            "hypotheses tested."
        )
    if not items:
        return f"No rule: no label the model gave was reviewed by a person ({events} events)."
    if not corrected:
        return f"No rule: people reviewed {len(items)} model label(s) and corrected none."
    return (
        f"No rule: {corrected} human correction(s) in {len(items)} reviewed model label(s), "
        "but none qualifies (see 'Not proposed' for each correction and why)."
    )
