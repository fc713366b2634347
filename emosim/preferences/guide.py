"""The reviewer guide: `review_guide.yaml` (domain experts edit it) -> docs/reviewer-guide.md."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from emosim.files import load_yaml_model
from emosim.schemas.common import StrictModel

GUIDE_FILE = "review_guide.yaml"


class Criterion(StrictModel):
    name: str = Field(min_length=1)
    ask: str = Field(min_length=1, description="The question the reviewer asks of a reply.")


class Scale(StrictModel):
    name: str
    low: str = Field(description="What a 1 looks like.")
    high: str = Field(description="What a 5 looks like.")


class Authenticity(StrictModel):
    verdict: str
    scales: list[Scale]
    comment: str


class ExampleReply(StrictModel):
    label: str
    text: str


class WorkedExample(StrictModel):
    situation: str
    replies: list[ExampleReply] = Field(min_length=2)
    ranking: list[str] = Field(description="Reply labels, best first.")
    why: str

    @model_validator(mode="after")
    def _ranks_every_reply(self) -> WorkedExample:
        labels = [r.label for r in self.replies]
        if sorted(self.ranking) != sorted(labels):
            raise ValueError(f"ranking {self.ranking} must order exactly the replies {labels}")
        return self


class ReviewGuide(StrictModel):
    title: str
    purpose: str
    before_you_start: list[str]
    criteria: list[Criterion] = Field(min_length=1)
    tie_break: str
    authenticity: Authenticity
    examples: list[WorkedExample] = Field(min_length=1)


def load_guide(root: Path) -> ReviewGuide:
    return load_yaml_model(root / GUIDE_FILE, ReviewGuide)


def guide_markdown(guide: ReviewGuide, generated: str) -> str:
    out = [generated + f"# {guide.title}\n", guide.purpose + "\n", "## Before you start\n"]
    out += [f"- {item}" for item in guide.before_you_start]
    out += ["", "## What to rank on\n", "In order of weight:\n"]
    out += [f"{i}. **{c.name}.** {c.ask}" for i, c in enumerate(guide.criteria, start=1)]
    out += ["", guide.tie_break + "\n", "## Judging a whole conversation (authenticity)\n"]
    out += [f"- **Verdict.** {guide.authenticity.verdict}"]
    out += [f"- **{s.name} (1-5).** 1: {s.low} 5: {s.high}" for s in guide.authenticity.scales]
    out += [f"- **Comment.** {guide.authenticity.comment}", ""]
    for number, example in enumerate(guide.examples, start=1):
        out += [f"## Worked example {number}\n", example.situation + "\n"]
        out += [f"- **Reply {r.label}:** {r.text}" for r in example.replies]
        order = " > ".join(example.ranking)
        out += ["", f"**Ranking:** {order}\n", f"**Why:** {example.why}\n"]
    out += [
        "## Where the tasks come from\n",
        "`emosim review export --task ranking` (or `--task authenticity`) writes Label Studio "
        "tasks, with `--config` the labeling config, or a CSV with `--format csv` (fill the "
        "`rank` column: 1 = best). `emosim review import FILE` stores your answers, one label "
        "event per reviewer and task.\n",
    ]
    return "\n".join(out)
