"""Write an export plan: every file through a temp file and a rename; stale split files removed."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..files import atomic_writer, write_text_atomic
from .card import card_markdown
from .options import SPLIT_NAMES
from .pipeline import ExportPlan
from .recipe import recipe_yaml


def _write_lines(path: Path, lines: list[str]) -> None:
    with atomic_writer(path) as handle:
        for line in lines:
            handle.write(line + "\n")


def write_export(plan: ExportPlan, out: Path) -> list[Path]:
    """Write the plan into `out`; returns the files written, in the manifest's order."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in SPLIT_NAMES:
        rows = plan.rows[name]
        data, meta = out / f"{name}.jsonl", out / "meta" / f"{name}.jsonl"
        if not rows:
            # an earlier export into the same folder must not leave a split this one doesn't have
            for stale in (data, meta):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
            continue
        _write_lines(data, [b.row.to_json() for b in rows])
        _write_lines(meta, [b.meta.model_dump_json() for b in rows])
        written += [data, meta]
    write_text_atomic(out / "lora_recipe.yaml", recipe_yaml(plan.manifest))
    write_text_atomic(out / "README.md", card_markdown(plan.manifest))
    write_text_atomic(out / "manifest.json", plan.manifest.model_dump_json(indent=2) + "\n")
    written += [out / "lora_recipe.yaml", out / "README.md", out / "manifest.json"]
    return sorted(written, key=lambda p: plan.manifest.files.index(str(p.relative_to(out))))
