"""The published JSON Schema files, generated from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from .agents.scripted.asked_as import AskedAsFile
from .agents.scripted.retrieval import ConceptFile
from .agents.scripted.templates import (
    AdvisorTemplates,
    ClientFeelings,
    ClientReactionBank,
    ClientTemplates,
    TopicAnswers,
)
from .files import write_text_atomic
from .preferences.models import CandidateSet
from .schemas import (
    SCHEMA_VERSION,
    AdvisorPersona,
    ClientPersona,
    ConversationRecord,
    EmotionTaxonomy,
    LabelEvent,
    Scenario,
    SentenceFunctionTaxonomy,
    StrategyTaxonomy,
    TopicTaxonomy,
)
from .schemas.facts import FactFile

PUBLISHED: dict[str, type[BaseModel]] = {
    "conversation_record": ConversationRecord,
    "label_event": LabelEvent,
    "scenario": Scenario,
    "client_persona": ClientPersona,
    "advisor_persona": AdvisorPersona,
    "emotion_taxonomy": EmotionTaxonomy,
    "strategy_taxonomy": StrategyTaxonomy,
    "sentence_function_taxonomy": SentenceFunctionTaxonomy,
    "topic_taxonomy": TopicTaxonomy,
    "scripted_advisor_templates": AdvisorTemplates,
    "scripted_client_templates": ClientTemplates,
    "scripted_topic_answers": TopicAnswers,
    "scripted_asked_as": AskedAsFile,
    "scripted_concepts": ConceptFile,
    "scripted_client_feelings": ClientFeelings,
    "scripted_client_reactions": ClientReactionBank,
    "fact_base": FactFile,
    "candidate_set": CandidateSet,
}


def schema_for(name: str, model: type[BaseModel]) -> dict:
    schema = model.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://emosim.dev/schemas/{SCHEMA_VERSION}/{name}.schema.json",
        **schema,
    }


def render_schemas() -> dict[str, str]:
    return {
        f"{name}.schema.json": json.dumps(schema_for(name, model), indent=2, ensure_ascii=False)
        + "\n"
        for name, model in PUBLISHED.items()
    }


def write_schemas(out_dir: Path) -> list[Path]:
    written = []
    for filename, text in render_schemas().items():
        path = out_dir / filename
        write_text_atomic(path, text)
        written.append(path)
    return written
