"""The observers' accuracy on human text, as stored in their model files at training time.

Agreement with the hidden arc (observer.py) is measured on text the simulator wrote; it says
little about people's messages. A trained observer's model file holds its scores on
human-labelled text (emotion: GoEmotions dev and the ESConv sample, `emosim observer train
--measure`; strategy: cross-validation by dialog on ESConv, `observer train --kind strategy
--cv N`), so the report shows those beside, and apart from, the simulated-text agreement.
The model file is found by the SHA-256 its labels carry (label provenance), else by its
version, among the files given (`--observer-model`), the default models and `*.npz` beside
the inputs. An observer without a model file (a lexicon) has no stored figures, and the
report says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from emosim.agents.classifier.provenance import MODEL_PLACEHOLDER, HumanTextScore
from emosim.schemas import ConversationRecord
from emosim.schemas.common import StrictModel

TRAINED_PREFIXES = ("classifier-emotion", "trained-strategy")
"""Names of the observers that read with a trained model file."""


class ObserverOnHumanText(StrictModel):
    observer: str = Field(description="The observer as its labels name it (name/version).")
    role: str = Field(default="emotion", description="emotion or strategy.")
    model_file: str | None = Field(default=None, description="Model file the figures are from.")
    license: str = Field(default="", description="License the observer's labels inherit.")
    scores: list[HumanTextScore] = Field(
        default_factory=list, description="Scores stored in the model at training time."
    )
    note: str = Field(default="", description="Why there are no figures, when there are none.")


@dataclass(frozen=True)
class _Model:
    path: Path
    sha256: str
    version: str  # as the observer's name carries it, after the "/"
    meta: Any


def candidate_models(inputs: Iterable[str], given: Iterable[Path] = ()) -> list[Path]:
    """Model files to look in: the given ones, the default models, *.npz beside the inputs."""
    from emosim.agents.classifier.store import default_model_path
    from emosim.agents.classifier.strategy_store import (
        default_model_path as default_strategy_path,
    )

    found: list[Path] = [*given, default_model_path(), default_strategy_path()]
    for item in inputs:
        folder = Path(item) if Path(item).is_dir() else Path(item).parent
        found += sorted(folder.glob("*.npz"))
    return [p for p in dict.fromkeys(found) if p.is_file()]


def _models(paths: list[Path]) -> list[_Model]:
    from emosim.agents.classifier.model import read_meta
    from emosim.agents.classifier.strategy_model import read_model_meta
    from emosim.errors import DataError

    out = []
    for path in paths:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            meta = read_meta(path)
            out.append(_Model(path, sha, f"{meta.code_version}:{meta.data_sha256[:12]}", meta))
            continue
        except DataError:
            pass
        try:
            meta = read_model_meta(path)
            out.append(_Model(path, sha, f"{meta.name}:{meta.version}", meta))
        except DataError:
            continue  # not an observer model file
    return out


def _observers(records: list[ConversationRecord]) -> dict[str, tuple[str, str, str]]:
    """Observer name -> (role, model_sha256, license), from label events and annotations."""
    names: dict[str, tuple[str, str, str]] = {}
    for record in records:
        for e in record.label_events:
            if e.source.kind == "model" and e.target.field in ("emotion", "strategy"):
                s = e.source
                name = f"{s.name}/{s.version}" if s.version else s.name
                names.setdefault(name, (e.target.field, s.model_sha256, s.license))
        for t in record.client_turns:
            if t.annotation is not None and t.annotation.observer:
                names.setdefault(t.annotation.observer, ("emotion", "", ""))
        for t in record.advisor_turns:
            if t.strategies is not None and t.strategies.source:
                names.setdefault(t.strategies.source, ("strategy", "", ""))
    return names


def observers_on_human_text(
    records: list[ConversationRecord], model_files: list[Path]
) -> list[ObserverOnHumanText]:
    """One entry per emotion or strategy observer whose labels the records carry."""
    names = _observers(records)
    trained = any(n.startswith(TRAINED_PREFIXES) for n in names)
    models = _models(model_files) if trained else []
    out: list[ObserverOnHumanText] = []
    for name, (role, sha, license) in sorted(names.items(), key=lambda x: (x[1][0], x[0])):
        entry = ObserverOnHumanText(observer=name, role=role, license=license)
        if not name.startswith(TRAINED_PREFIXES):
            entry.note = (
                "no model file: a lexicon (or hand-authored) reading, not measured on human "
                "text when built; its agreement on simulated text is below"
            )
            out.append(entry)
            continue
        version = name.partition("/")[2].split("+", 1)[0]
        match = next((m for m in models if sha and m.sha256 == sha), None) or next(
            (m for m in models if m.version == version), None
        )
        if match is None:
            entry.note = "its model file was not found (pass --observer-model FILE)"
            out.append(entry)
            continue
        entry.model_file = str(match.path)
        entry.license = license or match.meta.license
        entry.scores = [
            s.model_copy(update={"command": s.command.replace(MODEL_PLACEHOLDER, str(match.path))})
            for s in match.meta.human_text
        ]
        if not entry.scores:
            entry.note = "not measured when trained (see `emosim observer train --help`)"
        out.append(entry)
    return out
