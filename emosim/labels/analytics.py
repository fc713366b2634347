"""Mining the label history: corrections, the phrases behind them, agreement, proposed rules.

An *observation* is one source kind's label on one target. It is *reviewed* when a kind
ranked above it acted on the target, and *corrected* when the resolved label then comes
from a higher kind and differs (or every value was rejected). Proposed rules come from
corrections made by humans (live operators, bulk review) of the model's labels.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

from pydantic import Field
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.metrics import cohen_kappa_score

from emosim.schemas.common import StrictModel

from .policy import HUMAN_KINDS, ResolutionPolicy
from .resolve import Candidate, Resolution, comparable, resolve_events
from .rules import Rule, RuleWhen
from .store import LabelStore
from .targets import ConversationInfo, TargetKey

TEXT_FIELDS = ("emotion", "secondary_emotion", "intensity", "strategy", "sentence_function")


class AnalyticsOptions(StrictModel):
    min_support: int = Field(default=3, ge=1, description="Fewest corrections behind a finding.")
    min_rate: float = Field(
        default=0.8, ge=0, le=1, description="Least share of reviewed labels corrected for a rule."
    )
    min_lift: float = Field(default=1.5, ge=1, description="Least lift for a phrase to count.")
    max_ngram: int = Field(default=3, ge=1, le=5, description="Longest phrase in words.")
    top_phrases: int = Field(default=10, ge=1, description="Phrases kept per correction.")


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


class PhraseRow(StrictModel):
    kind: str = Field(description="Kind whose label was corrected.")
    field: str = Field(description="Label field.")
    from_label: Any = Field(description="Corrected label.")
    to_label: Any = Field(description="Label it was corrected to.")
    phrase: str = Field(description="n-gram in the labelled text.")
    support: int = Field(description="Corrections whose text has the phrase.")
    present: int = Field(description="Reviewed from_label texts with the phrase.")
    precision: float = Field(description="support / present.")
    lift: float = Field(description="precision / base rate of this correction.")


class AgreementRow(StrictModel):
    field: str = Field(description="Label field.")
    kind_a: str = Field(description="First source kind.")
    kind_b: str = Field(description="Second source kind.")
    n: int = Field(description="Targets both labelled.")
    agreement: float = Field(description="Share of those with the same label.")
    kappa: float | None = Field(description="Cohen's kappa (None when undefined).")


class Evidence(StrictModel):
    corrections: int = Field(description="Human corrections the rule reproduces.")
    reviewed: int = Field(description="Reviewed model labels in the rule's scope.")
    precision: float = Field(description="corrections / reviewed.")
    by: list[str] = Field(description="Source names that made the corrections.")


class ProposedRule(StrictModel):
    id: str = Field(description="Proposal id for `emosim labels accept-rule`.")
    rule: Rule = Field(description="The rule that would go into rules.yaml.")
    evidence: Evidence = Field(description="What the rule is learned from.")
    accepted: bool = Field(description="Whether rules.yaml already has it.")


class AnalyticsReport(StrictModel):
    options: AnalyticsOptions = Field(description="Thresholds used.")
    events: int = Field(description="Label events read.")
    targets: int = Field(description="Targets with at least one event.")
    sources: list[SourceStats] = Field(description="Per source kind.")
    corrections: list[CorrectionRow] = Field(description="Corrections per context.")
    confusion: list[ConfusionCell] = Field(description="Reviewed pairs, agreements included.")
    phrases: list[PhraseRow] = Field(description="Phrases most associated with a correction.")
    agreement: list[AgreementRow] = Field(description="Agreement between source kinds.")
    proposed_rules: list[ProposedRule] = Field(description="Rules from consistent corrections.")


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


def _vectorizer(max_ngram: int) -> CountVectorizer:
    return CountVectorizer(
        ngram_range=(1, max_ngram),
        binary=True,
        lowercase=True,
        token_pattern=r"(?u)\b\w[\w']*\b",
    )


def _informative(phrase: str) -> bool:
    words = phrase.split()
    return any(w not in ENGLISH_STOP_WORDS and not w.isdigit() for w in words)


@dataclass
class _PhraseStats:
    row: PhraseRow
    hits: frozenset[int]  # indexes (into the population) of corrections with the phrase


def _phrases(
    population: list[Observation], hit: list[bool], head: tuple, options: AnalyticsOptions
) -> list[_PhraseStats]:
    base = sum(hit) / len(population)
    if base == 0 or base == 1:
        return []
    texts = [o.info.text_of(o.key) for o in population]
    vectorizer = _vectorizer(options.max_ngram)
    try:
        matrix = vectorizer.fit_transform(texts).tocsc()
    except ValueError:  # empty vocabulary
        return []
    names = vectorizer.get_feature_names_out()
    hit_idx = {i for i, h in enumerate(hit) if h}
    found: list[_PhraseStats] = []
    for column, phrase in enumerate(names):
        rows = matrix.indices[matrix.indptr[column] : matrix.indptr[column + 1]]
        present = len(rows)
        hits = frozenset(int(r) for r in rows if r in hit_idx)
        support = len(hits)
        if support < options.min_support or not _informative(phrase):
            continue
        precision = support / present
        lift = precision / base
        if lift < options.min_lift:
            continue
        kind, field_name, said, to = head
        found.append(
            _PhraseStats(
                PhraseRow(
                    kind=kind,
                    field=field_name,
                    from_label=said,
                    to_label=to,
                    phrase=phrase,
                    support=support,
                    present=present,
                    precision=round(precision, 3),
                    lift=round(lift, 3),
                ),
                hits,
            )
        )
    found.sort(key=_phrase_rank)
    kept: list[_PhraseStats] = []
    for p in found:
        if not any(_subsumes(k, p) for k in kept):
            kept.append(p)
    return kept


def _phrase_rank(p: _PhraseStats) -> tuple:
    """Higher lift, more support, then phrases that neither start nor end on a stop word."""
    words = p.row.phrase.split()
    ragged = (words[0] in ENGLISH_STOP_WORDS) + (words[-1] in ENGLISH_STOP_WORDS)
    return (-p.row.lift, -p.row.support, ragged, -len(words), p.row.phrase)


def _subsumes(kept: _PhraseStats, other: _PhraseStats) -> bool:
    """`other` says nothing new: its corrections are kept's, no more precisely, same words."""
    shared = set(kept.row.phrase.split()) & set(other.row.phrase.split())
    return (
        other.hits <= kept.hits
        and other.row.precision <= kept.row.precision
        and any(w not in ENGLISH_STOP_WORDS for w in shared)
    )


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


# --- proposed rules ------------------------------------------------------------------------

Scope = tuple[Literal["any", "topic", "subcategory"], str]


def _rule_id(field_name: str, said: Any, to: Any, scope: Scope, phrase: str | None) -> str:
    where = scope[1] if scope[0] != "any" else "any"
    name = f"{field_name}_{said}_to_{to}_in_{where}"
    if phrase:
        name += "_" + hashlib.sha256(phrase.encode()).hexdigest()[:6]
    name = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return name[:64]


def _proposal(
    field_name: str,
    said: Any,
    to: Any,
    scope: Scope,
    phrase: str | None,
    corrections: list[Observation],
    reviewed: int,
    topic_of: dict[str, str],
) -> ProposedRule:
    when = RuleWhen(model_label=said)
    if scope[0] == "topic":
        when.topic = [scope[1]]
    elif scope[0] == "subcategory":
        when.topic = [topic_of[scope[1]]]
        when.subcategory = [scope[1]]
    precision = len(corrections) / reviewed
    rule = Rule(
        id=_rule_id(field_name, said, to, scope, phrase),
        description=(
            f"{len(corrections)} of {reviewed} reviewed '{said}' labels"
            + (f" in {scope[1]}" if scope[0] != "any" else "")
            + (f" containing '{phrase}'" if phrase else "")
            + f" were corrected to '{to}' by people"
        ),
        pattern=rf"\b{re.escape(phrase)}\b" if phrase else None,
        when=when,
        field=field_name,  # type: ignore[arg-type]
        label=to,
        confidence=round(precision, 2),
        origin="proposed by emosim labels analytics",
    )
    digest = hashlib.sha256(rule.model_dump_json(exclude={"description"}).encode()).hexdigest()
    return ProposedRule(
        id=f"P{digest[:8]}",
        rule=rule,
        evidence=Evidence(
            corrections=len(corrections),
            reviewed=reviewed,
            precision=round(precision, 3),
            by=sorted({n for o in corrections for n in o.by_names}),
        ),
        accepted=False,
    )


def _propose(
    obs: list[Observation],
    policy: ResolutionPolicy,
    options: AnalyticsOptions,
    phrase_stats: dict[tuple, tuple[list[Observation], list[_PhraseStats]]],
) -> list[ProposedRule]:
    """Context rules at the widest scope the evidence supports, then phrase rules for the rest.

    A sub-category qualifies when at least `min_rate` of its reviewed `from` labels were
    corrected to the same label. A rule widens to a topic only when two or more of its
    sub-categories have `from` labels and all of them qualify, and to any context only when
    two or more topics do: one context's evidence never speaks for another, and a
    sub-category with `from` labels but no review blocks widening (nobody has looked there).
    """
    below = set(policy.kinds_below("rule"))
    proposals: list[ProposedRule] = []
    topic_of = {o.info.subcategory: o.info.topic for o in obs}
    model_obs = [o for o in obs if o.kind in below]
    heads = {
        (o.key.field, repr(o.said), repr(o.to))
        for o in model_obs
        if o.corrected and o.by in HUMAN_KINDS and o.to is not None
    }
    for field_name, said_r, to_r in sorted(heads):
        scope_obs = [o for o in model_obs if o.key.field == field_name and repr(o.said) == said_r]
        said, to = scope_obs[0].said, next(o.to for o in scope_obs if repr(o.to) == to_r)

        def is_hit(o: Observation, to_r: str = to_r) -> bool:
            return o.corrected and o.by in HUMAN_KINDS and repr(o.to) == to_r

        per_sub: dict[str, list[Observation]] = defaultdict(list)
        for o in scope_obs:
            per_sub[o.info.subcategory].append(o)

        def qualifies(items: list[Observation]) -> bool:
            reviewed = [o for o in items if o.reviewed]
            return bool(reviewed) and sum(map(is_hit, reviewed)) / len(reviewed) >= options.min_rate

        sub_ok = {s: qualifies(items) for s, items in per_sub.items()}
        topics: dict[str, list[str]] = defaultdict(list)
        for s in per_sub:
            topics[topic_of[s]].append(s)
        topic_ok = {
            t: len(subs) >= 2 and all(sub_ok[s] for s in subs) for t, subs in topics.items()
        }
        scopes: list[tuple[Scope, list[Observation]]] = []
        if len(topics) >= 2 and all(topic_ok.values()):
            scopes.append((("any", ""), scope_obs))
        else:
            for t, subs in sorted(topics.items()):
                if topic_ok[t]:
                    scopes.append((("topic", t), [o for s in subs for o in per_sub[s]]))
                else:
                    scopes.extend(
                        (("subcategory", s), per_sub[s]) for s in sorted(subs) if sub_ok[s]
                    )
        covered: set[int] = set()
        for scope, items in scopes:
            hits = [o for o in items if o.reviewed and is_hit(o)]
            if len(hits) < options.min_support:
                continue
            reviewed = sum(o.reviewed for o in items)
            proposals.append(_proposal(field_name, said, to, scope, None, hits, reviewed, topic_of))
            covered.update(id(o) for o in hits)
        for kind in sorted({o.kind for o in scope_obs}):
            population, stats = phrase_stats.get((kind, field_name, said_r, to_r), ([], []))
            for p in stats:
                if p.row.precision < options.min_rate:
                    continue
                fresh = [population[i] for i in sorted(p.hits) if id(population[i]) not in covered]
                if len(fresh) < options.min_support:
                    continue
                hits = [population[i] for i in sorted(p.hits)]
                proposals.append(
                    _proposal(
                        field_name,
                        said,
                        to,
                        ("any", ""),
                        p.row.phrase,
                        hits,
                        p.row.present,
                        topic_of,
                    )
                )
                covered.update(id(o) for o in hits)
    return proposals


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
    obs = observations(resolutions, store.conversations(), policy)
    corrections, confusion = _corrections(obs)
    phrase_rows: list[PhraseRow] = []
    phrase_stats: dict[tuple, tuple[list[Observation], list[_PhraseStats]]] = {}
    heads = {(o.kind, o.key.field, repr(o.said), repr(o.to)) for o in obs if o.corrected}
    for kind, field_name, said_r, to_r in sorted(heads):
        population = [
            o
            for o in obs
            if o.reviewed
            and o.kind == kind
            and o.key.field == field_name
            and repr(o.said) == said_r
        ]
        hit = [o.corrected and repr(o.to) == to_r for o in population]
        if sum(hit) < options.min_support:
            continue
        said = population[0].said
        to = next(o.to for o, h in zip(population, hit, strict=True) if h)
        stats = _phrases(population, hit, (kind, field_name, said, to), options)
        phrase_stats[(kind, field_name, said_r, to_r)] = (population, stats)
        phrase_rows.extend(p.row for p in stats[: options.top_phrases])
    proposals = _propose(obs, policy, options, phrase_stats)
    accepted = accepted_rule_ids or set()
    for p in proposals:
        p.accepted = p.rule.id in accepted
    return AnalyticsReport(
        options=options,
        events=len(events),
        targets=len(resolutions),
        sources=_source_stats(obs, policy),
        corrections=corrections,
        confusion=confusion,
        phrases=phrase_rows,
        agreement=_agreement(resolutions, policy),
        proposed_rules=proposals,
    )
