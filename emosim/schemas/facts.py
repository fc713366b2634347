"""Models of the fact base in `facts/` (e.g. `facts/us-2026.yaml`): vetted, dated, sourced
figures Elena may state. One file per jurisdiction and tax year."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from .common import Identifier, StrictModel

FactUnit = Literal[
    "usd",
    "usd_per_month",
    "usd_per_year",
    "percent",
    "percent_per_year",
    "percent_per_month",
    "years",
    "months",
    "weeks",
    "days",
    "age",
    "year",
    "count",
]
"""What a fact's number measures: `age` is an age in years, `year` a calendar year, `percent` a
percent number (22 = 22%), `usd_per_month` dollars a month."""

Url = Annotated[
    str,
    StringConstraints(pattern=r"^https://[^\s]+$"),
    Field(description="An https:// address."),
]


class FactValue(StrictModel):
    value: float = Field(description="The number as stated (22 for 22%, 7500 for $7,500).")
    unit: FactUnit = Field(description="What the number measures.")
    label: str = Field(
        min_length=1,
        description="What this number is, in a few words (e.g. 'limit under age 50').",
    )


class FactSource(StrictModel):
    publisher: str = Field(min_length=2, description="Agency or publisher (e.g. IRS, SSA, CFPB).")
    title: str = Field(min_length=2, description="Title of the page or publication.")
    url: Url = Field(description="Where the figure can be checked (https).")


class Fact(StrictModel):
    id: Identifier = Field(description="Stable snake_case id, unique in the file.")
    topic: Identifier = Field(description="Topic id from taxonomies/topics.yaml.")
    statement: str = Field(
        min_length=10,
        description="One plain-English sentence stating the fact, the way Elena would say it.",
    )
    values: list[FactValue] = Field(
        min_length=1, description="The numbers the statement contains, with units."
    )
    jurisdiction: str = Field(min_length=2, description="Where the rule applies (e.g. US-federal).")
    tax_year: int | None = Field(
        ge=1900,
        le=2200,
        description="The tax year the figure is for; null when the fact is not year-bound.",
    )
    source: FactSource = Field(description="The publication or agency page it comes from.")
    as_of: dt.date = Field(description="When the fact was last checked against its source.")
    expires: dt.date | None = Field(
        default=None,
        description=(
            "Last day the fact holds (e.g. the end of its tax year); must be after as_of."
        ),
    )
    keywords: list[str] = Field(
        default_factory=list,
        description="Words a client's question about this fact would contain.",
    )

    @field_validator("keywords", mode="before")
    @classmethod
    def _numbers_are_words(cls, value: object) -> object:
        """`[401k, 529, 62]` in YAML: numbers are keywords too."""
        if isinstance(value, list):
            return [
                str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                for v in value
            ]
        return value


class FactFile(StrictModel):
    version: str = Field(description="Version of this file's content.")
    jurisdiction: str = Field(description="Jurisdiction the file covers (e.g. US-federal).")
    tax_year: int = Field(ge=1900, le=2200, description="The tax year the file is for.")
    as_of: dt.date = Field(description="When the file as a whole was last reviewed.")
    description: str = Field(default="", description="What the file covers and who vetted it.")
    facts: list[Fact] = Field(min_length=1, description="The facts.")
