"""Labelling rules (rules.yaml): phrase or pattern + context -> label, as `rule` events.

A rule repairs the labels of sources ranked below `rule` in the policy (the model
observers'): its `model_label` condition is read from those sources only, so humans'
decisions never trigger or block a rule, and humans still override what a rule says.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.files import _yaml_line, dump_yaml, load_yaml_node, parse_yaml, write_text_atomic
from emosim.schemas import LabelEvent, LabelSource, LabelTarget
from emosim.schemas.common import Identifier, Speaker, StrictModel, Unit

from .checks import value_problem
from .phrases import contains, tokens
from .policy import ResolutionPolicy
from .resolve import comparable, resolve_events
from .store import LabelStore
from .targets import FIELD_SPEAKER, ConversationInfo, TargetKey

RULES_FILE = "rules.yaml"
RuleField = Literal["emotion", "secondary_emotion", "intensity", "strategy", "sentence_function"]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class RuleWhen(StrictModel):
    """Context conditions; every condition given must hold (lists: any of)."""

    topic: list[Identifier] = Field(default_factory=list, description="Topic ids (any of).")
    subcategory: list[Identifier] = Field(
        default_factory=list, description="Sub-category ids (any of)."
    )
    speaker: Speaker | None = Field(default=None, description="Speaker of the labelled turn.")
    model_label: Any = Field(
        default=None,
        description="Only where the sources ranked below `rule` (the model observers) say this.",
    )

    _lists = field_validator("topic", "subcategory", mode="before")(_as_list)


class Rule(StrictModel):
    """One labelling rule."""

    id: Identifier = Field(description="Stable rule id (the `rule` events' source name).")
    description: str = Field(default="", description="What the rule captures, for reviewers.")
    phrase: str | None = Field(
        default=None,
        description="Words that must occur in this order in the labelled text (the turn, or "
        "the sentence for sentence_function), ignoring case, punctuation and sentence breaks; "
        "proposed rules use it.",
    )
    pattern: str | None = Field(
        default=None,
        description="Regular expression searched case-insensitively in the labelled text; "
        "for hand-written rules (a proposed rule gives a phrase instead).",
    )
    when: RuleWhen = Field(default_factory=RuleWhen, description="Context conditions.")
    field: RuleField = Field(description="Which label the rule sets.")
    label: Any = Field(description="The value it sets (an emotion/strategy/function id...).")
    confidence: Unit = Field(default=0.8, description="Confidence recorded on its events.")
    origin: str = Field(default="", description="Where the rule came from (e.g. a proposal).")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("phrase")
    @classmethod
    def _has_words(cls, value: str | None) -> str | None:
        if value is not None and not tokens(value):
            raise ValueError(f"phrase {value!r} has no words")
        return value

    @model_validator(mode="after")
    def _speaker_fits_field(self) -> Rule:
        needed = FIELD_SPEAKER[self.field]
        if self.when.speaker is not None and self.when.speaker != needed:
            raise ValueError(f"field {self.field!r} labels {needed} turns, not {self.when.speaker}")
        return self

    @property
    def version(self) -> str:
        """Content hash: editing a rule gives its new events a new version."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:10]

    def regex(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern, re.IGNORECASE) if self.pattern else None

    def matcher(self) -> RuleMatcher:
        return RuleMatcher(self)


class RuleMatcher:
    """One rule's test of a target, shared by `apply-rules` and the analytics self-check."""

    def __init__(self, rule: Rule):
        self.rule = rule
        self.words = tokens(rule.phrase) if rule.phrase else None
        self.regex = rule.regex()

    def context(self, info: ConversationInfo) -> bool:
        when = self.rule.when
        return (not when.topic or info.topic in when.topic) and (
            not when.subcategory or info.subcategory in when.subcategory
        )

    def __call__(self, info: ConversationInfo, key: TargetKey, model_value: Any) -> bool:
        """Whether the rule applies to `key`, whose model observers say `model_value`."""
        rule = self.rule
        if key.field != rule.field or not self.context(info):
            return False
        if rule.when.model_label is not None and (
            model_value is None
            or comparable(key.field, model_value) != comparable(key.field, rule.when.model_label)
        ):
            return False
        text = info.text_of(key)
        if self.words is not None and not contains(tokens(text), self.words):
            return False
        return self.regex is None or bool(self.regex.search(text))


class RuleSet(StrictModel):
    """rules.yaml."""

    version: str = Field(default="1", description="Version of the rule file format.")
    rules: list[Rule] = Field(default_factory=list, description="The rules, applied in order.")


def rule_problems(rule: Rule, catalog: Catalog, where: str) -> list[str]:
    problems = []
    bad = value_problem(catalog, rule.field, rule.label)
    if bad:
        problems.append(f"{where}.label: {bad}")
    if rule.when.model_label is not None:
        bad = value_problem(catalog, rule.field, rule.when.model_label)
        if bad:
            problems.append(f"{where}.when.model_label: {bad}")
    for j, topic in enumerate(rule.when.topic):
        if topic not in catalog.topics:
            problems.append(f"{where}.when.topic.{j}: unknown topic id {topic!r}")
    allowed = {
        s.id: t.id
        for t in catalog.topics.values()
        if not rule.when.topic or t.id in rule.when.topic
        for s in t.subcategories
    }
    for j, sub in enumerate(rule.when.subcategory):
        if sub not in allowed:
            scope = f" of {', '.join(rule.when.topic)}" if rule.when.topic else ""
            problems.append(f"{where}.when.subcategory.{j}: unknown sub-category id {sub!r}{scope}")
    return problems


def load_rules(path: Path, catalog: Catalog) -> RuleSet:
    """rules.yaml, checked against the catalog; errors name the line, field and value."""
    from pydantic import ValidationError

    from emosim.files import format_validation_error

    if not path.is_file():
        return RuleSet()
    data, node = load_yaml_node(path)
    data = data if data is not None else {}
    try:
        ruleset = RuleSet.model_validate(data)
    except ValidationError as exc:
        raise DataError(format_validation_error(exc, str(path), node)) from None
    problems: list[str] = []
    seen: set[str] = set()
    for i, rule in enumerate(ruleset.rules):
        line = _yaml_line(node, ("rules", i))
        where = f"{path}:{line}: rules.{i}" if line else f"{path}: rules.{i}"
        if rule.id in seen:
            problems.append(f"{where}.id: duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        problems.extend(rule_problems(rule, catalog, where))
    if problems:
        raise DataError(problems)
    return ruleset


def append_rule(path: Path, rule: Rule, catalog: Catalog) -> None:
    """Add a rule at the end of rules.yaml, keeping the file's comments; checked before written."""
    ruleset = load_rules(path, catalog)
    if any(r.id == rule.id for r in ruleset.rules):
        raise DataError([f"{path}: rule {rule.id!r} is already there"])
    problems = rule_problems(rule, catalog, f"rule {rule.id}")
    if problems:
        raise DataError(problems)
    item = dump_yaml([rule.model_dump(mode="json", exclude_defaults=True)])
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    indented = "".join(f"  {line}\n" for line in item.splitlines())
    if text.strip() and ruleset.rules:
        candidate = text.rstrip("\n") + "\n" + indented
    elif text.strip():
        candidate = re.sub(r"(?m)^rules:.*$\n?", "", text).rstrip("\n") + "\nrules:\n" + indented
    else:
        candidate = f'version: "1"\nrules:\n{indented}'
    try:
        parsed = RuleSet.model_validate(parse_yaml(candidate, str(path))[0])
        fits = [r.id for r in parsed.rules] == [*(r.id for r in ruleset.rules), rule.id]
    except (DataError, ValueError):
        fits = False
    if not fits:  # `rules:` is not the file's last block: rewrite it whole
        ruleset.rules.append(rule)
        candidate = dump_yaml(ruleset.model_dump(mode="json", exclude_defaults=True))
    write_text_atomic(path, candidate)


# --- applying ------------------------------------------------------------------------------


@dataclass
class RuleOutcome:
    rule: Rule
    matched: int = 0
    agreed: int = 0
    events: list[LabelEvent] = field(default_factory=list)
    already_stored: int = 0


def rule_event_id(rule: Rule, key: TargetKey) -> str:
    sentence = f"s{key.sentence_index}" if key.sentence_index is not None else ""
    return f"rule:{rule.id}:{rule.version}:{key.conversation_id}:t{key.turn_index}{sentence}:{key.field}"


def plan_rules(
    ruleset: RuleSet,
    store: LabelStore,
    policy: ResolutionPolicy,
    now: datetime | None = None,
) -> list[RuleOutcome]:
    """The `rule` events the rules call for and are not stored yet (nothing is written)."""
    now = now or datetime.now(UTC)
    below = set(policy.kinds_below("rule"))
    base = resolve_events((e for e in store.events() if e.source.kind in below), policy)
    infos = store.conversations()
    outcomes: list[RuleOutcome] = []
    for rule in ruleset.rules:
        outcome = RuleOutcome(rule)
        outcomes.append(outcome)
        matches = rule.matcher()
        for info in infos.values():
            if not matches.context(info):
                continue
            for key in info.targets():
                if key.field != rule.field:
                    continue
                model = base.get(key)
                current = model.winner if model else None
                if not matches(info, key, current.value if current else None):
                    continue
                outcome.matched += 1
                if current is not None and current.value == rule.label:
                    outcome.agreed += 1
                    continue
                outcome.events.append(
                    LabelEvent(
                        event_id=rule_event_id(rule, key),
                        created_at=now,
                        target=LabelTarget(
                            conversation_id=key.conversation_id,
                            turn_index=key.turn_index,
                            sentence_index=key.sentence_index,
                            field=key.field,  # type: ignore[arg-type]
                        ),
                        value=rule.label,
                        source=LabelSource(kind="rule", name=rule.id, version=rule.version),
                        action="correct" if current is not None else "suggest",
                        confidence=rule.confidence,
                        reason=f"rule {rule.id}"
                        + (f": {rule.description}" if rule.description else ""),
                        supersedes=current.event.event_id if current is not None else None,
                    )
                )
        stored = store.events_by_id(e.event_id for e in outcome.events)
        outcome.already_stored = sum(e.event_id in stored for e in outcome.events)
        outcome.events = [e for e in outcome.events if e.event_id not in stored]
    return outcomes
