"""Which third-party data a record derives from, so the dataset card keeps their attributions."""

from __future__ import annotations

from ..schemas import ConversationRecord

ATTRIBUTIONS: dict[str, str] = {
    "goemotions": (
        'GoEmotions: Demszky et al. 2020, Google Research, "GoEmotions: A Dataset of '
        'Fine-Grained Emotions" (ACL 2020). Licensed under Creative Commons Attribution 4.0 '
        "International (CC BY 4.0), https://creativecommons.org/licenses/by/4.0/."
    ),
    "esconv": (
        'ESConv: Liu et al. 2021, "Towards Emotional Support Dialog Systems" (ACL 2021), '
        "Copyright (c) 2021 CoAI Group, Tsinghua University. Licensed under Creative Commons "
        "Attribution-NonCommercial 4.0 International (CC BY-NC 4.0), "
        "https://creativecommons.org/licenses/by-nc/4.0/: non-commercial use only."
    ),
}
"""Attribution line per source, as the source's README in shared/data asks for."""


def derived_sources(record: ConversationRecord) -> set[str]:
    """Sources named in the record's provenance, ids, lineage or label sources.

    A label whose source inherits a license (a trained observer's, an imported corpus's)
    names that license's data; a model trained only on the user's own labels names none.
    Records made before labels carried their model's provenance: the `classifier` observer
    backend is taken as trained on GoEmotions.
    """
    p = record.provenance
    names = [record.id, record.scenario.scenario_id, p.license, *p.prompt_hashes]
    names += [record.lineage.seed_id or "", record.lineage.parent_id or ""]
    for info in p.backends.values():
        names += [info.backend, info.model or ""]
    names += [f"{e.source.name} {e.source.version} {e.source.license}" for e in record.label_events]
    text = " ".join(names).lower()
    found = {source for source in ATTRIBUTIONS if source in text}
    traced = any(e.source.model_sha256 for e in record.label_events)
    if not traced and any(info.backend == "classifier" for info in p.backends.values()):
        found.add("goemotions")  # records made before labels carried their model's license
    return found


def label_licenses(records: list[ConversationRecord]) -> dict[str, str]:
    """Every label source whose labels the records carry and that inherits a license (trained
    observers, imported corpora) -> that license, keyed `kind:name/version`."""
    out: dict[str, str] = {}
    for record in records:
        for e in record.label_events:
            s = e.source
            if s.license:
                out[f"{s.kind}:{s.name}" + (f"/{s.version}" if s.version else "")] = s.license
    return dict(sorted(out.items()))
