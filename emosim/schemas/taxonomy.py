"""Models of the taxonomy files in `taxonomies/` (emotions, strategies, functions, topics)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .common import Identifier, StrictModel, Unit, Valence

GolemanFamily = Literal[
    "anger", "sadness", "fear", "enjoyment", "love", "surprise", "disgust", "shame"
]
EsconvStrategy = Literal[
    "Question",
    "Restatement or Paraphrasing",
    "Reflection of feelings",
    "Self-disclosure",
    "Affirmation and Reassurance",
    "Providing Suggestions",
    "Information",
    "Others",
]
MitiCode = Literal[
    "question",
    "simple_reflection",
    "complex_reflection",
    "affirm",
    "seeking_collaboration",
    "emphasizing_autonomy",
    "persuade",
    "persuade_with_permission",
    "confront",
    "giving_information",
    "other",
]


class EmotionFamily(StrictModel):
    id: GolemanFamily = Field(description="Goleman family id.")
    name: str = Field(description="Display name of the family.")
    description: str = Field(description="What the family covers, in plain words.")
    goleman_members: list[str] = Field(
        min_length=3, description="Members Goleman lists for this family (Appendix A)."
    )


class IntensityDescription(StrictModel):
    description: str = Field(description="How this emotion reads at this intensity.")
    examples: list[str] = Field(
        min_length=3, description="Example client lines in the financial domain at this intensity."
    )


class Intensities(StrictModel):
    low: IntensityDescription = Field(description="Intensity below 0.4.")
    medium: IntensityDescription = Field(description="Intensity from 0.4 to below 0.7.")
    high: IntensityDescription = Field(description="Intensity 0.7 and above.")


class Emotion(StrictModel):
    id: Identifier
    name: str = Field(description="Display name.")
    adjective: str = Field(
        description="How Elena names the feeling in a sentence ('you sound ___'), e.g. 'ashamed'."
    )
    family: GolemanFamily = Field(description="The Goleman family this state belongs to.")
    family_rationale: str = Field(description="Why the state sits in this family.")
    definition: str = Field(description="What the client feels, in one or two sentences.")
    valence: Valence = Field(description="Pleasantness from -1 (very unpleasant) to 1.")
    arousal: Unit = Field(description="Activation from 0 (calm) to 1 (agitated).")
    intensities: Intensities = Field(description="Descriptions and example lines per level.")
    cues: list[str] = Field(
        min_length=5,
        description="Words or short phrases in text that signal this emotion (text only: "
        "no voice or face). Matched case-insensitively on word boundaries.",
    )
    triggers: list[str] = Field(min_length=2, description="Typical financial triggers.")
    helpful_strategies: list[Identifier] = Field(
        min_length=2, description="Strategy ids that help a client in this state."
    )
    harmful_strategies: list[Identifier] = Field(
        min_length=1, description="Anti-pattern or strategy ids that hurt a client in this state."
    )
    likely_next: list[Identifier] = Field(
        min_length=1, description="Emotion ids this state commonly moves to when handled well."
    )
    needs_ground: str | None = Field(
        default=None,
        description="What a client's story must hold for an arc to give them this feeling "
        "(grief: a loss); only a persona whose `grounds` names this emotion gets it. "
        "None: any persona can feel it.",
    )


class EmotionTaxonomy(StrictModel):
    version: str = Field(description="Taxonomy version; bump when ids change.")
    sources: list[str] = Field(description="Works the taxonomy is grounded in.")
    intensity_model: str = Field(description="How low/medium/high are defined.")
    families: list[EmotionFamily] = Field(
        description="Goleman's eight families.", min_length=8, max_length=8
    )
    emotions: list[Emotion] = Field(
        description="The emotional states clients are simulated and labelled in.", min_length=16
    )

    @model_validator(mode="after")
    def _families_used_are_declared(self) -> EmotionTaxonomy:
        declared = {f.id for f in self.families}
        for e in self.emotions:
            if e.family not in declared:
                raise ValueError(f"emotion {e.id!r} uses undeclared family {e.family!r}")
        return self


class Strategy(StrictModel):
    id: Identifier
    name: str = Field(description="Display name.")
    definition: str = Field(description="What the strategy is.")
    when_to_use: list[str] = Field(description="Situations it fits.", min_length=1)
    when_not_to_use: list[str] = Field(description="Situations where it backfires.", min_length=1)
    quality_markers: list[str] = Field(min_length=1, description="What a good use looks like.")
    examples: list[str] = Field(min_length=3, description="Example lines in Elena's voice.")
    esconv: EsconvStrategy = Field(description="Closest of ESConv's 8 supporter strategies.")
    miti: list[MitiCode] = Field(min_length=1, description="MITI 4.2.1 behaviour codes.")
    typical_functions: list[Identifier] = Field(
        min_length=1, description="Sentence-function ids this strategy usually realizes."
    )
    cues: list[str] = Field(
        min_length=3,
        description="Words or phrases that signal this strategy in an advisor's text; used by "
        "text-only strategy observers.",
    )


class AntiPattern(StrictModel):
    id: Identifier
    name: str = Field(description="Display name.")
    definition: str = Field(description="What the anti-pattern is.")
    why_harmful: str = Field(description="What it does to a client.")
    examples: list[str] = Field(min_length=3, description="Lines Elena must never write.")
    cues: list[str] = Field(
        min_length=3, description="Words or phrases that reveal the anti-pattern in text."
    )
    esconv: EsconvStrategy | None = Field(default=None, description="Closest ESConv strategy.")
    miti: list[MitiCode] = Field(default_factory=list, description="MITI codes it resembles.")


class StrategyTaxonomy(StrictModel):
    version: str = Field(description="Taxonomy version.")
    sources: list[str] = Field(description="Works the taxonomy is grounded in.")
    strategies: list[Strategy] = Field(
        description="Response strategies Elena may use.", min_length=14
    )
    anti_patterns: list[AntiPattern] = Field(
        description="Failed strategies, kept as negatives.", min_length=8
    )


class SentenceFunction(StrictModel):
    id: Identifier
    name: str = Field(description="Display name.")
    definition: str = Field(description="What a sentence with this function does.")
    examples: list[str] = Field(description="Example sentences in Elena's voice.", min_length=2)
    cues: list[str] = Field(
        min_length=2,
        description="Words, phrases or a trailing '?' that signal the function; the scripted "
        "sentence-function observer reads these.",
    )


class SentenceFunctionTaxonomy(StrictModel):
    version: str = Field(description="Taxonomy version.")
    functions: list[SentenceFunction] = Field(
        description="Functions a sentence of an advisor reply can have.", min_length=12
    )


class Subcategory(StrictModel):
    id: Identifier
    name: str = Field(description="Display name.")
    description: str = Field(description="What the sub-category covers.")
    phrase: str | None = Field(
        default=None,
        description="Noun phrase used mid-sentence ('questions about ___'); the name if absent.",
    )
    client_questions: list[str] = Field(
        default_factory=list,
        description="Opening questions specific to this sub-category, free of personal facts.",
    )


class Topic(StrictModel):
    id: Identifier
    name: str = Field(description="Display name.")
    description: str = Field(description="What the topic covers.")
    phrase: str | None = Field(
        default=None,
        description="Noun phrase used mid-sentence ('questions about ___'); the name if absent.",
    )
    subcategories: list[Subcategory] = Field(
        description="Sub-categories of the topic.", min_length=2
    )
    common_emotions: list[Identifier] = Field(
        description="Emotion ids clients often bring to this topic.", min_length=1
    )
    client_questions: list[str] = Field(
        min_length=5,
        description="Questions clients ask about the topic, free of personal facts so that "
        "any persona can ask them.",
    )
    key_terms: dict[str, str] = Field(
        default_factory=dict,
        description="Jargon of the topic mapped to a plain-language explanation Elena can give.",
    )


class TopicTaxonomy(StrictModel):
    version: str = Field(description="Taxonomy version.")
    topics: list[Topic] = Field(
        description="Topics clients bring in this domain (finance: 17; a small domain may have "
        "a few).",
        min_length=3,
    )
