"""The classifier emotion observer: mappings, data readers, training, observer, evaluations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from emosim.agents.classifier import build_classifier_observer, load_mappings
from emosim.agents.classifier.esconv import read_dialogs
from emosim.agents.classifier.evaluate import label_sets, multilabel_score, score
from emosim.agents.classifier.goemotions import read_ekman, read_examples, read_label_names
from emosim.agents.classifier.mappings import GOEMOTIONS_LABELS, mapping_table_markdown
from emosim.agents.classifier.model import (
    TrainingParams,
    _cv_macro_f1,
    _threshold,
    load_model,
    read_meta,
)
from emosim.agents.classifier.store import build_model
from emosim.agents.messages import EmotionObserverInput
from emosim.agents.protocols import EmotionObserver
from emosim.cli import app
from emosim.errors import DataError
from emosim.schemas import EmotionAnnotation

SHARED = Path(__file__).resolve().parent.parent / "data"
GO = SHARED / "goemotions"
ESCONV = SHARED / "esconv_sample"


@pytest.fixture(scope="session")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model trained on a seeded 3,000-row sample of the train split, shared by the tests."""
    path = tmp_path_factory.mktemp("classifier") / "model.npz"
    built = build_model(path, data_dir=GO, params=TrainingParams(sample=3000))
    assert built.built
    return path


@pytest.fixture(scope="session")
def observer(catalog, small_model: Path):
    return build_classifier_observer(catalog, model_path=small_model)


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- mappings --------------------------------------------------------------------------------


def test_mappings_cover_both_corpora(catalog) -> None:
    mappings = load_mappings(catalog)
    assert [m.label for m in mappings.goemotions] == list(GOEMOTIONS_LABELS)
    assert set(read_label_names(GO / "emotions.txt")) == set(GOEMOTIONS_LABELS)
    esconv_types = {json.loads(p.read_text())[0]["emotion_type"] for p in ESCONV.glob("*.json")} | {
        "anxiety",
        "depression",
        "sadness",
        "anger",
        "fear",
        "disgust",
        "shame",
    }
    esconv_types |= {"nervousness", "guilt", "jealousy", "pain"}  # all 11 of the README
    assert esconv_types <= set(mappings.esconv_map())
    for m in [*mappings.goemotions, *mappings.esconv]:
        assert catalog.emotions[m.emotion].family == m.family
        assert len(m.rationale) > 20
    table = mapping_table_markdown(mappings)
    assert "| admiration | `trust` | love |" in table
    assert table.count("\n| ") == 2 * 2 + len(mappings.goemotions) + len(mappings.esconv) - 1


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["goemotions"][2].update(emotion="rage"),
            "goemotions.2.emotion: Value error, unknown emotion id",
        ),
        (lambda d: d["goemotions"][2].update(family="love"), "is not the family of 'anger'"),
        (lambda d: d["goemotions"].pop(5), "not mapped: caring"),
        (lambda d: d["esconv"].append(dict(d["esconv"][0])), "'anxiety' is mapped twice"),
        (lambda d: d["goemotions"][0].update(colour="red"), "goemotions.0.colour: Extra inputs"),
    ],
)
def test_bad_mappings_name_file_line_and_field(
    tmp_path: Path, root: Path, catalog, mutate, expected: str
) -> None:
    data = yaml.safe_load((root / "taxonomies" / "mappings.yaml").read_text())
    mutate(data)
    path = tmp_path / "mappings.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(DataError) as err:
        load_mappings(catalog, path)
    message = str(err.value)
    assert message.startswith(f"{path}:") and expected in message, message


# --- data readers ----------------------------------------------------------------------------


def test_goemotions_reader_handles_quoting_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "rows.tsv"
    path.write_text('plain\t27\ta1\n"two\nlines ""quoted"""\t2,3\ta2\nlast\t5\ta3\n')
    rows = read_examples(path, 28)
    assert [r.line for r in rows] == [1, 2, 4]
    assert rows[1].text == 'two\nlines "quoted"' and rows[1].labels == (2, 3)
    assert len(read_examples(GO / "dev.tsv", 28)) == 5426
    groups = read_ekman(GO / "ekman_mapping.json", list(GOEMOTIONS_LABELS))
    assert groups["nervousness"] == "fear" and "neutral" not in groups


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("ok\t1\ta\nno id here\t2\n", ":2: expected 3 tab-separated columns"),
        ("ok\t1\ta\nfine\t3,28\tb\n", ":2: column 2 (label indices): unknown label index 28"),
        ("text\tlabels\tid\n", ":1: column 2 (label indices) must be comma-separated integers"),
        ("", ": empty file"),
        ("\n\n", ": empty file"),
    ],
)
def test_bad_goemotions_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(content)
    with pytest.raises(DataError) as err:
        read_examples(path, 28)
    assert str(err.value).startswith(str(path)) and expected in str(err.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[{"dialog": [{"speaker": "usr", "text": "hi"}]}]', "[0]: emotion_type: Field required"),
        (
            '[{"emotion_type": "anger", "dialog": [{"speaker": "bot", "text": "hi"}]}]',
            "dialog.0.speaker: unknown speaker 'bot'",
        ),
        ('{"emotion_type": "anger", "dialog": []}\n{"x": 1}\n{oops}\n', ":3: invalid JSON"),
        ("[1, 2]", "[0]: expected an ESConv dialog object, got int"),
        ("  ", ": empty file"),
    ],
)
def test_bad_esconv_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError) as err:
        read_dialogs(path)
    assert str(err.value).startswith(str(path)) and expected in str(err.value)


def test_esconv_reader_reads_both_shapes() -> None:
    split, _ = read_dialogs(ESCONV / "train_sample.json")
    original, _ = read_dialogs(ESCONV / "failed_sample.json")
    assert len(split) == 25 and len(original) == 10
    assert split[0].turns[1] == "I'm feeling anxious that I am going to lose my job."
    assert split[0].initial_intensity == 3.0
    assert all(t and not t.endswith("\n") for d in original for t in d.turns)


# --- training and the model file ------------------------------------------------------------


def test_training_is_deterministic_and_cached(tmp_path: Path) -> None:
    data = tmp_path / "goemotions"
    data.mkdir()
    shutil.copy(GO / "emotions.txt", data / "emotions.txt")
    rows = (GO / "train.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    (data / "train.tsv").write_text("".join(rows[:900]), encoding="utf-8")
    first = build_model(tmp_path / "a.npz", data_dir=data)
    second = build_model(tmp_path / "b.npz", data_dir=data)
    assert first.built and second.built
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert not build_model(tmp_path / "a.npz", data_dir=data).built  # up to date: cached
    with (data / "train.tsv").open("a", encoding="utf-8") as handle:
        handle.write(rows[900])
    assert build_model(tmp_path / "a.npz", data_dir=data).built  # data hash changed


def test_model_file_is_plain_arrays_with_attribution(small_model: Path) -> None:
    meta = read_meta(small_model)
    assert "GoEmotions" in meta.attribution and "CC BY 4.0" in meta.attribution
    assert meta.labels == list(GOEMOTIONS_LABELS) and meta.ekman["grief"] == "sadness"
    assert meta.n_train == 3000 and meta.n_calibration == 0  # calibrated out-of-fold
    assert meta.groups == ["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"]
    with np.load(small_model, allow_pickle=False) as arrays:
        assert arrays["coef"].shape[0] == 28 and arrays["group_coef"].shape[0] == 7
    model = load_model(small_model)
    margins = model.margins(["Thank you so much, that is so kind!"])
    assert model.labels[int(margins.argmax())] == "gratitude"
    # cross-validated figures: above chance, below the thresholds' own (in-sample) F1
    in_sample = np.mean([c.f1 for c in meta.group_calibration])
    assert meta.cv_group_macro_f1 is not None and 0.3 < meta.cv_group_macro_f1 < in_sample
    assert meta.cv_macro_f1 is not None and 0.1 < meta.cv_macro_f1 < 0.9


def test_cross_validated_f1_chooses_thresholds_on_other_folds() -> None:
    """Noise scores: thresholds tuned on the scored rows look good, chosen elsewhere they do
    not; a perfect score is perfect either way."""
    rng = np.random.default_rng(0)
    targets = np.zeros((400, 8), dtype=np.int8)
    targets[np.arange(400), rng.integers(0, 8, 400)] = 1  # one label a row, as in GoEmotions
    usable = np.ones_like(targets, dtype=bool)
    fold = np.arange(400) % 4
    perfect = np.where(targets == 1, 2.0, -2.0) + rng.normal(0, 0.1, targets.shape)
    assert _cv_macro_f1(perfect, targets, usable, fold, 4) == 1.0
    noise = rng.normal(size=targets.shape)
    in_sample = np.mean([_threshold(noise[:, k], targets[:, k])[1] for k in range(8)])
    assert _cv_macro_f1(noise, targets, usable, fold, 4) < in_sample - 0.01


def test_damaged_model_file_is_one_clear_error(tmp_path: Path, cli) -> None:
    path = tmp_path / "model.npz"
    path.write_text("not a zip")
    with pytest.raises(DataError, match="not an emosim classifier model"):
        load_model(path)
    result = cli.invoke(app, ["observer", "label", "hello", "--model", str(path)])
    assert result.exit_code == 1
    assert "not an emosim classifier model" in result.output


# --- the observer ----------------------------------------------------------------------------


def test_observer_annotates_with_exact_evidence(observer, catalog) -> None:
    assert isinstance(observer, EmotionObserver)
    text = "Thank you so much, that really helps!"
    annotation = observer.observe(EmotionObserverInput(text=text))
    assert isinstance(annotation, EmotionAnnotation)
    assert annotation.primary == "gratitude" and annotation.family == "love"
    assert (
        annotation.observer.startswith("classifier-emotion/") and "+lexicon" in annotation.observer
    )
    assert annotation.cues, "evidence spans expected"
    for cue in annotation.cues:
        assert text[cue.start : cue.end] == cue.text
    assert {"gratitude", "intensity"} <= {c.signals for c in annotation.cues}
    assert annotation.intensity_level == "high"  # "so", "really", "!" on a clear reading
    assert catalog.emotions[annotation.primary].family == annotation.family


def test_lexicon_reaches_members_goemotions_has_no_label_for(
    catalog, small_model, observer
) -> None:
    text = "I'm so overwhelmed, there's too much to handle and I don't know where to start."
    fused = observer.observe(EmotionObserverInput(text=text))
    plain = build_classifier_observer(catalog, model_path=small_model, lexicon=False)
    alone = plain.observe(EmotionObserverInput(text=text))
    assert fused.primary == "overwhelm" and fused.family == "fear"
    assert alone.primary != "overwhelm"  # no GoEmotions label maps to overwhelm
    assert any(c.signals == "overwhelm" and c.text == "overwhelmed" for c in fused.cues)


@pytest.mark.parametrize(
    "text",
    [
        "The rent went up and I panic.",
        "My landlord raised the rent from $1,400 to $1,650 and I panic every time I open the mail.",
    ],
)
def test_a_feeling_the_writer_names_is_never_read_as_no_emotion(
    catalog, small_model, observer, text: str
) -> None:
    """Figures and plain clauses pull the model toward neutral; "I panic" is still a feeling."""
    plain = build_classifier_observer(catalog, model_path=small_model, lexicon=False)
    assert plain.observe(EmotionObserverInput(text=text)).family != "fear"  # the model alone
    fused = observer.observe(EmotionObserverInput(text=text))
    assert fused.family == "fear"
    assert any(c.text == "panic" for c in fused.cues)


def test_only_the_writers_own_unnegated_feeling_counts_as_told(observer) -> None:
    """What overrides a neutral reading: a cue the writer says they feel, not one negated or
    one that names somebody else's feeling or a thing."""
    told = {
        "The rent went up and I panic.": True,
        "Honestly it makes me sick.": True,
        "We're so worried about Dad.": True,
        "I am not worried about it.": True,  # "not worried" is itself a cue (calm)
        "I'm not panicking.": False,
        "Panic selling is what the news talks about.": False,
        "My brother is anxious about it.": False,
    }
    assert {text: observer._cue_scores(text)[1] for text in told} == told


# --- evaluations -----------------------------------------------------------------------------


def test_score_counts_any_gold_label() -> None:
    accuracy, macro_f1, classes, labels, matrix = score(
        [["a", "b"], ["c"], ["b"]], ["b", "a", "b"], ["a", "b", "c"]
    )
    assert accuracy == round(2 / 3, 4)
    assert labels == ["a", "b", "c"]
    assert matrix == [[0, 0, 0], [0, 2, 0], [1, 0, 0]]  # row 1's gold is b (predicted, right)
    assert {c.label: c.f1 for c in classes} == {"a": 0.0, "b": 1.0, "c": 0.0}
    assert macro_f1 == round(1 / 3, 4)


def test_multilabel_score_is_the_papers_macro_f1() -> None:
    """Per class binary F1 over multi-label rows, averaged (GoEmotions' calculate_metrics)."""
    gold = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0]], dtype=np.int8)
    predicted = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [0, 1, 0]], dtype=np.int8)
    macro_f1, micro_f1, classes = multilabel_score(gold, predicted, ["a", "b", "c"])
    # a: 1 of 2 found, no false alarm; b: 2 found, 1 false alarm; c: exact
    assert {c.label: c.f1 for c in classes} == {"a": 0.6667, "b": 0.8, "c": 1.0}
    assert [c.support for c in classes] == [2, 2, 1] and [c.predicted for c in classes] == [1, 3, 1]
    assert macro_f1 == round((2 / 3 + 0.8 + 1.0) / 3, 4)
    assert micro_f1 == 0.8  # 4 hits, 1 false alarm, 1 miss
    margins = np.array([[0.5, -1.0, 2.0], [-0.5, -0.2, -3.0]])
    assert label_sets(margins).tolist() == [[1, 0, 1], [0, 1, 0]]  # none above: the top one


def test_eval_goemotions_fine_beats_the_majority_class(cli, small_model: Path) -> None:
    args = ["eval", "emotions", "--goemotions", str(GO / "dev.tsv"), "--sample", "400"]
    out = _json(cli.invoke(app, [*args, "--model", str(small_model), "--json"]))
    assert out["n"] == 400 and out["level"] == "fine"
    assert sum(map(sum, out["confusion"])) == 400
    assert out["accuracy"] > out["extra"]["majority_baseline_accuracy"] + 0.05
    assert 0.15 < out["macro_f1"] <= 1
    assert set(out["labels"]) <= set(GOEMOTIONS_LABELS)


@pytest.mark.parametrize(
    ("level", "classes"),
    [
        ("ekman", {"anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"}),
        (
            "family",
            {
                "anger",
                "sadness",
                "fear",
                "enjoyment",
                "love",
                "surprise",
                "disgust",
                "shame",
                "neutral",
            },
        ),
    ],
)
def test_eval_goemotions_grouped_levels(cli, small_model: Path, level: str, classes: set) -> None:
    args = ["eval", "emotions", "--goemotions", str(GO / "dev.tsv"), "--sample", "300"]
    args += ["--level", level, "--model", str(small_model), "--json"]
    out = _json(cli.invoke(app, args))
    assert out["n"] == 300 and set(out["labels"]) <= classes
    assert out["accuracy"] > out["extra"]["majority_baseline_accuracy"]
    if level == "ekman":  # read from the model's own Ekman heads, scored multi-label
        assert out["extra"]["ekman_heads"] == 1.0
        assert {c["label"] for c in out["classes"]} == classes
        assert sum(c["predicted"] for c in out["classes"]) >= 300  # one or more per row


def test_eval_esconv(cli, small_model: Path) -> None:
    for name, n in (("train_sample.json", 25), ("failed_sample.json", 10)):
        args = ["eval", "emotions", "--esconv", str(ESCONV / name), "--model", str(small_model)]
        out = _json(cli.invoke(app, [*args, "--json"]))
        assert out["n"] == n and out["dataset"] == "esconv" and out["level"] == "family"
        assert sum(map(sum, out["confusion"])) == n
        assert 0 <= out["macro_f1"] <= 1
    emotion = _json(cli.invoke(app, [*args, "--level", "emotion", "--json"]))
    assert "anxiety" in emotion["labels"] or "discouragement" in emotion["labels"]
    human = cli.invoke(app, args)
    assert human.exit_code == 0 and "macro-F1" in human.output and "confusion" in human.output


def test_eval_esconv_counts_unmapped_types(cli, small_model: Path, tmp_path: Path) -> None:
    dialogs = json.loads((ESCONV / "train_sample.json").read_text())[:3]
    dialogs[0]["emotion_type"] = "boredom"
    path = tmp_path / "dialogs.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in dialogs))
    args = ["eval", "emotions", "--esconv", str(path), "--model", str(small_model), "--json"]
    out = _json(cli.invoke(app, args))
    assert out["n"] == 2 and out["skipped"] == {"unmapped emotion_type 'boredom'": 1}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "give exactly one of --goemotions FILE or --esconv FILE"),
        (
            ["--goemotions", "x.tsv", "--level", "emotion"],
            "'emotion' is not a level for --goemotions",
        ),
        (["--goemotions", "missing.tsv"], "missing.tsv: file not found"),
    ],
)
def test_eval_usage_errors(cli, args: list[str], expected: str) -> None:
    result = cli.invoke(app, ["eval", "emotions", *args])
    assert result.exit_code == 1 and expected in result.output


def test_eval_bad_file_is_one_error_line(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("good row\t1\tid1\nonly two\t3\n")
    result = cli.invoke(app, ["eval", "emotions", "--goemotions", str(path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"{path}:2: expected 3 tab-separated columns" in lines[0]


def test_observer_train_and_label_commands(cli, tmp_path: Path, small_model: Path) -> None:
    out = tmp_path / "m.npz"
    args = ["observer", "train", "--out", str(out), "--data", str(GO), "--sample", "300"]
    first = _json(cli.invoke(app, [*args, "--json"]))
    again = _json(cli.invoke(app, [*args, "--json"]))
    assert first["built"] and not again["built"]
    assert first["meta"]["attribution"].startswith("Trained on GoEmotions")
    texts = ["Thank you so much!", "My account number ends in 42."]
    label_args = ["observer", "label", *texts, "--model", str(small_model), "--json"]
    result = cli.invoke(app, label_args)
    assert result.exit_code == 0, result.output
    annotations = json.loads(result.stdout)
    assert [a["primary"] for a in annotations] == ["gratitude", "gratitude"]  # carried forward


def test_cli_eval_legibility_reads_a_run_with_both_readers(
    cli, scripted_run, small_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, records = scripted_run
    monkeypatch.setenv("EMOSIM_CLASSIFIER_MODEL", str(small_model))
    out = tmp_path / "legibility.json"
    result = cli.invoke(app, ["eval", "legibility", str(run.records_path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["turns"] == sum(len(r.client_turns) for r in records)
    assert "Hidden family" in result.output

    empty = tmp_path / "none.jsonl"
    empty.write_text("", encoding="utf-8")
    refused = cli.invoke(app, ["eval", "legibility", str(empty)])
    assert refused.exit_code != 0 and "Traceback" not in refused.output
