"""Which backend plays which role: builds the agent set for a run.

The backend spec (`scripted`, `anthropic`, `client=anthropic,*=scripted`, `replay:RUN_DIR`,
a backend config .yaml; see emosim/agents/llm/spec.py) is parsed in one place. Roles it
leaves scripted keep the offline agents; the others are played by a model, and every model
call is recorded in the run's cassette.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosim.catalog import Catalog, file_sha256, files_sha256
from emosim.files import load_yaml_model
from emosim.schemas import BackendInfo

from .arc import VERSION as ARC_VERSION
from .llm.accounting import Accounting
from .llm.spec import ROLES as SPEC_ROLES
from .llm.spec import BackendPlan, parse_mapping, parse_spec
from .protocols import (
    AdvisorAgent,
    ClientAgent,
    Critic,
    EmotionObserver,
    SentenceObserver,
    StrategyObserver,
)
from .scripted.templates import AdvisorTemplates, TopicAnswers

ROLES = SPEC_ROLES  # client, advisor, emotion_observer, strategy_observer, ...


@dataclass
class AgentSet:
    client: ClientAgent
    advisor: AdvisorAgent
    emotion_observer: EmotionObserver
    strategy_observer: StrategyObserver
    sentence_observer: SentenceObserver
    critic: Critic
    backends: dict[str, BackendInfo]
    prompt_hashes: dict[str, str]
    accounting: Accounting = field(default_factory=Accounting)
    """Tokens and cost of model calls, per conversation (`accounting.scores(id)`)."""


def scripted_template_paths(catalog: Catalog) -> dict[str, Path]:
    return {
        role: catalog.file(f"agents/scripted/{role}.yaml")
        for role in ("client", "advisor", "observers")
    }


def scripted_answer_paths(catalog: Catalog) -> list[Path]:
    """Elena's answers to each topic's client questions, one file per topic."""
    return sorted((catalog.file("agents/scripted/answers")).glob("*.yaml"))


def load_advisor_templates(catalog: Catalog) -> AdvisorTemplates:
    """The advisor's templates with every topic's answers added to its `answers`."""
    templates = load_yaml_model(scripted_template_paths(catalog)["advisor"], AdvisorTemplates)
    topic_answers = [
        answer
        for path in scripted_answer_paths(catalog)
        for answer in load_yaml_model(path, TopicAnswers).as_templates()
    ]
    return templates.model_copy(update={"answers": templates.answers + topic_answers})


def build_scripted(catalog: Catalog, *, anti_pattern_rate: float) -> AgentSet:
    from .scripted.advisor import ScriptedAdvisor
    from .scripted.client import ScriptedClient
    from .scripted.critic import RuleCritic
    from .scripted.observers import (
        CueSentenceObserver,
        LexiconEmotionObserver,
        LexiconStrategyObserver,
    )
    from .scripted.templates import ClientTemplates, ObserverMarkers

    paths = scripted_template_paths(catalog)
    from .scripted.asked_as import ASKED_AS_DIR, asked_as_paths
    from .scripted.material import load_client_material
    from .scripted.retrieval import concepts_path

    client = ScriptedClient(
        catalog,
        load_yaml_model(paths["client"], ClientTemplates),
        load_client_material(catalog),
    )
    from .scripted.negatives import NegativeWriter, load_negatives
    from .scripted.templates import NEGATIVES_FILE

    advisor = ScriptedAdvisor(
        catalog,
        load_advisor_templates(catalog),
        anti_pattern_rate=anti_pattern_rate,
        negatives=NegativeWriter(catalog, load_negatives(catalog.home(NEGATIVES_FILE))),
    )
    markers = load_yaml_model(paths["observers"], ObserverMarkers)
    agents = AgentSet(
        client=client,
        advisor=advisor,
        emotion_observer=LexiconEmotionObserver(catalog, markers),
        strategy_observer=LexiconStrategyObserver(catalog),
        sentence_observer=CueSentenceObserver(catalog),
        critic=RuleCritic(catalog),
        backends={},
        prompt_hashes={
            "client": files_sha256(
                [
                    paths["client"],
                    *(
                        p
                        for p in (
                            catalog.file("agents/scripted/client_feelings.yaml"),
                            catalog.file("agents/scripted/client_reactions.yaml"),
                            catalog.file("agents/scripted/client_tellings.yaml"),
                            catalog.file("agents/scripted/client_lives.yaml"),
                        )
                        if p.is_file()
                    ),
                ]
            ),
            "advisor": files_sha256(
                [
                    paths["advisor"],
                    catalog.file(NEGATIVES_FILE),
                    *scripted_answer_paths(catalog),
                    *asked_as_paths(catalog.home(ASKED_AS_DIR)),
                    concepts_path(),
                ]
            ),
            "observers": file_sha256(paths["observers"]),
        },
    )
    for role in ROLES:
        agents.backends[role] = BackendInfo(backend="scripted", model=getattr(agents, role).name)
    agents.backends["arc_controller"] = BackendInfo(backend="rules", model=ARC_VERSION)
    return agents


def backend_plan(spec: str | dict[str, Any]) -> BackendPlan:
    """A spec string or a role -> spec mapping (scenario/run config) as a plan."""
    if isinstance(spec, dict):
        return parse_mapping(spec, "backends")
    return parse_spec(spec)


def check_backend(catalog: Catalog, spec: str | dict[str, Any]) -> BackendPlan:
    """Parse a spec and check what can be checked before a run folder exists (keys, imports).

    Raises EmosimError with one clear message; builds nothing and calls no model.
    """
    from .llm.build import check_key
    from .llm.settings import load_settings
    from .llm.spec import LangChainRole, import_chat_model

    plan = backend_plan(spec)
    if plan.replay is None and plan.uses_models():
        check_key(plan)
        load_settings(catalog.root, plan.settings, plan.source)
        for role, backend in plan.roles.items():
            if isinstance(backend, LangChainRole):
                import_chat_model(backend, f"backend {plan.source!r}: {role}")
    return plan


def build_agents(
    catalog: Catalog,
    backend: str | dict[str, Any],
    *,
    anti_pattern_rate: float,
    run: object = None,
) -> AgentSet:
    """The agent set for a backend spec. `run` (a RunFolder) receives the cassette."""
    plan = backend_plan(backend)
    if not plan.uses_models():
        return build_scripted(catalog, anti_pattern_rate=anti_pattern_rate)
    from .llm.build import build_model_agents

    models, resolved, accounting, hashes = build_model_agents(
        catalog, plan, anti_pattern_rate=anti_pattern_rate, run_dir=getattr(run, "path", None)
    )
    if len(models) == len(ROLES):  # no scripted role left: skip loading the scripted templates
        agents = AgentSet(**models, backends={}, prompt_hashes={})  # type: ignore[arg-type]
        agents.backends["arc_controller"] = BackendInfo(backend="rules", model=ARC_VERSION)
    else:
        agents = build_scripted(catalog, anti_pattern_rate=anti_pattern_rate)
    agents.accounting = accounting
    for role, agent in models.items():
        setattr(agents, role, agent)
        info = resolved.roles[role]
        name = "replay" if plan.replay is not None else info.kind
        agents.backends[role] = BackendInfo(
            backend=name, model=info.settings.model if info.settings else None
        )
        agents.prompt_hashes[role] = hashes[role]
    agents.backends = {role: agents.backends[role] for role in (*ROLES, "arc_controller")}
    return agents
