"""Which backend plays which role: builds the agent set for a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emosim.catalog import Catalog, file_sha256
from emosim.errors import EmosimError
from emosim.files import load_yaml_model
from emosim.schemas import BackendInfo

from .arc import VERSION as ARC_VERSION
from .protocols import (
    AdvisorAgent,
    ClientAgent,
    Critic,
    EmotionObserver,
    SentenceObserver,
    StrategyObserver,
)

ROLES = (
    "client",
    "advisor",
    "emotion_observer",
    "strategy_observer",
    "sentence_observer",
    "critic",
)


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


def scripted_template_paths(catalog: Catalog) -> dict[str, Path]:
    base = catalog.root / "agents" / "scripted"
    return {
        "client": base / "client.yaml",
        "advisor": base / "advisor.yaml",
        "observers": base / "observers.yaml",
    }


def build_scripted(catalog: Catalog, *, anti_pattern_rate: float) -> AgentSet:
    from .scripted.advisor import ScriptedAdvisor
    from .scripted.client import ScriptedClient
    from .scripted.critic import RuleCritic
    from .scripted.observers import (
        CueSentenceObserver,
        LexiconEmotionObserver,
        LexiconStrategyObserver,
    )
    from .scripted.templates import AdvisorTemplates, ClientTemplates, ObserverMarkers

    paths = scripted_template_paths(catalog)
    client = ScriptedClient(catalog, load_yaml_model(paths["client"], ClientTemplates))
    advisor = ScriptedAdvisor(
        catalog,
        load_yaml_model(paths["advisor"], AdvisorTemplates),
        anti_pattern_rate=anti_pattern_rate,
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
        prompt_hashes={role: file_sha256(path) for role, path in paths.items()},
    )
    for role in ROLES:
        agents.backends[role] = BackendInfo(backend="scripted", model=getattr(agents, role).name)
    agents.backends["arc_controller"] = BackendInfo(backend="rules", model=ARC_VERSION)
    return agents


def build_agents(
    catalog: Catalog, backend: str, *, anti_pattern_rate: float, run: object = None
) -> AgentSet:
    if backend == "scripted":
        return build_scripted(catalog, anti_pattern_rate=anti_pattern_rate)
    raise EmosimError(f"--backend: unknown backend {backend!r} (available: scripted)")
