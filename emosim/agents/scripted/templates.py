"""Models of the scripted backend's template files in `agents/scripted/`.

The scripted client and advisor compose text from these templates plus the persona, topic
and taxonomy; prompt engineers edit the YAML, not Python.
"""

from __future__ import annotations

import functools
import re

from pydantic import Field, field_validator

from emosim.schemas.common import Identifier, StrictModel

ADVISOR_SLOTS = frozenset(
    {
        "name",
        "emotion_adj",
        "client_quote",
        "fact",
        "topic_phrase",
        "subtopic_phrase",
        "term",
        "term_gloss",
    }
)
CLIENT_SLOTS = frozenset({"topic_phrase", "subtopic_phrase", "term", "advisor_name"})
CLOSING_SLOTS = frozenset({"name", "next_step"})
_SLOT = re.compile(r"\{([a-z_]+)\}")


@functools.lru_cache(maxsize=4096)
def slots_in(text: str) -> frozenset[str]:
    return frozenset(_SLOT.findall(text))


def _check_slots(text: str, allowed: frozenset[str]) -> str:
    unknown = slots_in(text) - allowed
    if unknown:
        raise ValueError(
            f"unknown slot(s) {sorted(unknown)} in {text!r}; allowed {sorted(allowed)}"
        )
    return text


class AdvisorSentenceTemplate(StrictModel):
    function: Identifier = Field(description="Sentence-function id the sentence performs.")
    text: str = Field(description="One sentence with optional {slots}.")

    @field_validator("text")
    @classmethod
    def _slots(cls, v: str) -> str:
        return _check_slots(v, ADVISOR_SLOTS)


class AnswerTemplate(StrictModel):
    """Elena's answers to one of the client's follow-up questions, so that a reply takes up
    the question the client just asked instead of passing over it."""

    question: str = Field(
        description="The question as the client templates write it ({slots} match any words)."
    )
    strategy: Identifier = Field(description="Strategy id the answer realizes.")
    replies: list[AdvisorSentenceTemplate] = Field(
        min_length=2, description="Alternative one-sentence answers."
    )

    @field_validator("question")
    @classmethod
    def _slots(cls, v: str) -> str:
        return _check_slots(v, CLIENT_SLOTS)


class TopicAnswer(StrictModel):
    question: str = Field(
        description="A client question of the topic, exactly as in taxonomies/topics.yaml."
    )
    replies: list[str] = Field(
        min_length=2, description="Alternative one-sentence answers (plain text, no slots)."
    )

    @field_validator("replies")
    @classmethod
    def _plain(cls, v: list[str]) -> list[str]:
        for text in v:
            if "{" in text or "}" in text:
                raise ValueError(f"a reply is plain text, without braces: {text!r}")
        return v


class TopicAnswers(StrictModel):
    """Elena's answers to one topic's client questions (agents/scripted/answers/<topic>.yaml):
    a factual question gets a factual answer, as education."""

    topic: Identifier = Field(description="Topic id the questions belong to.")
    answers: list[TopicAnswer] = Field(description="One entry per question of the topic.")

    def as_templates(self) -> list[AnswerTemplate]:
        return [
            AnswerTemplate(
                question=a.question,
                strategy="education",
                replies=[
                    AdvisorSentenceTemplate(function="explain_concept", text=text)
                    for text in a.replies
                ],
            )
            for a in self.answers
        ]


class AdvisorTemplates(StrictModel):
    """Sentence templates of the scripted advisor."""

    version: str = Field(description="Template set version; part of the prompt hash.")
    strategies: dict[Identifier, list[AdvisorSentenceTemplate]] = Field(
        description="Strategy id -> sentences that realize it (at least 6 each)."
    )
    answers: list[AnswerTemplate] = Field(
        default_factory=list,
        description="Answers to the client's follow-up questions (client.yaml `follow_ups`).",
    )
    anti_patterns: dict[Identifier, list[str]] = Field(
        description="Anti-pattern id -> sentences that commit it (drafts the critic must reject)."
    )
    closings: list[str] = Field(
        default_factory=list,
        description="Elena's last message when the client signs off: one or two warm sentences, "
        "no question and no new agenda or homework. Slots {name} and {next_step} (a short noun "
        "phrase such as 'the enrollment form'); [a|b] groups are inline alternatives.",
    )
    closings_unresolved: list[str] = Field(
        default_factory=list,
        description="Elena's last message when the client leaves unconvinced: gracious, no "
        "pressure and no question. Same slots and alternatives as `closings`.",
    )

    @field_validator("strategies")
    @classmethod
    def _enough(cls, v: dict[str, list[AdvisorSentenceTemplate]]) -> dict:
        for sid, items in v.items():
            if len(items) < 6:
                raise ValueError(f"strategy {sid!r} has {len(items)} templates; at least 6 needed")
        return v

    @field_validator("closings", "closings_unresolved")
    @classmethod
    def _closing_lines(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_slots(text, CLOSING_SLOTS)
            if "?" in text:
                raise ValueError(f"a closing asks nothing, so it has no '?': {text!r}")
        return v

    @field_validator("anti_patterns")
    @classmethod
    def _anti_slots(cls, v: dict[str, list[str]]) -> dict:
        for aid, items in v.items():
            if len(items) < 4:
                raise ValueError(f"anti-pattern {aid!r} has {len(items)} templates; 4 needed")
            for text in items:
                _check_slots(text, ADVISOR_SLOTS)
        return v


class ClientReactions(StrictModel):
    advanced: dict[str, list[str]] = Field(
        description="Advisor's primary strategy id (or 'default') -> opening lines when the "
        "client felt helped."
    )
    stalled: list[str] = Field(min_length=6, description="Lines when the reply did not land.")
    regressed: list[str] = Field(
        min_length=6, description="Lines when the reply hurt (judgment, pressure, dismissal)."
    )


class ClientTemplates(StrictModel):
    """Reusable parts of the scripted client's messages."""

    version: str = Field(description="Template set version; part of the prompt hash.")
    reactions: ClientReactions = Field(description="How the client reacts to the last reply.")
    follow_ups: dict[str, list[str]] = Field(
        description="Arc stage (early, middle, late) -> follow-up questions, fact-free."
    )
    fact_lead_ins: list[str] = Field(
        min_length=6,
        description="Short lead-ins before a personal fact, e.g. 'For context,'.",
    )
    closings: list[str] = Field(min_length=6, description="Lines for the client's last message.")

    @field_validator("follow_ups")
    @classmethod
    def _stages(cls, v: dict[str, list[str]]) -> dict:
        missing = {"early", "middle", "late"} - set(v)
        if missing:
            raise ValueError(f"follow_ups lacks stages {sorted(missing)}")
        for items in v.values():
            for text in items:
                _check_slots(text, CLIENT_SLOTS)
        return v


class ObserverMarkers(StrictModel):
    """Intensity markers the scripted observers read (agents/scripted/observers.yaml)."""

    version: str = Field(description="Marker set version.")
    intensifiers: list[str] = Field(min_length=5, description="Words that raise intensity.")
    hedges: list[str] = Field(min_length=5, description="Words that lower intensity.")
