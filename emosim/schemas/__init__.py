"""Pydantic models: the single source of truth for the dataset format and the data files."""

from .common import SCHEMA_VERSION, intensity_level, length_class_for
from .labels import LabelEvent, LabelSource, LabelTarget
from .persona import AdvisorPersona, ArcStep, ClientPersona, PersonaFact
from .record import (
    AdvisorTurn,
    BackendInfo,
    ClientTurn,
    ConversationRecord,
    CriticFinding,
    CriticScores,
    CriticVerdict,
    EmotionAnnotation,
    EmotionalState,
    Outcome,
    Provenance,
    Quality,
    RejectedDraft,
    ScenarioInfo,
    Sentence,
    StrategyUse,
    TextCue,
)
from .scenario import LineageInfo, Scenario
from .taxonomy import (
    AntiPattern,
    Emotion,
    EmotionTaxonomy,
    SentenceFunctionTaxonomy,
    Strategy,
    StrategyTaxonomy,
    TopicTaxonomy,
)

__all__ = [name for name in dir() if not name.startswith("_")]
