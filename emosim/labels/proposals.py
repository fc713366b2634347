"""Phrase x context findings in people's corrections of the model, and the rules they propose.

The question: where do people correct the model's label, and what in the text goes with it?
A *finding* is (correction, context, phrase): e.g. model 'confusion' -> 'overwhelm' in one
sub-category for turns containing "buried in forms". Contexts are a sub-category, a topic
(only when the corrections with the phrase come from two or more of its sub-categories) or
every context (only when they come from two or more topics), so a rule is never wider than
the corrections behind it; a rule always has a phrase (a whole sub-category is never
relabelled: that would change turns nobody reviewed on the strength of the ones they did).

The population of a correction is every human-reviewed target whose model label (what the
sources ranked below `rule` say, as a rule's `model_label` reads it) is the corrected label.
Each finding, with `a` of its `n` turns corrected to the same label, goes through these
checks; its `status` names the first it fails ('proposed' when it passes them all):

1. **Rate** - at least `min_support` corrections and a/n at least `min_rate` (0.5: the rule
   is right more often than the label it replaces).
2. **Significance** - one-sided Fisher's exact test of the finding's turns against the rest
   of the population, Benjamini-Hochberg at `fdr` over every (correction, context, phrase)
   looked at, including those with too few corrections to test (counted as p = 1).
3. **The phrase matters in its context** (template wording) - one-sided Fisher's exact test
   of the context's turns with the phrase against its turns without it, Benjamini-Hochberg
   at `alpha` over the findings that passed 1 and 2. A phrase that fails is the context's
   *template wording* when it is in at least `template_share` of the context's turns (of
   any label: frequent there regardless of the label), else *not specific to the phrase*;
   either way it rides on the context's correction rate, not its own. A phrase in every
   turn of its context has nothing to compare with and fails.
4. **Refinement** - a finding whose turns are a strict subset of a broader significant
   finding's must be significantly more precise than the broader one's other turns (Fisher,
   at `alpha` divided by the number of passing findings nested in the broader one): the
   luckiest subset of a pattern's turns (the phrase plus words that happen to follow it in
   a few of them) is not a pattern.
5. **Cover** - the findings left are ranked by the p-value of 2 (a broad, consistent finding
   beats a tiny perfect one: 28 of 40 against a 5% background gives p ~ 1e-27, 3 of 3 gives
   ~ 1e-3), then by the Wilson 95% lower bound of the rate. In that order, a finding is kept
   only if its turns that no kept finding covers still pass 1 and 2 on their own.
6. **Self-check** - the rule is built and matched with the code `apply-rules` uses; unless it
   matches exactly the turns it was learned from, it is not proposed.

Phrases are counted as runs of up to `max_ngram` words (see `phrases.py`: case,
punctuation and sentence breaks do not matter; a lone function word or number is not a
phrase), then grown to the longest run all of their turns share, which leaves their counts
(and rate) unchanged.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from emosim.schemas.common import StrictModel

from .phrases import Tokens, contains, extend, informative, ngrams, phrase_text, tokens
from .policy import HUMAN_KINDS
from .resolve import Resolution, comparable
from .rules import Rule, RuleWhen
from .stats import bh_cutoff, fisher_greater, wilson_lower
from .targets import ConversationInfo, TargetKey

TEXT_FIELDS = ("emotion", "secondary_emotion", "intensity", "strategy", "sentence_function")
ScopeKind = Literal["subcategory", "topic", "any"]
_NARROW = {"subcategory": 0, "topic": 1, "any": 2}


class AnalyticsOptions(StrictModel):
    min_support: int = Field(default=3, ge=1, description="Fewest corrections behind a rule.")
    min_rate: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Least share of a finding's reviewed model labels corrected to one label.",
    )
    fdr: float = Field(
        default=0.05, gt=0, le=1, description="False discovery rate (Benjamini-Hochberg)."
    )
    alpha: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="Level of the test that a phrase matters within its context.",
    )
    template_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of a context's turns from which a phrase that fails that test is "
        "called the context's template wording.",
    )
    max_ngram: int = Field(default=3, ge=1, le=6, description="Longest phrase counted, in words.")
    top: int = Field(default=20, ge=1, description="Phrase findings kept in the report.")


class PhraseFinding(StrictModel):
    field: str = Field(description="Label field.")
    from_label: Any = Field(description="The model's label.")
    to_label: Any = Field(description="What people corrected it to.")
    scope: ScopeKind = Field(description="Context kind: subcategory, topic or any.")
    topic: str | None = Field(default=None, description="Topic (subcategory and topic scopes).")
    subcategory: str | None = Field(default=None, description="Sub-category (its scope only).")
    phrase: str = Field(description="Words in order (case and punctuation ignored).")
    corrections: int = Field(
        description="Reviewed turns in the context with the phrase, corrected."
    )
    reviewed: int = Field(description="Reviewed turns in the context with the phrase.")
    rate: float = Field(description="corrections / reviewed.")
    rate_low: float = Field(description="Wilson 95% lower bound of the rate.")
    p_value: float = Field(description="Fisher's exact test against the rest of the population.")
    context_p: float = Field(description="Fisher's exact test: with vs without the phrase.")
    context_share: float | None = Field(
        default=None, description="Share of the context's turns (any label) with the phrase."
    )
    status: str = Field(description="proposed, or why not.")
    note: str = Field(default="", description="The numbers behind the status.")


class Evidence(StrictModel):
    corrections: int = Field(description="Human corrections the rule reproduces.")
    reviewed: int = Field(description="Reviewed model labels the rule matches.")
    precision: float = Field(description="corrections / reviewed.")
    rate_low: float = Field(default=0.0, description="Wilson 95% lower bound of precision.")
    p_value: float = Field(default=1.0, description="Discovery p-value (Fisher's exact).")
    by: list[str] = Field(description="Source names that made the corrections.")


class ProposedRule(StrictModel):
    id: str = Field(description="Proposal id for `emosim labels accept-rule`.")
    rule: Rule = Field(description="The rule that would go into rules.yaml.")
    evidence: Evidence = Field(description="What the rule is learned from.")
    accepted: bool = Field(description="Whether rules.yaml already has it.")


class NotProposed(StrictModel):
    field: str = Field(description="Label field.")
    from_label: Any = Field(description="The model's label.")
    to_label: Any = Field(description="What people corrected it to.")
    corrections: int = Field(description="Human corrections of from_label to to_label.")
    reason: str = Field(description="Why no rule is proposed, with the numbers.")


@dataclass
class Item:
    """One human-reviewed target and what its model observers said."""

    key: TargetKey
    info: ConversationInfo
    said: Any
    to: Any  # resolved label when a person changed it, else None
    by: str | None
    words: Tokens


@dataclass
class _Class:
    """Seeds of one (correction, context) that occur in exactly the same turns."""

    head: str
    scope: tuple[ScopeKind, str]
    present: frozenset[int]
    seeds: list[Tokens] = field(default_factory=list)


@dataclass
class Mining:
    findings: list[PhraseFinding]
    proposals: list[ProposedRule]
    not_proposed: list[NotProposed]
    tests: int
    cutoff: float


def population(
    resolutions: dict[TargetKey, Resolution],
    base: dict[TargetKey, Resolution],
    infos: dict[str, ConversationInfo],
) -> list[Item]:
    """Targets people decided on, with the model's label (what a rule's model_label reads)."""
    items = []
    for key, res in resolutions.items():
        info = infos.get(key.conversation_id)
        model = base.get(key)
        if info is None or key.field not in TEXT_FIELDS or model is None or model.winner is None:
            continue
        if not HUMAN_KINDS & res.decided_by:
            continue
        said = model.winner.value
        w = res.winner
        changed = (
            w is not None
            and w.kind in HUMAN_KINDS
            and comparable(key.field, w.value) != comparable(key.field, said)
        )
        items.append(
            Item(
                key,
                info,
                said,
                w.value if changed and w else None,
                w.event.source.name if changed and w else None,
                tokens(info.text_of(key)),
            )
        )
    return items


def _rid(value: Any, field_name: str) -> str:
    return repr(comparable(field_name, value))


def _scope_label(kind: ScopeKind, name: str) -> str:
    return {"subcategory": f"sub-category {name}", "topic": f"topic {name}"}.get(
        kind, "every context"
    )


class _Miner:
    def __init__(
        self,
        items: list[Item],
        base: dict[TargetKey, Resolution],
        infos: dict[str, ConversationInfo],
        options: AnalyticsOptions,
        model_keys: set[TargetKey],
    ):
        self.options = options
        self.base = base
        self.model_keys = model_keys
        self.infos = infos
        self.groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
        for item in items:
            self.groups[(item.key.field, _rid(item.said, item.key.field))].append(item)
        self._context_words: dict[tuple[str, ScopeKind, str], list[Tokens]] = {}

    def context_texts(self, field_name: str, kind: ScopeKind, name: str) -> list[Tokens]:
        """Words of every model-labelled target of the field in a context (any label)."""
        key = (field_name, kind, name)
        if key not in self._context_words:
            out = []
            for target in self.model_keys:
                if target.field != field_name:
                    continue
                info = self.infos.get(target.conversation_id)
                if info is None or not _in_scope(info, kind, name):
                    continue
                out.append(tokens(info.text_of(target)))
            self._context_words[key] = out
        return self._context_words[key]


def _in_scope(info: ConversationInfo, kind: ScopeKind, name: str) -> bool:
    if kind == "subcategory":
        return info.subcategory == name
    if kind == "topic":
        return info.topic == name
    return True


def mine(
    items: list[Item],
    base: dict[TargetKey, Resolution],
    infos: dict[str, ConversationInfo],
    options: AnalyticsOptions,
    model_keys: set[TargetKey],
) -> Mining:
    """`base`: the model's resolution of (at least) the items' targets; `model_keys`: every
    target the model labelled (the contexts' turns for the template-wording share)."""
    miner = _Miner(items, base, infos, options, model_keys)
    opt = options
    classes: dict[tuple, _Class] = {}
    tests = 0
    heads: dict[tuple[str, str], dict[str, set[int]]] = {}
    scopes_of: dict[tuple[str, str], dict[tuple[ScopeKind, str], set[int]]] = {}
    for gkey, group in sorted(miner.groups.items()):
        field_name = gkey[0]
        hits: dict[str, set[int]] = defaultdict(set)
        for i, item in enumerate(group):
            if item.to is not None:
                hits[_rid(item.to, field_name)].add(i)
        heads[gkey] = hits
        if not hits:
            continue
        grams = [ngrams(item.words, opt.max_ngram) for item in group]
        index: dict[Tokens, set[int]] = defaultdict(set)
        for i, gs in enumerate(grams):
            for g in gs:
                index[g].add(i)
        scopes: dict[tuple[ScopeKind, str], set[int]] = defaultdict(set)
        for i, item in enumerate(group):
            scopes[("subcategory", item.info.subcategory)].add(i)
            scopes[("topic", item.info.topic)].add(i)
            scopes[("any", "")].add(i)
        scopes_of[gkey] = scopes
        for head, hit_set in sorted(hits.items()):
            for scope, members in scopes.items():
                in_scope = hit_set & members
                if not in_scope:
                    continue
                counts: Counter[Tokens] = Counter()
                for i in in_scope:
                    counts.update(g for g in grams[i] if len(g) > 1 or informative(g))
                tests += len(counts)
                for g, support in counts.items():
                    if support < opt.min_support:
                        continue
                    present = frozenset(index[g] & members)
                    if not _wide_enough(scope[0], [group[i] for i in present & hit_set]):
                        continue
                    ck = (gkey, head, scope, present)
                    cls = classes.setdefault(ck, _Class(head, scope, present))
                    cls.seeds.append(g)
    p_values: list[float] = []
    stats: dict[tuple, tuple[int, int, float]] = {}
    context_ps: dict[tuple, float] = {}
    for ck, cls in classes.items():
        gkey, head, scope, present = ck
        group, hit_set = miner.groups[gkey], heads[gkey][head]
        a, n = len(present & hit_set), len(present)
        p = fisher_greater(a, n, len(hit_set), len(group))
        stats[ck] = (a, n, p)
        members = scopes_of[gkey][scope]
        context_ps[ck] = (
            p if scope[0] == "any" else fisher_greater(a, n, len(hit_set & members), len(members))
        )
        p_values.extend([p] * len(cls.seeds))
    cutoff = bh_cutoff(p_values, opt.fdr, tests)
    # the context test's family: findings that pass the rate and significance checks
    family = [
        context_ps[ck]
        for ck, (a, n, p) in stats.items()
        if ck[2][0] != "any" and a / n >= opt.min_rate and p <= cutoff
    ]
    context_cut = bh_cutoff(family, opt.alpha, len(family))
    ranked = sorted(
        classes,
        key=lambda ck: (
            stats[ck][2],
            -wilson_lower(stats[ck][0], stats[ck][1]),
            _NARROW[ck[2][0]],
            -max(len(s) for s in classes[ck].seeds),
        ),
    )
    findings: dict[tuple, PhraseFinding] = {}
    words_of: dict[tuple, Tokens] = {}

    def words(ck: tuple) -> Tokens:
        if ck not in words_of:
            group = miner.groups[ck[0]]
            seed = max(classes[ck].seeds, key=lambda s: (len(s), s))
            words_of[ck] = extend(seed, [group[i].words for i in ck[3]])
        return words_of[ck]

    for ck in ranked:
        findings[ck] = _judge(
            ck, stats[ck], context_ps[ck], classes[ck], miner, heads, scopes_of, words,
            (tests, cutoff, len(family), context_cut),
        )  # fmt: skip
    _refinements(ranked, findings, stats, heads, opt, cutoff)
    proposals: list[ProposedRule] = []
    covered: dict[tuple[str, str], set[int]] = defaultdict(set)
    for ck in ranked:
        if not findings[ck].status:
            gkey, head = ck[0], ck[1]
            findings[ck] = _cover_and_check(
                findings[ck], ck, miner.groups[gkey], heads[gkey][head], covered[gkey], words(ck),
                miner, proposals, opt, cutoff,
            )  # fmt: skip
    order = {ck: i for i, ck in enumerate(ranked)}
    shown = sorted(findings, key=lambda ck: (findings[ck].status != "proposed", order[ck]))
    out = []
    for ck in shown[: opt.top]:
        findings[ck].phrase = phrase_text(words(ck))
        out.append(findings[ck])
    best: dict[tuple, PhraseFinding] = {}
    for ck in ranked:
        if (ck[0], ck[1]) not in best:
            findings[ck].phrase = phrase_text(words(ck))
            best[(ck[0], ck[1])] = findings[ck]
    return Mining(out, proposals, _not_proposed(miner, heads, best, proposals, opt), tests, cutoff)


def _judge(
    ck: tuple,
    stat: tuple[int, int, float],
    context_p: float,
    cls: _Class,
    miner: _Miner,
    heads: dict[tuple[str, str], dict[str, set[int]]],
    scopes_of: dict[tuple[str, str], dict[tuple[ScopeKind, str], set[int]]],
    words: Any,
    cuts: tuple[int, float, int, float],
) -> PhraseFinding:
    """A finding with the status of checks 1-3 ('' when it passes them)."""
    tests, cutoff, family, context_cut = cuts
    opt = miner.options
    gkey, head, (kind, name), present = ck
    group, hit_set = miner.groups[gkey], heads[gkey][head]
    a, n, p = stat
    members = scopes_of[gkey][(kind, name)]
    hits_in = hit_set & members
    sample = group[next(iter(present))]
    finding = PhraseFinding(
        field=gkey[0],
        from_label=sample.said,
        to_label=next(group[i].to for i in sorted(present & hit_set)),
        scope=kind,
        topic=None if kind == "any" else (name if kind == "topic" else sample.info.topic),
        subcategory=name if kind == "subcategory" else None,
        phrase=phrase_text(max(cls.seeds, key=lambda s: (len(s), s))),
        corrections=a,
        reviewed=n,
        rate=round(a / n, 3),
        rate_low=round(wilson_lower(a, n), 3),
        p_value=float(f"{p:.3g}"),
        context_p=float(f"{context_p:.3g}"),
        status="",
    )
    where = _scope_label(kind, name)
    if a / n < opt.min_rate:
        finding.status = "rate below --min-rate"
        finding.note = f"{a}/{n} = {a / n:.0%} < {opt.min_rate:.0%}"
    elif p > cutoff:
        finding.status = "not significant"
        finding.note = (
            f"p = {p:.2g}; Benjamini-Hochberg at FDR {opt.fdr} over {tests} phrase x context "
            "tests " + (f"kept p <= {cutoff:.2g}" if cutoff >= 0 else "kept none")
        )
    elif kind != "any" and context_p > context_cut:
        phrase = words(ck)
        finding.phrase = phrase_text(phrase)
        texts = miner.context_texts(gkey[0], kind, name)
        share = sum(contains(t, phrase) for t in texts) / len(texts) if texts else 1.0
        finding.context_share = round(share, 3)
        without = len(members) - n
        compare = (
            f"turns without it {len(hits_in) - a}/{without} = {(len(hits_in) - a) / without:.0%}"
            if without
            else f"every reviewed turn in {where} has it, nothing to compare with"
        )
        finding.status = (
            "template wording" if share >= opt.template_share else "not specific to the phrase"
        )
        finding.note = (
            f"in {share:.0%} of {where}'s turns; with it {a}/{n} = {a / n:.0%} corrected, "
            f"{compare} (p = {context_p:.2g}; Benjamini-Hochberg at {opt.alpha} over the "
            f"{family} findings that pass the rate and significance checks "
            + (f"kept p <= {context_cut:.2g})" if context_cut >= 0 else "kept none)")
        )
    return finding


def _refinements(
    ranked: list[tuple],
    findings: dict[tuple, PhraseFinding],
    stats: dict[tuple, tuple[int, int, float]],
    heads: dict[tuple[str, str], dict[str, set[int]]],
    opt: AnalyticsOptions,
    cutoff: float,
) -> None:
    """A finding nested in a broader significant one (its turns a strict subset) must be
    significantly more precise than the broader one's other turns, at `alpha` divided by
    how many passing findings nest in the broader one: picking the luckiest subset of a
    pattern's turns is not a pattern (e.g. the phrase plus the words that happen to follow
    it in a few turns)."""
    passing = [ck for ck in ranked if not findings[ck].status]
    broader = [ck for ck in ranked if stats[ck][2] <= cutoff]
    nested: dict[tuple, int] = {}
    for ck in passing:
        a, n, _ = stats[ck]
        for b in broader:
            if b[:2] != ck[:2] or len(b[3]) <= n or not ck[3] < b[3]:
                continue
            if b not in nested:
                nested[b] = sum(1 for c in passing if c[:2] == b[:2] and c[3] < b[3])
            a_b, n_b, _ = stats[b]
            p = fisher_greater(a, n, a_b, n_b)
            if p >= opt.alpha / nested[b]:
                f, fb = findings[ck], findings[b]
                f.status = "refines a broader finding"
                f.note = (
                    f"its turns are among those of '{fb.phrase}' ({a_b}/{n_b}); {a}/{n} vs "
                    f"{a_b - a}/{n_b - n} for the others, p = {p:.2g} >= {opt.alpha}/{nested[b]}"
                )
                break


def _wide_enough(kind: ScopeKind, corrected: list[Item]) -> bool:
    """A topic-wide finding needs corrections from two sub-categories; any-context, two topics."""
    if kind == "topic":
        return len({i.info.subcategory for i in corrected}) >= 2
    if kind == "any":
        return len({i.info.topic for i in corrected}) >= 2
    return True


def _cover_and_check(
    finding: PhraseFinding,
    ck: tuple,
    group: list[Item],
    hit_set: set[int],
    done: set[int],
    words: Tokens,
    miner: _Miner,
    proposals: list[ProposedRule],
    opt: AnalyticsOptions,
    cutoff: float,
) -> PhraseFinding:
    present = ck[3]
    rest = present - done
    if done & present:
        a_r = len(rest & hit_set)
        n_r = len(rest)
        p_r = fisher_greater(a_r, n_r, len(hit_set - done), len(group) - len(done))
        if a_r < opt.min_support or (n_r and a_r / n_r < opt.min_rate) or p_r > cutoff:
            finding.status = "covered by a better rule"
            finding.note = (
                f"{len(present & done)} of its {len(present)} turns are a higher-ranked "
                f"rule's; the other {n_r} have {a_r} correction(s)"
                + (f" (p = {p_r:.2g})" if n_r else "")
            )
            return finding
    finding.phrase = phrase_text(words)
    rule = _rule(finding, words)
    matched = _matched(rule, group, miner)
    if matched != set(present):
        finding.status = "self-check failed"
        finding.note = (
            f"the rule matches {len(matched & present)} of the {len(present)} turns it was "
            f"learned from (and {len(matched - present)} others)"
        )
        return finding
    finding.status = "proposed"
    proposals.append(_proposal(rule, finding, [group[i] for i in sorted(present & hit_set)]))
    done.update(present)
    return finding


def _matched(rule: Rule, group: list[Item], miner: _Miner) -> set[int]:
    match = rule.matcher()
    out = set()
    for i, item in enumerate(group):
        model = miner.base.get(item.key)
        value = model.winner.value if model and model.winner else None
        if match(item.info, item.key, value):
            out.add(i)
    return out


def _rule(f: PhraseFinding, words: Tokens) -> Rule:
    when = RuleWhen(model_label=f.from_label)
    if f.scope == "topic":
        when.topic = [f.topic or ""]
    elif f.scope == "subcategory":
        when.topic = [f.topic or ""]
        when.subcategory = [f.subcategory or ""]
    where = {"any": "any", "topic": f.topic, "subcategory": f.subcategory}[f.scope]
    phrase = phrase_text(words)
    name = f"{f.field}_{f.from_label}_to_{f.to_label}_in_{where}"
    name = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")[:56]
    name += "_" + hashlib.sha256(phrase.encode()).hexdigest()[:6]
    return Rule(
        id=name,
        description=(
            f"{f.corrections} of {f.reviewed} reviewed '{f.from_label}' labels"
            + (f" in {where}" if f.scope != "any" else "")
            + f" containing '{phrase}' were corrected to '{f.to_label}' by people"
        ),
        phrase=phrase,
        when=when,
        field=f.field,  # type: ignore[arg-type]
        label=f.to_label,
        confidence=round(f.rate, 2),
        origin="proposed by emosim labels analytics",
    )


def _proposal(rule: Rule, f: PhraseFinding, corrected: list[Item]) -> ProposedRule:
    digest = hashlib.sha256(rule.model_dump_json(exclude={"description"}).encode()).hexdigest()
    return ProposedRule(
        id=f"P{digest[:8]}",
        rule=rule,
        evidence=Evidence(
            corrections=f.corrections,
            reviewed=f.reviewed,
            precision=f.rate,
            rate_low=f.rate_low,
            p_value=f.p_value,
            by=sorted({i.by for i in corrected if i.by}),
        ),
        accepted=False,
    )


def _not_proposed(
    miner: _Miner,
    heads: dict[tuple[str, str], dict[str, set[int]]],
    best: dict[tuple, PhraseFinding],
    proposals: list[ProposedRule],
    opt: AnalyticsOptions,
) -> list[NotProposed]:
    """For every correction without a rule: why, with the numbers."""
    done = {
        (
            p.rule.field,
            _rid(p.rule.when.model_label, p.rule.field),
            _rid(p.rule.label, p.rule.field),
        )
        for p in proposals
    }
    out = []
    for gkey, hits in sorted(heads.items()):
        group = miner.groups[gkey]
        for head, hit_set in sorted(hits.items(), key=lambda kv: -len(kv[1])):
            if (*gkey, head) in done:
                continue
            sample = group[next(iter(hit_set))]
            n = len(hit_set)
            reasons = []
            if n < opt.min_support:
                reasons.append(f"{n} correction(s), fewer than --min-support {opt.min_support}")
            else:
                top = best.get((gkey, head))
                if top is not None:
                    where = _scope_label(top.scope, top.subcategory or top.topic or "")
                    reasons.append(
                        f"best phrase '{top.phrase}' in {where}: {top.corrections}/"
                        f"{top.reviewed} corrected; {top.status} ({top.note})"
                    )
                else:
                    reasons.append(
                        f"no phrase occurs in {opt.min_support} or more of the {n} corrected "
                        "turns within one sub-category, or across sub-categories of a topic, "
                        "or across topics"
                    )
                if len(hit_set) == len(group):
                    reasons.append(
                        f"all {len(group)} reviewed '{sample.said}' labels were corrected to "
                        f"'{sample.to}': with none confirmed, nothing shows which turns a rule "
                        "should leave alone"
                    )
                whole = _whole_contexts(group, hit_set, opt)
                if whole:
                    reasons.append(
                        "every reviewed turn was corrected in "
                        + ", ".join(whole)
                        + ": a rule for a whole sub-category is never proposed (it would "
                        "relabel turns nobody reviewed); reviews of turns there that the "
                        "model got right would show which words matter"
                    )
            out.append(
                NotProposed(
                    field=gkey[0],
                    from_label=sample.said,
                    to_label=sample.to,
                    corrections=n,
                    reason="; ".join(reasons),
                )
            )
    out.sort(key=lambda n: -n.corrections)  # the largest first (a stable sort)
    return out


def _whole_contexts(group: list[Item], hit_set: set[int], opt: AnalyticsOptions) -> list[str]:
    per: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(group):
        per[item.info.subcategory].append(i)
    return [
        f"{sub} ({len(idx)}/{len(idx)})"
        for sub, idx in sorted(per.items())
        if len(idx) >= opt.min_support and all(i in hit_set for i in idx)
    ]
