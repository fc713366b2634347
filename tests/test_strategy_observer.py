"""The trained strategy observer: ESConv readers, deterministic training, readings, eval, runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emosim.agents.classifier.esconv_train import (
    StrategyExample,
    esconv_strategy,
    read_strategy_examples,
)
from emosim.agents.classifier.strategy_model import (
    StrategyParams,
    load_strategy_model,
    read_model_meta,
    train_strategy_model,
)
from emosim.agents.classifier.strategy_observer import TrainedStrategyObserver
from emosim.agents.classifier.strategy_store import build_strategy_model
from emosim.agents.protocols import StrategyObserver
from emosim.cli import app
from emosim.errors import DataError, EmosimError
from emosim.evals.esconv import LABELS, read_labelled

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = DATA / "esconv_sample" / "train_sample.json"
FAILED = DATA / "esconv_sample" / "failed_sample.json"
PARAMS = StrategyParams(sample=900)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on a seeded 900-utterance sample of the shipped train split."""
    path = tmp_path_factory.mktemp("strategy") / "model.npz"
    built = build_strategy_model(path, data_dir=DATA / "esconv_train", params=PARAMS)
    assert built.built
    return path


@pytest.fixture(scope="module")
def observer(catalog, model_path: Path) -> TrainedStrategyObserver:
    from emosim.agents.scripted.observers import LexiconStrategyObserver

    model = load_strategy_model(model_path)
    return TrainedStrategyObserver(catalog, model, lexicon=LexiconStrategyObserver(catalog))


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- readers ---------------------------------------------------------------------------------


def test_split_file_list_and_jsonl_read_the_same(tmp_path: Path) -> None:
    examples, skipped = read_strategy_examples(SAMPLE)
    assert skipped == 0
    assert len(examples) == len(read_labelled(SAMPLE)[0])  # the eval's own count
    lines = tmp_path / "sample.jsonl"
    lines.write_text("\n".join(json.dumps(d) for d in json.loads(SAMPLE.read_text())))
    again, _ = read_strategy_examples(lines)
    assert [(e.text, e.context, e.strategy, e.index, e.count) for e in again] == [
        (e.text, e.context, e.strategy, e.index, e.count) for e in examples
    ]
    first = json.loads(SAMPLE.read_text())[0]["dialog"]
    seeker_before = []
    for u in first:
        if u["speaker"] == "sys":
            break
        seeker_before.append(u["text"].strip())
    assert examples[0].context == " ".join(" ".join(seeker_before).split())
    assert examples[0].index == 0
    assert all(e.strategy in LABELS for e in examples)


def test_original_release_shape_and_positions(tmp_path: Path) -> None:
    doc = [
        {
            "dialog": [
                {"speaker": "seeker", "content": "I lost my job."},
                {"speaker": "seeker", "content": "And rent is due."},
                {"speaker": "supporter", "content": "That sounds hard.", "annotation": {}},
                {
                    "speaker": "supporter",
                    "content": "What happened?",
                    "annotation": {"strategy": "Questions"},
                },
                {"speaker": "seeker", "content": "They closed."},
                {
                    "speaker": "supporter",
                    "content": "Try the job center.",
                    "annotation": {"strategy": "Direct Guidance"},
                },
                {
                    "speaker": "supporter",
                    "content": "I was let go once too.",
                    "annotation": {"strategy": "Self-disclosure"},
                },
            ]
        }
    ]
    path = tmp_path / "ESConv.json"
    path.write_text(json.dumps(doc))
    examples, skipped = read_strategy_examples(path)
    assert skipped == 1  # "Direct Guidance" is not one of the eight
    assert [(e.strategy, e.context, e.index, e.count, e.follows_supporter) for e in examples] == [
        ("Question", "I lost my job. And rent is due.", 1, 4, True),
        ("Self-disclosure", "They closed.", 3, 4, True),
    ]
    failed, _ = read_strategy_examples(FAILED)
    assert failed and all(e.context or e.index == 0 for e in failed[:3])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "empty file"),
        ('{"dialog": [{"speaker": "bot", "text": "hi"}]}', "dialog.0.speaker: unknown speaker"),
        ('[{"no_dialog": 1}]', "expected an ESConv dialog with a 'dialog' list"),
        ('[{"dialog": [{"speaker": "usr", "text": "hi"}]}]', "no supporter utterance"),
    ],
)
def test_bad_esconv_files_are_one_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError, match=expected) as info:
        read_strategy_examples(path)
    assert str(path) in str(info.value)


def test_taxonomy_ids_are_read_as_their_esconv_names(catalog) -> None:
    names = {s.id: s.esconv for s in catalog.strategies_file.strategies}
    assert esconv_strategy("open_question", names) == "Question"
    assert esconv_strategy("Others", names) == "Others"
    with pytest.raises(DataError, match="'hugging'"):
        esconv_strategy("hugging", names)


def test_a_label_outside_the_eight_names_the_example() -> None:
    examples = [StrategyExample(text=f"hello {i}", strategy="Question") for i in range(30)]
    examples[7] = StrategyExample(text="x", strategy="Hugging", where="mine.jsonl:8")
    with pytest.raises(DataError, match="mine.jsonl:8: strategy 'Hugging'"):
        train_strategy_model(examples, StrategyParams())


# --- the model -------------------------------------------------------------------------------


def test_same_data_same_model_bytes(tmp_path: Path, model_path: Path) -> None:
    again = tmp_path / "again.npz"
    built = build_strategy_model(again, data_dir=DATA / "esconv_train", params=PARAMS)
    assert built.built
    assert again.read_bytes() == model_path.read_bytes()
    # cached: same data, code and params are not retrained
    assert not build_strategy_model(again, data_dir=DATA / "esconv_train", params=PARAMS).built
    other = tmp_path / "other.npz"
    build_strategy_model(
        other, data_dir=DATA / "esconv_train", params=PARAMS.model_copy(update={"seed": 1})
    )
    assert other.read_bytes() != model_path.read_bytes()


def test_model_file_is_plain_arrays_with_license(model_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(model_path) as archive:
        names = archive.namelist()
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in archive.infolist())
    assert "meta.json" in names and all(n.endswith(".npy") for n in names if n != "meta.json")
    with np.load(model_path, allow_pickle=False) as data:
        assert all(data[n[:-4]].dtype != object for n in names if n.endswith(".npy"))
    meta = read_model_meta(model_path)
    assert meta.license.startswith("CC BY-NC 4.0")
    assert "Liu et al., 2021" in meta.attribution and "ACL 2021" in meta.attribution
    assert meta.name == "esconv-strategy" and meta.version.endswith(meta.data_sha256[:12])
    assert meta.sources[0].name == "esconv" and meta.sources[0].rows == 900


def test_damaged_model_file_is_one_clear_error(tmp_path: Path, cli) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not an emosim strategy model"):
        load_strategy_model(bad)
    result = cli.invoke(app, ["observer", "strategies", "hello", "--model", str(bad)])
    assert result.exit_code != 0
    assert "not an emosim strategy model" in result.output


def test_model_learns_beyond_the_majority_class(model_path: Path) -> None:
    """Scored on the FailedESConv sample, dialogs the train split does not hold."""
    model = load_strategy_model(model_path)
    examples, _ = read_strategy_examples(FAILED)
    named, probs = model.predict(examples)
    gold = [e.strategy for e in examples]
    accuracy = np.mean([a == b for a, b in zip(named, gold, strict=True)])
    majority = max(gold.count(label) for label in set(gold)) / len(gold)
    assert accuracy > majority + 0.1
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert len(set(named)) >= 5  # not one or two strategies for everything


def test_confidence_is_calibrated_on_unseen_dialogs(model_path: Path) -> None:
    """On FailedESConv's sample the mean confidence is close to the accuracy, and the more
    confident half of the readings is right more often than the less confident half."""
    model = load_strategy_model(model_path)
    examples, _ = read_strategy_examples(FAILED)
    named, probs = model.predict(examples)
    confidence = np.array([probs[i, model.labels.index(n)] for i, n in enumerate(named)])
    right = np.array([n == e.strategy for n, e in zip(named, examples, strict=True)])
    assert abs(confidence.mean() - right.mean()) < 0.15
    high = confidence >= np.median(confidence)
    assert right[high].mean() > right[~high].mean() + 0.1


# --- the observer ----------------------------------------------------------------------------


def test_reading_per_reply_and_sentence(observer: TrainedStrategyObserver) -> None:
    reply = (
        "I'm so sorry you're going through this. "
        "Have you thought about talking to your manager about it?"
    )
    reading = observer.read(reply, "My boss keeps yelling at me and I can't sleep.")
    assert len(reading.sentences) == 2
    for part in [reading, *reading.sentences]:
        assert 0 < part.confidence <= 1
        assert part.esconv in LABELS
        assert abs(sum(part.distribution.values()) - 1) < 1e-3
        assert part.confidence == pytest.approx(part.distribution[part.esconv], abs=1e-4)
        assert observer.catalog.strategies[part.strategy].esconv == part.esconv
        assert part.evidence and all(e.weight > 0 for e in part.evidence)
        for e in part.evidence:
            if e.source in ("reply", "opening"):
                assert all(w in part.text.lower() for w in e.term.split() if w not in "!?")
    for sentence in reading.sentences:
        assert reply[sentence.start : sentence.end] == sentence.text
    assert reading.license.startswith("CC BY-NC 4.0")
    disclosure = observer.read("I went through the same thing when I lost my job last year.")
    assert disclosure.esconv == "Self-disclosure"
    assert observer.read("What happened next with your sister?").esconv == "Question"


def test_observe_follows_the_protocol(observer: TrainedStrategyObserver) -> None:
    from emosim.agents.protocols import observe_strategies

    assert isinstance(observer, StrategyObserver)
    use = observe_strategies(
        observer, "That must be scary. Could we look at your budget together?", "I'm scared."
    )
    assert use.source.startswith("trained-strategy/esconv-strategy:")
    assert use.primary in observer.catalog.strategies
    assert use.primary not in use.combination
    assert 0 < use.confidence <= 1


def test_lexicon_picks_the_member_of_an_esconv_strategy(observer: TrainedStrategyObserver) -> None:
    members = observer.members["Affirmation and Reassurance"]
    assert len(members) > 1
    assert observer.member("Affirmation and Reassurance", "xyzzy") == members[0]
    cue = next(
        s for s in observer.catalog.strategies_file.strategies if s.id == "normalizing"
    ).cues[0]
    assert observer.member("Affirmation and Reassurance", f"Well, {cue}.") == "normalizing"


# --- commands --------------------------------------------------------------------------------


def test_eval_strategies_json_trained_and_lexicon(cli, model_path: Path) -> None:
    trained = _json(
        cli.invoke(
            app,
            ["eval", "strategies", "--esconv", str(FAILED), "--model", str(model_path), "--json"],
        )
    )
    assert trained["observer"].startswith("trained-strategy/")
    assert trained["n"] == len(read_labelled(FAILED)[0])
    assert [r["label"] for r in trained["per_label"]] == list(LABELS)
    f1 = [r["f1"] for r in trained["per_label"]]
    assert trained["macro_f1"] == pytest.approx(sum(f1) / 8, abs=1e-3)
    assert trained["license"].startswith("CC BY-NC 4.0") and trained["no_cue_share"] is None
    lexicon = _json(
        cli.invoke(
            app, ["eval", "strategies", "--esconv", str(FAILED), "--observer", "lexicon", "--json"]
        )
    )
    assert lexicon["observer"].startswith("scripted-strategy/")
    assert lexicon["n"] == trained["n"]


def test_eval_strategies_reads_each_utterance_in_its_dialog(catalog, model_path: Path) -> None:
    """Given a whole ESConv file the eval feeds the model everything it was trained with: the
    seeker turn before each utterance, its place among the supporter's utterances, and whether
    it continues the supporter's own turn. Its confusion matrix is the model's on the file's
    examples, and not the one of the same utterances read without their dialog."""
    from sklearn.metrics import confusion_matrix

    from emosim.evals.strategies import evaluate_strategies

    result = evaluate_strategies(catalog, FAILED, model_path=model_path)
    model = load_strategy_model(model_path)
    examples, _ = read_strategy_examples(FAILED)
    gold = [e.strategy for e in examples]
    in_dialog = confusion_matrix(gold, model.predict(examples)[0], labels=list(LABELS))
    assert result.confusion == in_dialog.tolist()
    alone = [StrategyExample(text=e.text) for e in examples]
    assert (
        result.confusion
        != confusion_matrix(gold, model.predict(alone)[0], labels=list(LABELS)).tolist()
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--observer", "oracle"], "not a strategy observer"),
        (["--observer", "lexicon", "--model", "x.npz"], "only the trained observer"),
    ],
)
def test_eval_strategies_usage_errors(cli, args: list[str], expected: str) -> None:
    result = cli.invoke(app, ["eval", "strategies", "--esconv", str(FAILED), *args])
    assert result.exit_code != 0
    assert expected in result.output


def test_train_command_json_and_missing_data(cli, tmp_path: Path, model_path: Path) -> None:
    out = tmp_path / "m.npz"
    result = cli.invoke(
        app,
        [
            "observer",
            "train",
            "--kind",
            "strategy",
            "--sample",
            "900",
            "--data",
            str(DATA / "esconv_train"),
            "--out",
            str(out),
            "--json",
        ],
    )
    payload = _json(result)
    assert payload["built"] and out.read_bytes() == model_path.read_bytes()
    assert payload["meta"]["license"].startswith("CC BY-NC 4.0")
    missing = cli.invoke(
        app, ["observer", "train", "--kind", "strategy", "--data", str(tmp_path), "--out", str(out)]
    )
    assert missing.exit_code != 0
    assert "ESConv training file not found" in missing.output


def test_observer_strategies_command(cli, model_path: Path) -> None:
    readings = _json(
        cli.invoke(
            app,
            [
                "observer",
                "strategies",
                "I hear how exhausting this has been. Maybe start with one small bill?",
                "--context",
                "I'm so tired of juggling bills.",
                "--model",
                str(model_path),
                "--json",
            ],
        )
    )
    assert len(readings) == 1 and len(readings[0]["sentences"]) == 2
    assert {"esconv", "strategy", "confidence", "evidence"} <= set(readings[0])


# --- runs ------------------------------------------------------------------------------------


def test_run_with_trained_strategy_observer(
    tmp_path: Path, catalog, root: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emosim.exports.sources import derived_sources
    from emosim.graphs.runner import load_job, observer_spec, run_jobs
    from emosim.validate import validate_paths

    monkeypatch.setenv("EMOSIM_STRATEGY_MODEL", str(model_path))
    job = load_job(catalog, root / "simulations" / "inherited_ira_grief_widow.yaml", 1)
    spec = observer_spec("lexicon", "trained")
    run, (record,) = run_jobs(
        catalog, [job], tmp_path / "runs", "scripted", "st", "pytest", observer=spec
    )
    assert run.manifest()["observer"] == "lexicon,strategy=trained"
    info = record.provenance.backends["strategy_observer"]
    assert info.backend == "trained" and "esconv" in (info.model or "")
    assert all(t.strategies.source == info.model for t in record.advisor_turns)
    assert "esconv" in derived_sources(record)
    assert validate_paths([run.records_path], catalog).problems == []


def test_unknown_strategy_observer_is_one_clear_error(cli) -> None:
    from emosim.graphs.runner import check_observer, observer_spec

    with pytest.raises(EmosimError, match="unknown strategy observer 'oracle'"):
        observer_spec("lexicon", "oracle")
    with pytest.raises(EmosimError, match="expected EMOTION"):
        check_observer("lexicon,strategy=oracle")
    result = cli.invoke(app, ["run", "simulations/x.yaml", "--strategy-observer", "oracle"])
    assert result.exit_code != 0
    assert "unknown strategy observer 'oracle'" in result.output
