"""Records in, trainer-ready files out: load, resolve labels, filter, split by family, build rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from .. import __version__
from ..catalog import Catalog
from ..errors import EmosimError
from ..labels.apply import apply_labels
from ..schemas import AdvisorTurn, ClientTurn, ConversationRecord
from .detemplate import cap_patterns
from .dialogue import Dialogue, build_dialogue
from .families import families, family_source
from .formats import BUILDERS, PREFERENCE_FORMATS, BuiltRow
from .inputs import load_records
from .manifest import ExportManifest, HumanRankings, SplitSummary
from .options import FORMATS, SPLIT_NAMES, ExportOptions, Filters
from .prompt import system_prompt
from .sources import derived_sources, label_licenses
from .splits import split_of


@dataclass
class ExportPlan:
    """Everything to write, built in memory first so a bad input writes nothing."""

    manifest: ExportManifest
    rows: dict[str, list[BuiltRow]] = field(default_factory=dict)


def matches(record: ConversationRecord, filters: Filters) -> bool:
    if filters.topics and record.scenario.topic not in filters.topics:
        return False
    if filters.lengths and record.scenario.length_class not in filters.lengths:
        return False
    if filters.review_statuses and record.quality.review_status not in filters.review_statuses:
        return False
    if filters.emotions:
        felt = {
            label
            for t in record.client_turns
            if t.annotation is not None
            for label in (t.annotation.primary, t.annotation.family)
        }
        if not felt & set(filters.emotions):
            return False
    return True


def _emotions(records: list[ConversationRecord]) -> dict[str, int]:
    return dict(
        sorted(
            Counter(
                t.annotation.primary
                for r in records
                for t in r.turns
                if isinstance(t, ClientTurn) and t.annotation is not None
            ).items()
        )
    )


def _strategies(dialogues: list[Dialogue], trained: set[tuple[str, int]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for d in dialogues:
        for turn in d.record.turns:
            if isinstance(turn, AdvisorTurn) and (d.record.id, turn.index) in trained:
                use = turn.strategies or turn.intended_strategies
                counts[use.primary if use else "unknown"] += 1
    return dict(sorted(counts.items()))


def _split_summaries(
    rows: dict[str, list[BuiltRow]], dialogues: list[Dialogue]
) -> dict[str, SplitSummary]:
    by_id = {d.record.id: d for d in dialogues}
    splits: dict[str, SplitSummary] = {}
    for name in SPLIT_NAMES:
        ids = sorted({b.meta.record_id for b in rows[name]})
        split_dialogues = [by_id[i] for i in ids]
        trained_here = {(b.meta.record_id, i) for b in rows[name] for i in b.meta.trained_turns}
        splits[name] = SplitSummary(
            file=f"{name}.jsonl" if rows[name] else None,
            rows=len(rows[name]),
            records=len(ids),
            families=len({by_id[i].family for i in ids}),
            emotions=_emotions([d.record for d in split_dialogues]),
            strategies=_strategies(split_dialogues, trained_here),
        )
    return splits


def _no_rows_message(fmt: str, kept: int, trainable: int) -> str:
    if fmt in PREFERENCE_FORMATS:
        return (
            f"no preference pairs in {kept} record(s) with {trainable} trainable turn(s): no turn "
            "has a critic-rejected draft or reviewers' rankings of candidate replies that pass "
            "--min-agreement/--min-margin (add --anti-pattern-pairs to use taxonomy anti-patterns)"
        )
    if fmt == "emotion-classification":
        return f"no client turn with an emotion label in {kept} record(s)"
    return f"no trainable advisor turn in {kept} record(s) (check --trainable / --min-quality)"


def _with_human_rankings(dialogues, record_files, applied, options):  # noqa: ANN001, ANN202
    """Attach each record's ranked candidate sets (and the pair filters) to its dialogue."""
    from ..preferences.human import load_human_preferences

    contexts = {d.record.id: [t.text for t in d.record.turns] for d in dialogues}
    human = load_human_preferences(record_files, [Path(s.path) for s in applied.stores], contexts)
    attached = [
        replace(
            d,
            ranked=human.for_record(d.record.id),
            min_agreement=options.min_agreement,
            min_margin=options.min_margin,
        )
        for d in dialogues
    ]
    return attached, human


def _human_summary(human, rows: list[BuiltRow]) -> HumanRankings:  # noqa: ANN001
    used = {
        (b.meta.record_id, b.meta.turn_index) for b in rows if b.meta.pair_source == "human_ranking"
    }
    turns = [t for key, t in human.turns.items() if key in used]
    alphas = [t.agreement for t in turns if t.agreement is not None]
    return HumanRankings(
        candidate_files=human.candidate_files,
        ranked_sets=len(human.turns),
        sets_used=len(turns),
        reviewers=sorted({r for t in turns for r in t.fit.rankings}),
        rankings=sum(t.fit.reviewers for t in turns),
        mean_agreement=round(sum(alphas) / len(alphas), 4) if alphas else None,
        stale_rankings=human.stale_rankings,
        unmatched_sets=human.unmatched_sets,
    )


def plan_export(
    paths: list[Path],
    options: ExportOptions,
    catalog: Catalog,
    labels: Path | Literal["none"] | None = None,
) -> ExportPlan:
    """`labels`: a label store, "none", or None for the store beside the records (if any)."""
    if options.format not in FORMATS:
        raise EmosimError(f"unknown format {options.format!r}")
    loaded = load_records(paths)
    resolved, applied = apply_labels(
        loaded.records, [Path(f.path) for f in loaded.files], labels, catalog
    )
    family_of = families(resolved)
    kept = sorted((r for r in resolved if matches(r, options.filters)), key=lambda r: r.id)
    if not kept:
        raise EmosimError(f"no record matches the filters ({len(resolved)} read)")
    de_templating = None
    if options.cap_pattern is not None:
        kept, de_templating = cap_patterns(kept, options.cap_pattern)
    text = system_prompt(catalog.advisor, planning=options.planning)
    dialogues = [build_dialogue(r, family_of[r.id], options, text) for r in kept]
    human = None
    if options.format in PREFERENCE_FORMATS:
        dialogues, human = _with_human_rankings(
            dialogues, [Path(f.path) for f in loaded.files], applied, options
        )
    builder = BUILDERS[options.format]
    anti = options.anti_pattern_pairs

    rows: dict[str, list[BuiltRow]] = {name: [] for name in SPLIT_NAMES}
    family_splits: dict[str, str] = {}
    for d in dialogues:
        split = family_splits.setdefault(d.family, split_of(d.family, options.split))
        rows[split].extend(builder(d, catalog, anti))
    for split_rows in rows.values():
        split_rows.sort(key=lambda b: b.sort_key)  # stable: pair order kept within a turn

    trainable = sum(len(d.trainable_steps) for d in dialogues)
    if not any(rows.values()):
        raise EmosimError(_no_rows_message(options.format, len(kept), trainable))

    splits = _split_summaries(rows, dialogues)
    every = [b for split in rows.values() for b in split]
    trainable_ids = {(d.record.id, s.turn.index) for d in dialogues for s in d.trainable_steps}
    # a human-ranking pair trains a ranked turn's candidates, whatever the sent reply's weight
    in_loss = {
        (b.meta.record_id, i)
        for b in every
        if b.meta.pair_source != "human_ranking"
        for i in b.meta.trained_turns
    }
    pair_sources = Counter(b.meta.pair_source for b in every if b.meta.pair_source)
    kto = Counter(
        "desirable" if b.meta.label else "undesirable" for b in every if b.meta.label is not None
    )
    produced = {b.meta.record_id for b in every}
    files = [f"{n}.jsonl" for n in SPLIT_NAMES if rows[n]]
    files += [f"meta/{n}.jsonl" for n in SPLIT_NAMES if rows[n]]
    files += ["lora_recipe.yaml", "README.md", "manifest.json"]
    manifest = ExportManifest(
        emosim_version=__version__,
        format=options.format,
        format_description=FORMATS[options.format],
        options=options,
        inputs=loaded.files,
        duplicates_skipped=loaded.duplicates_skipped,
        labels=applied,
        family_source=family_source(),
        records_read=len(resolved),
        records_kept=len(kept),
        de_templating=de_templating,
        records_without_rows=len(kept) - len(produced),
        advisor_turns=sum(len(d.record.advisor_turns) for d in dialogues),
        trainable_turns=trainable,
        context_turns_trained=len(in_loss - trainable_ids)
        if options.format != "emotion-classification"
        else 0,
        pair_sources=dict(sorted(pair_sources.items())),
        human_rankings=_human_summary(human, every) if human is not None else None,
        kto_labels=dict(sorted(kto.items())),
        splits=splits,
        family_splits=dict(sorted(family_splits.items())),
        data_sources=sorted({s for r in kept for s in derived_sources(r)}),
        licenses=dict(sorted(Counter(r.provenance.license for r in kept).items())),
        label_licenses=label_licenses(kept),
        files=files,
    )
    return ExportPlan(manifest=manifest, rows=rows)
