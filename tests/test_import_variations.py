"""Imported real conversations can seed variations like simulated ones."""

from __future__ import annotations

from pathlib import Path

from emosim.cli import app
from emosim.validate import validate_paths

ESCONV = Path(__file__).resolve().parents[1] / "data" / "esconv_sample" / "train_sample.json"


def test_imported_record_seeds_variations(cli, tmp_path: Path, catalog) -> None:
    out = tmp_path / "imported"
    result = cli.invoke(app, ["import", str(ESCONV), "--format", "esconv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    first = (out / "conversations.jsonl").read_text().splitlines()[0]
    seed = tmp_path / "seed.jsonl"
    seed.write_text(first + "\n")
    variations = tmp_path / "variations"
    result = cli.invoke(
        app, ["vary", str(seed), "--axis", "persona", "--n", "2", "--out", str(variations)]
    )
    assert result.exit_code == 0, result.output
    files = sorted(variations.glob("*.yaml"))
    assert files and validate_paths(files, catalog).problems == []
    text = files[0].read_text()
    assert "imported_client" not in text and "parent_id: real-esconv-" in text


def test_each_imported_transcript_is_its_own_family(cli, tmp_path: Path) -> None:
    from emosim.lineage import family_of
    from emosim.schemas import ConversationRecord

    out = tmp_path / "imported"
    assert (
        cli.invoke(app, ["import", str(ESCONV), "--format", "esconv", "--out", str(out)]).exit_code
        == 0
    )
    records = [
        ConversationRecord.model_validate_json(line)
        for line in (out / "conversations.jsonl").read_text().splitlines()
    ]
    assert len(set(family_of(records).values())) == len(records)
