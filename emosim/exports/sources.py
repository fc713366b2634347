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

    The `classifier` observer backend is trained on GoEmotions, so its labels derive from it.
    """
    p = record.provenance
    names = [record.id, record.scenario.scenario_id, p.license, *p.prompt_hashes]
    names += [record.lineage.seed_id or "", record.lineage.parent_id or ""]
    for info in p.backends.values():
        names += [info.backend, info.model or ""]
    names += [f"{e.source.name} {e.source.version}" for e in record.label_events]
    text = " ".join(names).lower()
    found = {source for source in ATTRIBUTIONS if source in text}
    if any(info.backend == "classifier" for info in p.backends.values()):
        found.add("goemotions")
    return found
