"""`emosim batch --executor`: wrong combinations and a missing Ray are one clear error, before
any run folder is made (no Ray cluster needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emosim.cli import app


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--executor", "spark"], "--executor: expected one of threads, ray, got 'spark'"),
        (["--address", "10.0.0.1:6379"], "--address: only with --executor ray"),
        (["--workers", "2"], "--workers: only with --executor ray"),
        (
            ["--executor", "ray", "--message-batches"],
            "--message-batches: only with --executor threads, not ray",
        ),
    ],
)
def test_wrong_executor_options_are_refused(
    cli, root: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    runs = tmp_path / "runs"
    args = ["batch", str(root / "simulations"), "--seeds", "1", "--runs-dir", str(runs), *extra]
    result = cli.invoke(app, args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert not runs.exists()


def test_ray_missing_is_one_error_naming_the_extra(
    cli, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    runs = tmp_path / "runs"
    args = ["batch", str(root / "simulations"), "--runs-dir", str(runs), "--executor", "ray"]
    result = cli.invoke(app, args)
    assert result.exit_code == 1
    assert "pip install 'emosim[ray]'" in " ".join(result.output.split())
    assert not runs.exists()
