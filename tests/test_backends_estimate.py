"""`emosim batch --dry-run`: calls, tokens and cost before anything runs; prompt prefixes
counted with messages.count_tokens when a key is set, else estimated, and it says which."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .mock_anthropic import MockAnthropic, backend_config

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = str(ROOT / "simulations" / "investing_shame_first_steps.yaml")


def _cost(output: str) -> float:
    match = re.search(r"estimated cost: \$([\d,.]+)", output)
    assert match, output
    return float(match.group(1).replace(",", ""))


def test_dry_run_counts_tokens_with_a_key_and_estimates_without(
    tmp_path: Path, cli: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emosim.cli import app

    runs = tmp_path / "runs"
    with MockAnthropic() as mock:
        spec = backend_config(tmp_path / "b.yaml", mock.url)
        args = ["batch", SCENARIO, "--seeds", "1-4", "--backend", spec, "--runs-dir", str(runs)]
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        estimated = cli.invoke(app, [*args, "--dry-run"])
        assert estimated.exit_code == 0, estimated.output
        assert "estimate: estimated at about 4 characters a token" in " ".join(
            estimated.output.split()
        )
        assert mock.calls == 0 and not mock.requests

        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-dry-run-0123456789")
        counted = cli.invoke(app, [*args, "--dry-run"])
        assert counted.exit_code == 0, counted.output
        text = " ".join(counted.output.split())
        assert "count_tokens: prompt prefixes counted with messages.count_tokens (" in text
        assert mock.calls == 0  # count_tokens is not a model call
        half = cli.invoke(app, [*args, "--dry-run", "--message-batches"])
        assert "Message Batches pricing" in " ".join(half.output.split())
    assert not runs.exists()  # a dry run writes no run folder
    assert _cost(counted.output) > 0 and _cost(half.output) == pytest.approx(
        _cost(counted.output) / 2, abs=0.011
    )
    assert "4 conversation(s)" in estimated.output and "advisor" in estimated.output


def test_dry_run_of_an_unpriced_model_says_unknown(tmp_path: Path, cli: object) -> None:
    from emosim.cli import app

    result = cli.invoke(
        app, ["batch", SCENARIO, "--backend", "anthropic:claude-sonnet-9", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "unknown (a model has no price in the table)" in " ".join(result.output.split())
