"""The observers' accuracy on human text, as stored in their model files at training time.

Agreement with the hidden arc (observer.py) is measured on text the simulator wrote; it says
little about people's messages. A trained observer's model file holds its scores on
human-labelled text (GoEmotions dev, the ESConv sample; `emosim observer train --measure`),
so the report shows those beside, and apart from, the simulated-text agreement. The model
file is found by the SHA-256 its labels carry (label provenance), else by its version, among
the files given (`--observer-model`), the default model and `*.npz` beside the inputs.
An observer without a model file (a lexicon) has no such figures, and the report says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field

from emosim.agents.classifier.provenance import MODEL_PLACEHOLDER, HumanTextScore
from emosim.schemas import ConversationRecord
from emosim.schemas.common import StrictModel


class ObserverOnHumanText(StrictModel):
    observer: str = Field(description="The observer as its labels name it (name/version).")
    model_file: str | None = Field(default=None, description="Model file the figures are from.")
    license: str = Field(default="", description="License the observer's labels inherit.")
    scores: list[HumanTextScore] = Field(
        default_factory=list, description="Scores stored in the model at training time."
    )
    note: str = Field(default="", description="Why there are no figures, when there are none.")


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def candidate_models(inputs: Iterable[str], given: Iterable[Path] = ()) -> list[Path]:
    """Model files to look in: the given ones, the default model, *.npz beside the inputs."""
    from emosim.agents.classifier.store import default_model_path

    found: list[Path] = [*given, default_model_path()]
    for item in inputs:
        folder = Path(item) if Path(item).is_dir() else Path(item).parent
        found += sorted(folder.glob("*.npz"))
    return [p for p in dict.fromkeys(found) if p.is_file()]


def _models(paths: list[Path]) -> list[tuple[Path, str, object]]:
    from emosim.agents.classifier.model import read_meta
    from emosim.errors import DataError

    out = []
    for path in paths:
        try:
            meta = read_meta(path)
        except DataError:
            continue  # not an emotion model file
        out.append((path, _file_sha256(path), meta))
    return out


def observers_on_human_text(
    records: list[ConversationRecord], model_files: list[Path]
) -> list[ObserverOnHumanText]:
    """One entry per emotion observer whose labels the records carry."""
    names: dict[str, tuple[str, str]] = {}  # observer -> (model_sha256, license)
    for record in records:
        for e in record.label_events:
            if e.source.kind == "model" and e.target.field == "emotion":
                name = f"{e.source.name}/{e.source.version}" if e.source.version else e.source.name
                names.setdefault(name, (e.source.model_sha256, e.source.license))
        for t in record.client_turns:
            if t.annotation is not None and t.annotation.observer:
                names.setdefault(t.annotation.observer, ("", ""))
    models = _models(model_files) if any(n.startswith("classifier") for n in names) else []
    out: list[ObserverOnHumanText] = []
    for name, (sha, license) in sorted(names.items()):
        if not name.startswith("classifier"):
            note = (
                "no model file: a lexicon (or hand-authored) reading, not measured on human "
                "text; its agreement on simulated text is below"
            )
            out.append(ObserverOnHumanText(observer=name, license=license, note=note))
            continue
        version = name.partition("/")[2].split("+", 1)[0]
        match = next((m for m in models if sha and m[1] == sha), None) or next(
            (
                m
                for m in models
                if f"{m[2].code_version}:{m[2].data_sha256[:12]}" == version  # type: ignore[attr-defined]
            ),
            None,
        )
        if match is None:
            out.append(
                ObserverOnHumanText(
                    observer=name,
                    license=license,
                    note="its model file was not found (pass --observer-model FILE)",
                )
            )
            continue
        path, _, meta = match
        scores = [
            s.model_copy(update={"command": s.command.replace(MODEL_PLACEHOLDER, str(path))})
            for s in meta.human_text  # type: ignore[attr-defined]
        ]
        out.append(
            ObserverOnHumanText(
                observer=name,
                model_file=str(path),
                license=license or meta.license,  # type: ignore[attr-defined]
                scores=scores,
                note=""
                if scores
                else "not measured when trained (run `emosim observer train --measure`)",
            )
        )
    return out
