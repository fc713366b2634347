"""The reviewer guide: YAML a domain expert edits, rendered into docs/reviewer-guide.md."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from emosim.preferences.guide import GUIDE_FILE, ReviewGuide, guide_markdown, load_guide


def test_guide_has_criteria_and_two_worked_examples(root):
    guide = load_guide(root)
    assert len(guide.examples) >= 2
    text = guide_markdown(guide, "")
    assert "## What to rank on" in text and "**Ranking:** A > D > C > B" in text


def test_a_worked_example_must_rank_exactly_its_replies(root):
    data = yaml.safe_load((root / GUIDE_FILE).read_text(encoding="utf-8"))
    data["examples"][0]["ranking"] = ["A", "B"]
    with pytest.raises(ValidationError, match="must order exactly the replies"):
        ReviewGuide.model_validate(data)
