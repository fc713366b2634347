"""Retraining the strategy model from reviewed strategy labels in a label store."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from emosim.agents.classifier.esconv_train import StrategyExample
from emosim.agents.classifier.provenance import ESCONV_LICENSE
from emosim.agents.classifier.retrain_strategy import train_strategy_from_store
from emosim.agents.classifier.strategy_model import StrategyParams, load_strategy_model
from emosim.labels.store import LabelStore
from emosim.labels.training import StoreTrainingSet, read_training_set
from emosim.schemas import ConversationRecord, LabelEvent

PHRASE = "I did the same thing myself after my divorce, and I remember how that felt."
CONTEXT = "I can't stop thinking about the money."
CORRECTED = "open_question"  # ESConv: Question
PARAMS = StrategyParams(sample=1500)


def _store(path: Path, base: ConversationRecord, catalog) -> Path:
    """10 conversations whose advisor turns all say PHRASE after CONTEXT, every advisor
    turn's strategy corrected to CORRECTED by an operator."""
    records = []
    for i in range(10):
        doc = json.loads(base.model_dump_json())
        doc["id"] = f"planted-{i}"
        for turn in doc["turns"]:
            turn["text"] = PHRASE if turn["speaker"] == "advisor" else CONTEXT
            for sentence in turn.get("sentences") or []:
                sentence.update(text=PHRASE, start=0, end=len(PHRASE))
            if turn.get("sentences"):
                turn["sentences"] = turn["sentences"][:1]
        doc["label_events"] = []
        records.append((f"p.jsonl:{i}", ConversationRecord.model_validate(doc)))
    with LabelStore.open(path, create=True) as store:
        store.import_records(records, catalog)
        store.append(
            [
                (
                    where,
                    LabelEvent(
                        event_id=f"{r.id}:t{t.index}:op",
                        created_at=datetime(2026, 3, 1, tzinfo=UTC),
                        target={
                            "conversation_id": r.id,
                            "turn_index": t.index,
                            "field": "strategy",
                        },
                        value=CORRECTED,
                        source={"kind": "live_operator", "name": "ana"},
                        action="correct",
                    ),
                )
                for where, r in records
                for t in r.advisor_turns
            ],
            catalog,
        )
    return path


@pytest.fixture(scope="module")
def training(tmp_path_factory, scripted_run, catalog) -> StoreTrainingSet:
    path = _store(tmp_path_factory.mktemp("s") / "labels.sqlite", scripted_run[1][0], catalog)
    return read_training_set(path, "strategy", catalog=catalog)


def _predict(model, position: int = 1, count: int = 5) -> str:
    example = StrategyExample(text=PHRASE, context=CONTEXT, index=position, count=count)
    return model.predict([example])[0][0]


def test_planted_strategy_corrections_change_the_model(tmp_path, training, catalog) -> None:
    assert training.examples and all(e.context == CONTEXT for e in training.examples)
    empty = StoreTrainingSet(training.path, "strategy", [])
    before = train_strategy_from_store(empty, catalog, params=PARAMS)
    assert _predict(before) != "Question"
    after = train_strategy_from_store(training, catalog, params=PARAMS)
    assert _predict(after) == "Question"
    assert after.meta.license == ESCONV_LICENSE and "ESConv" in after.meta.attribution
    assert [s.name for s in after.meta.sources] == ["esconv", "label-store"]
    assert after.meta.params == PARAMS and after.meta.sources[0].rows == 1500
    # deterministic: same store, same bytes
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    after.save(a)
    train_strategy_from_store(training, catalog, params=PARAMS).save(b)
    assert a.read_bytes() == b.read_bytes()
    assert _predict(load_strategy_model(a)) == "Question"


def test_strategy_model_on_own_labels_inherits_no_license(training, catalog) -> None:
    # two strategies, so that a model can be fitted on the store alone
    examples = [
        replace(e, label="affirmation", text=f"You did well to come, {i}.") if i % 2 else e
        for i, e in enumerate(training.examples)
    ]
    own = train_strategy_from_store(
        StoreTrainingSet(training.path, "strategy", examples), catalog, public=False
    )
    assert own.meta.license == "" and own.meta.attribution == ""
    assert [s.name for s in own.meta.sources] == ["label-store"]


def test_next_batch_strategy_labels_carry_the_retrained_models_provenance(
    tmp_path: Path, cli, training, catalog, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from emosim.agents.classifier.strategy_model import read_model_meta
    from emosim.cli import app
    from emosim.graphs.runner import load_job, run_jobs

    out = tmp_path / "strategy-observer.npz"
    args = ["observer", "train", "--from-store", str(training.path), "--kind", "strategy"]
    result = cli.invoke(app, [*args, "--sample", "1500", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    meta = read_model_meta(out)
    monkeypatch.setenv("EMOSIM_STRATEGY_MODEL", str(out))
    job = load_job(catalog, root / "simulations" / "inherited_ira_grief_widow.yaml", 1)
    _, (record,) = run_jobs(
        catalog,
        [job],
        tmp_path / "runs",
        "scripted",
        "loop",
        "pytest",
        observer="lexicon,strategy=trained",
    )
    assert read_model_meta(out) == meta  # used as it is, not rebuilt from ESConv alone
    strategy = [e for e in record.label_events if e.target.field == "strategy"]
    assert strategy
    file_sha = hashlib.sha256(out.read_bytes()).hexdigest()
    for e in strategy:
        assert e.source.name == "trained-strategy" and e.source.model_sha256 == file_sha
        assert e.source.data_sha256 == meta.data_sha256 and e.source.license == ESCONV_LICENSE
    # the report finds the model by that hash and shows its stored figures on human text
    from emosim.agents.classifier.provenance import HumanTextScore
    from emosim.agents.classifier.strategy_model import load_strategy_model
    from emosim.reports.human_text import observers_on_human_text

    model = load_strategy_model(out)
    figure = HumanTextScore(
        dataset="esconv",
        split="planted",
        level="ESConv strategy (8)",
        n=10,
        accuracy=0.5,
        macro_f1=0.25,
        command="emosim eval strategies --model THIS_MODEL",
    )
    model.meta = model.meta.model_copy(update={"human_text": [figure]})
    moved = tmp_path / "elsewhere" / "model.npz"
    moved.parent.mkdir()
    model.save(moved)  # another file: found by the version its labels name
    entries = observers_on_human_text([record], [moved])
    (trained,) = [e for e in entries if e.role == "strategy"]
    assert trained.model_file == str(moved) and trained.license == ESCONV_LICENSE
    assert trained.scores == [
        figure.model_copy(update={"command": f"emosim eval strategies --model {moved}"})
    ]
    assert observers_on_human_text([record], [])[-1].note.startswith("its model file was not found")
