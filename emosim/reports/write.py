"""Write a quality report folder: plots/*.png, figures.json and report.html.

Everything is computed and drawn in memory first, so bad input fails before any file is
written; each file is then written atomically and report.html last.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emosim.catalog import Catalog
from emosim.coverage import Targets
from emosim.files import atomic_writer, write_text_atomic
from emosim.labels.apply import LabelsApplied
from emosim.schemas import ConversationRecord

from .figures import build_figures
from .human_text import candidate_models, observers_on_human_text
from .models import ReportFigures
from .page import plot_path, render_page
from .plots import render_plots
from .summary import headline

REPORT = "report.html"
FIGURES = "figures.json"


@dataclass
class WrittenReport:
    folder: Path
    figures: ReportFigures
    files: list[Path]


def _preferences(records, inputs, labels):  # noqa: ANN001, ANN202
    from emosim.preferences.report import preference_review
    from emosim.storage.location import is_dsn
    from emosim.storage.runs import dsn_for

    # a Postgres store is named without its password: the setting supplies it
    stores = [
        dsn_for(s.path) if is_dsn(s.path) else Path(s.path)
        for s in (labels.stores if labels is not None else [])
    ]
    contexts = {r.id: [t.text for t in r.turns] for r in records}
    return preference_review(map(Path, inputs), stores, contexts)


def write_report(
    records: list[ConversationRecord],
    catalog: Catalog,
    out: Path,
    *,
    inputs: list[str],
    targets: Targets,
    targets_file: Path | None = None,
    embed: bool = False,
    labels: LabelsApplied | None = None,
    observer_models: list[Path] | None = None,
) -> WrittenReport:
    figures = build_figures(records, catalog, targets, inputs=inputs, targets_file=targets_file)
    figures.labels = labels
    figures.preferences = _preferences(records, inputs, labels)
    figures.human_text = observers_on_human_text(
        records, candidate_models(inputs, observer_models or [])
    )
    plots = render_plots(figures)
    figures.plots = {name: plot_path(name) for name in plots}
    page = render_page(figures, headline(figures), plots, embed=embed)
    written: list[Path] = []
    for name, png in plots.items():
        path = out / plot_path(name)
        with atomic_writer(path, "wb") as handle:
            handle.write(png)
        written.append(path)
    write_text_atomic(out / FIGURES, figures.model_dump_json(indent=2) + "\n")
    write_text_atomic(out / REPORT, page)
    written += [out / FIGURES, out / REPORT]
    return WrittenReport(out, figures, written)
