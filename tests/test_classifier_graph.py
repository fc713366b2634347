"""The trained emotion observer plugged into the simulation graph (`--observer classifier`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emosim.agents.classifier.model import TrainingParams
from emosim.agents.classifier.store import build_model
from emosim.catalog import Catalog
from emosim.errors import EmosimError
from emosim.graphs.runner import load_job, run_jobs
from emosim.validate import validate_paths

GO = Path(__file__).resolve().parents[1] / "data" / "goemotions"


def test_run_with_classifier_observer(
    tmp_path: Path, catalog: Catalog, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model.npz"
    build_model(model, data_dir=GO, params=TrainingParams(sample=2000))
    monkeypatch.setenv("EMOSIM_CLASSIFIER_MODEL", str(model))
    job = load_job(catalog, root / "simulations" / "inherited_ira_grief_widow.yaml", 1)
    run, (record,) = run_jobs(
        catalog, [job], tmp_path / "runs", "scripted", "cls", "pytest", observer="classifier"
    )
    assert record.provenance.backends["emotion_observer"].backend == "classifier"
    assert run.manifest()["observer"] == "classifier"
    assert all(t.annotation.observer.startswith("classifier") for t in record.client_turns)
    assert validate_paths([run.records_path], catalog).problems == []


def test_unknown_observer_is_one_clear_error(tmp_path: Path, catalog: Catalog, root: Path) -> None:
    job = load_job(catalog, root / "simulations" / "inherited_ira_grief_widow.yaml", 1)
    with pytest.raises(EmosimError, match="unknown observer 'oracle'"):
        run_jobs(catalog, [job], tmp_path / "runs", "scripted", "x", "pytest", observer="oracle")
    assert not (tmp_path / "runs").exists()
