"""Generated artifacts stay in sync with their sources: JSON Schema, documents, diagrams."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from emosim.docs import render_docs
from emosim.schema_export import render_schemas


def test_json_schema_files_match_models(root: Path) -> None:
    for name, text in render_schemas().items():
        path = root / "schemas" / name
        assert path.is_file(), f"{path} missing: run `emosim schema`"
        assert path.read_text(encoding="utf-8") == text, f"{path} drifted: run `emosim schema`"


def test_documents_match_yaml(root: Path, catalog) -> None:
    for name, text in render_docs(catalog).items():
        path = root / "docs" / name
        assert path.is_file(), f"{path} missing: run `emosim docs`"
        assert path.read_text(encoding="utf-8") == text, f"{path} drifted: run `emosim docs`"


def test_seeds_validate_against_published_json_schema(root: Path) -> None:
    schema = json.loads((root / "schemas" / "conversation_record.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    seeds = sorted((root / "seeds").glob("*.json"))
    assert len(seeds) >= 3
    for path in seeds:
        errors = list(validator.iter_errors(json.loads(path.read_text(encoding="utf-8"))))
        assert errors == [], f"{path}: {errors[0].message if errors else ''}"


def test_simulated_record_validates_against_json_schema(root: Path, record_dict: dict) -> None:
    schema = json.loads((root / "schemas" / "conversation_record.schema.json").read_text())
    jsonschema.validate(record_dict, schema)


def test_every_model_field_has_a_description() -> None:
    import typing

    from pydantic import BaseModel

    from emosim.schema_export import PUBLISHED

    seen: set[type] = set()
    missing: list[str] = []

    def models_in(annotation) -> list[type]:
        found = []
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.append(annotation)
        for arg in typing.get_args(annotation):
            found.extend(models_in(arg))
        return found

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            if not field.description:
                missing.append(f"{model.__name__}.{name}")
            for inner in models_in(field.annotation):
                walk(inner)

    for model in PUBLISHED.values():
        walk(model)
    assert missing == []


def test_compiled_seeds_match_their_sources(root: Path, catalog) -> None:
    from emosim.seeds import compile_seed

    sources = sorted((root / "seeds" / "src").glob("*.yaml"))
    assert len(sources) >= 3
    for src in sources:
        compiled = compile_seed(catalog, src).model_dump_json(indent=2) + "\n"
        target = root / "seeds" / f"{src.stem}.json"
        assert target.read_text(encoding="utf-8") == compiled, (
            f"{target}: run `emosim seed compile`"
        )
