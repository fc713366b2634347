"""The dataset card (`README.md`): what the export holds, how it was made, where it falls short."""

from __future__ import annotations

from ..files import dump_yaml
from .manifest import ExportManifest
from .options import SPLIT_NAMES
from .recipe import COLUMNS, OBJECTIVES
from .sources import ATTRIBUTIONS

LIMITATIONS = [
    "Conversations are synthetic: a simulated client played a hidden emotional arc. Real people "
    "mix emotions, change topic and write less tidily; evaluate on real data before relying on "
    "a model trained here.",
    "Emotion and strategy labels are what the observers read from text (then corrected by any "
    "human label events), not the client's hidden state; the `quality` scores in each record "
    "measure how often the observers agree with that hidden state.",
    "Elena's replies follow one advisor persona (US financial context, CFP®). They are "
    "education, not individual financial, tax or legal advice.",
    "Splits are assigned by a stable hash of the lineage family, so split sizes follow the "
    "requested shares only approximately, and closely only when there are many families.",
    "Critic preference pairs (`pair_source` critic) pit the sent reply against drafts a "
    "rules-based critic rejected (and, when asked for, taxonomy anti-pattern examples): they "
    "show clear voice and compliance failures, not subtle ones; `human_ranking` pairs carry "
    "the finer judgements of reviewers.",
]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _labels_line(manifest: ExportManifest) -> str:
    applied = manifest.labels
    order = " > ".join(k.replace("_", " ") for k in applied.policy)
    how = f"resolved by `{applied.resolver}` ({order}; latest wins within a source)"
    if not applied.stores:
        why = "`--labels none`" if applied.chosen_by == "--labels none" else "no label store found"
        return f"- Labels: the records' own label history {how}; no label store applied ({why})."
    stores = "; ".join(
        f"`{s.path}` ({s.events} events, events sha256 `{s.events_sha256[:16]}…`)"
        for s in applied.stores
    )
    return (
        f"- Labels: the records' history plus the label store {stores}, {how}. "
        f"{applied.labels_changed} label(s) differ from the model's"
        + (
            " (" + ", ".join(f"{k}: {v}" for k, v in applied.changed_by_field.items()) + ")"
            if applied.changed_by_field
            else ""
        )
        + "."
    )


def _per_split(manifest: ExportManifest, attribute: str, label: str) -> list[str]:
    names = [n for n in SPLIT_NAMES if manifest.splits[n].rows]
    counts = {n: getattr(manifest.splits[n], attribute) for n in names}
    keys = sorted({k for c in counts.values() for k in c})
    if not keys:
        return [f"No {label.lower()} labels in the exported records."]
    rows = [
        [
            k,
            *(str(counts[n].get(k, 0)) for n in names),
            str(sum(counts[n].get(k, 0) for n in names)),
        ]
        for k in keys
    ]
    return _table([label, *names, "total"], rows)


def _license(manifest: ExportManifest) -> str:
    return "cc-by-nc-4.0" if "esconv" in manifest.data_sources else "cc-by-4.0"


def _de_templating(manifest: ExportManifest) -> list[str]:
    d = manifest.de_templating
    if d is None:
        return []
    out = [
        f"- De-templating (`--cap-pattern {d.cap}`): a sentence pattern (the sentence with names "
        f"and numbers masked, at least {d.min_words} words) may appear in at most {d.cap} "
        f"conversations. {d.patterns_over_cap} pattern(s) were over the cap; "
        f"{d.records_dropped} of {d.records_before} conversation(s) were dropped whole, the "
        "ones using the most over-cap patterns first; the ids are in `manifest.json`."
    ]
    if d.top_patterns:
        out += ["", "  Most widespread capped patterns:", ""]
        out += [
            "  " + line
            for line in _table(
                ["speaker", "pattern", "conversations before", "after"],
                [
                    [
                        p.speaker,
                        p.pattern.replace("|", "\\|"),
                        str(p.conversations_before),
                        str(p.conversations_after),
                    ]
                    for p in d.top_patterns
                ],
            )
        ]
        out.append("")
    return out


_SOURCE_TEXT = {
    "critic": "a draft the critic rejected, against the reply that was sent",
    "anti_pattern": "a taxonomy anti-pattern example, against the reply that was sent",
    "human_ranking": "two candidate replies for the same turn, ordered by reviewers' rankings "
    "aggregated with a Plackett-Luce model (`margin`: the chosen reply's score minus the "
    "rejected one's; `agreement`: Krippendorff's alpha of the set's rankings)",
}


def _pair_sources(manifest: ExportManifest) -> list[str]:
    """Rows per source, what each source is, and how the human rankings were used."""
    unit = "rows" if manifest.format == "trl-kto" else "pairs"
    out = [f"- Preference {unit} by source (in `meta/<split>.jsonl`, `pair_source`):", ""]
    out += [
        "  " + line
        for line in _table(
            ["source", unit, "what it is"],
            [[k, str(v), _SOURCE_TEXT[k]] for k, v in sorted(manifest.pair_sources.items())],
        )
    ]
    out.append("")
    h = manifest.human_rankings
    if h is not None and h.ranked_sets:
        o = manifest.options
        alpha = "n/a" if h.mean_agreement is None else f"{h.mean_agreement:.2f}"
        filters = ", ".join(
            f"`{flag} {value}`"
            for flag, value in (
                ("--min-agreement", o.min_agreement),
                ("--min-margin", o.min_margin),
            )
            if value is not None
        )
        out.append(
            f"- Human rankings: {h.sets_used} of {h.ranked_sets} ranked candidate set(s) used"
            + (f" ({filters})" if filters else "")
            + f", {h.rankings} ranking(s) by {len(h.reviewers)} reviewer(s); mean agreement "
            f"(Krippendorff's alpha, ordinal) {alpha}."
            + (f" {h.stale_rankings} ranking(s) named replies no longer in their set and were "
               "left out." if h.stale_rankings else "")
        )  # fmt: skip
    return out


def _domain() -> dict[str, str]:
    """Who the advisor is and what the talk is about: finance's wording, or the domain's
    (`--domain`), drawn from its advisor persona."""
    from ..catalog import get_catalog

    catalog = get_catalog()
    advisor = catalog.advisor
    first = advisor.name.split()[0]
    out = {
        "advisor": f"{advisor.name}, {advisor.credentials}",
        "prompt": f"{first}’s, from {catalog.advisor_file}",
        "tag": "financial-planning",
        "subject": "financial-planning conversations",
        "limitation": LIMITATIONS[2],
    }
    if catalog.domain is not None:
        where = f"domains/{catalog.domain_name}/{catalog.advisor_file}"
        out |= {
            "prompt": f"{first}’s, from {where}",
            "tag": f"{catalog.domain_name}-support",
            "subject": f"{catalog.domain_name} support conversations",
            "limitation": f"{first}'s replies follow one support-agent persona ({where}); "
            "they are general information, not individual advice.",
        }
    return out


def card_markdown(manifest: ExportManifest) -> str:
    fmt = manifest.format
    domain = _domain()
    written = [n for n in SPLIT_NAMES if manifest.splits[n].file]
    front = {
        "license": _license(manifest),
        "language": ["en"],
        "pretty_name": f"emosim export ({fmt})",
        "tags": ["synthetic", "emotional-support", domain["tag"], "emosim"],
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": n, "path": manifest.splits[n].file} for n in written],
            }
        ],
    }
    o = manifest.options
    lines = ["---", dump_yaml(front).rstrip(), "---", "", f"# emosim export: `{fmt}`", ""]
    lines += [
        f"{manifest.format_description}. Conversations between clients and the advisor "
        f"{domain['advisor']}, made by emosim, a multi-agent simulation engine "
        f"for emotionally-aware {domain['subject']}. Objective: **{OBJECTIVES[fmt]}**; columns: "
        + ", ".join(f"`{c}`" for c in COLUMNS[fmt])
        + ".",
        "",
        "## Splits",
        "",
        "Records are grouped into lineage families (a seed and all its variations) and each family "
        "goes to one split, by a stable hash of its id: no family is in two splits.",
        "",
    ]
    lines += _table(
        ["split", "file", "rows", "records", "families"],
        [
            [
                n,
                f"`{s.file}`" if s.file else "(empty)",
                str(s.rows),
                str(s.records),
                str(s.families),
            ]
            for n, s in ((n, manifest.splits[n]) for n in SPLIT_NAMES)
        ],
    )
    lines += ["", "## Emotions (client turns, resolved labels)", ""]
    lines += _per_split(manifest, "emotions", "Emotion")
    lines += ["", "## Strategies (primary strategy of trained advisor turns)", ""]
    lines += _per_split(manifest, "strategies", "Strategy")
    lines += [
        "",
        "## How it was made",
        "",
        f"- Records read: {manifest.records_read} from {len(manifest.inputs)} input file(s) "
        f"(sha256 in `manifest.json`); kept after filters"
        + (" and the pattern cap" if manifest.de_templating else "")
        + f": {manifest.records_kept}.",
        _labels_line(manifest),
        f"- Trainable advisor turns: {manifest.trainable_turns} of {manifest.advisor_turns} "
        f"(`--trainable {o.trainable}`"
        + (f", `--min-quality {o.min_quality}`" if o.min_quality is not None else "")
        + "; turns with training_weight 0 never train).",
        f"- System prompt: {domain['prompt'] if o.system_prompt else 'none'}.",
        f"- Planning target: {'on' if o.planning else 'off'}"
        + (
            " — each assistant message starts with `<plan>emotion: EMOTION (LEVEL); strategy: "
            "A + B</plan>` and a newline, then the reply."
            if o.planning
            else "."
        ),
    ]
    lines += _de_templating(manifest)
    if manifest.pair_sources:
        lines += _pair_sources(manifest)
    if manifest.context_turns_trained:
        lines.append(
            f"- Caution: {manifest.context_turns_trained} non-trainable advisor turn(s) sit inside "
            "rows of a format that trains every assistant message; use `trl-prompt-completion` "
            "to train trainable turns only."
        )
    lines += [
        '- Training settings: `lora_recipe.yaml` (after "LoRA Without Regret", Thinking '
        "Machines Lab, 2025). Row provenance: `meta/<split>.jsonl`, line i describes row i.",
        "",
        "## License and attribution",
        "",
        "Synthetic emosim records are released under Creative Commons Attribution 4.0 "
        "International (CC BY 4.0).",
    ]
    if manifest.licenses:
        lines.append(
            "Record licenses: "
            + ", ".join(f"{k} ({v})" for k, v in sorted(manifest.licenses.items()))
            + "."
        )
    if manifest.label_licenses:
        lines += [
            "",
            "Label sources whose labels inherit a license (a trained observer from its training "
            "data, an imported corpus's annotators from the corpus):",
            "",
        ]
        lines += [f"- `{k}`: {v}" for k, v in manifest.label_licenses.items()]
    for source in manifest.data_sources:
        lines += ["", f"- {ATTRIBUTIONS[source]}"]
    if "esconv" in manifest.data_sources:
        lines += [
            "",
            "Records derived from ESConv carry its non-commercial license, so this export as a "
            "whole is for non-commercial use.",
        ]
    limitations = [domain["limitation"] if i == 2 else item for i, item in enumerate(LIMITATIONS)]
    lines += ["", "## Known limitations", "", *(f"- {item}" for item in limitations), ""]
    return "\n".join(lines)
