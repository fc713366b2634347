"""Coverage of the emotion x intensity grid and the length classes against the targets.

Targets use the project's one targets format (`emosim.coverage.Targets`, `targets.yaml` at the
project root, shared with `emosim plan` and `emosim coverage`); without that file the
defaults apply: 50 client turns per primary emotion per level, 20 advisor turns per strategy,
50 short, 30 medium and 10 long conversations. As in `emosim coverage`, a client turn counts
by its true state; the observer's reading is shown beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from emosim.catalog import Catalog
from emosim.coverage import Targets, default_targets_path, evaluate
from emosim.coverage import count as count_targets
from emosim.coverage import load_targets as load_targets_file
from emosim.schemas import ConversationRecord
from emosim.schemas.common import IntensityLevel, LengthClass

from .models import Coverage, CoverageCell

LEVELS: tuple[IntensityLevel, ...] = get_args(IntensityLevel)
LENGTH_CLASSES: tuple[LengthClass, ...] = get_args(LengthClass)


def load_targets(path: Path | None, catalog: Catalog) -> tuple[Targets, Path | None]:
    """The targets of `path`, else of the project's targets.yaml, else the defaults."""
    if path is None:
        default = default_targets_path()
        if not default.is_file():
            return Targets(), None
        path = default
    return load_targets_file(catalog, path), path


def emotion_target(targets: Targets, catalog: Catalog, emotion: str, level: str) -> int:
    wanted = emotion in targets.emotions(catalog) and level in targets.emotion_turns.levels
    return targets.emotion_turns.min if wanted else 0


def coverage(
    records: list[ConversationRecord],
    catalog: Catalog,
    targets: Targets,
    targets_file: Path | None,
) -> Coverage:
    truth: dict[tuple[str, str], int] = {}
    observed: dict[tuple[str, str], int] = {}
    turns = 0
    for record in records:
        for turn in record.client_turns:
            turns += 1
            if turn.ground_truth is not None:
                key = (turn.ground_truth.emotion, turn.ground_truth.intensity_level)
                truth[key] = truth.get(key, 0) + 1
            if turn.annotation is not None:
                key = (turn.annotation.primary, turn.annotation.intensity_level)
                observed[key] = observed.get(key, 0) + 1
    cells = []
    for emotion in catalog.emotions_file.emotions:
        for level in LEVELS:
            count = truth.get((emotion.id, level), 0)
            target = emotion_target(targets, catalog, emotion.id, level)
            cells.append(
                CoverageCell(
                    emotion=emotion.id,
                    level=level,
                    count=count,
                    observed=observed.get((emotion.id, level), 0),
                    target=target,
                    met=count >= target,
                )
            )
    lengths = {c: 0 for c in LENGTH_CLASSES}
    for record in records:
        lengths[record.scenario.length_class] += 1
    wanted = targets.length_classes
    # every target, counted exactly as `emosim coverage` counts it: one computation for both
    results = evaluate(targets, catalog, count_targets(records))
    return Coverage(
        basis="true state of each client turn (the observer's reading is shown beside it)",
        targets_file=str(targets_file) if targets_file else None,
        client_turns=turns,
        from_ground_truth=sum(truth.values()),
        cells=cells,
        cells_met=sum(c.met for c in cells),
        cells_total=len(cells),
        targets_met=sum(r.met for r in results),
        targets_total=len(results),
        targets_short=[f"{r.kind}:{r.name}" for r in results if not r.met],
        lengths=lengths,
        length_targets={"short": wanted.short, "medium": wanted.medium, "long": wanted.long},
    )
