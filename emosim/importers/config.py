"""Domain-editable import data (data/esconv.yaml, data/topic_keywords.yaml), checked against
the catalog when loaded so a wrong id fails at once, naming the file and the key."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.files import load_yaml_model
from emosim.schemas.common import Identifier, StrictModel
from emosim.schemas.taxonomy import EsconvStrategy

DATA = Path(__file__).resolve().parent / "data"


class TopicChoice(StrictModel):
    topic: Identifier
    subcategory: Identifier


class EsconvConfig(StrictModel):
    strategies: dict[EsconvStrategy, Identifier | None] = Field(
        description="ESConv label -> canonical emosim strategy id (null: no event)."
    )
    aliases: dict[str, EsconvStrategy] = Field(description="Other spellings -> ESConv label.")
    client_speakers: list[str]
    advisor_speakers: list[str]
    problem_types: dict[str, TopicChoice] = Field(default_factory=dict)

    def canonical(self, label: str) -> tuple[str | None, str | None]:
        """(ESConv label, emosim strategy id) of a label as written in a file."""
        name = self.aliases.get(label, label)
        if name not in self.strategies:
            return None, None
        return name, self.strategies[name]  # type: ignore[index]


class TopicKeywords(StrictModel):
    keywords: list[str] = Field(default_factory=list)
    subcategories: dict[Identifier, list[str]] = Field(default_factory=dict)


class TopicKeywordFile(StrictModel):
    default: TopicChoice
    topics: dict[Identifier, TopicKeywords]


def check_topic(catalog: Catalog, choice: TopicChoice, where: str) -> list[str]:
    topic = catalog.topics.get(choice.topic)
    if topic is None:
        return [f"{where}.topic: unknown topic id {choice.topic!r}"]
    if choice.subcategory not in {s.id for s in topic.subcategories}:
        return [f"{where}.subcategory: {choice.subcategory!r} is not in topic {choice.topic!r}"]
    return []


@cache
def _esconv_file() -> EsconvConfig:
    return load_yaml_model(DATA / "esconv.yaml", EsconvConfig)


def esconv_config(catalog: Catalog) -> EsconvConfig:
    cfg = _esconv_file()
    path = DATA / "esconv.yaml"
    problems = []
    for label, sid in cfg.strategies.items():
        if sid is None:
            continue
        strategy = catalog.strategies.get(sid)
        if strategy is None:
            problems.append(f"{path}: strategies.{label}: unknown strategy id {sid!r}")
        elif strategy.esconv != label:
            problems.append(
                f"{path}: strategies.{label}: {sid!r} maps to ESConv {strategy.esconv!r} in "
                "taxonomies/strategies.yaml, not to this label"
            )
    for name, choice in cfg.problem_types.items():
        problems += check_topic(catalog, choice, f"{path}: problem_types.{name}")
    if problems:
        raise DataError(problems)
    return cfg


@cache
def _keyword_file() -> TopicKeywordFile:
    return load_yaml_model(DATA / "topic_keywords.yaml", TopicKeywordFile)


def topic_keywords(catalog: Catalog) -> TopicKeywordFile:
    cfg = _keyword_file()
    path = DATA / "topic_keywords.yaml"
    problems = check_topic(catalog, cfg.default, f"{path}: default")
    for tid, entry in cfg.topics.items():
        for sub in entry.subcategories:
            problems += check_topic(
                catalog, TopicChoice(topic=tid, subcategory=sub), f"{path}: topics.{tid}"
            )
    if problems:
        raise DataError(problems)
    return cfg
