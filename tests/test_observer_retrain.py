"""Retraining observers from reviewed labels: which labels train, corrections that change the
model, determinism, provenance on every label event, and license inheritance."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emosim.agents.classifier import build_classifier_observer
from emosim.agents.classifier.model import TrainingParams, load_model, read_meta
from emosim.agents.classifier.provenance import ESCONV_LICENSE, GOEMOTIONS_LICENSE
from emosim.agents.classifier.retrain import combined_sha256, train_emotion_from_store
from emosim.agents.classifier.store import build_model
from emosim.agents.messages import EmotionObserverInput
from emosim.cli import app
from emosim.errors import DataError
from emosim.labels.store import LabelStore
from emosim.labels.training import read_training_set
from emosim.schemas import ConversationRecord, LabelEvent, LabelSource

GO = Path(__file__).resolve().parents[1] / "data" / "goemotions"
PHRASE = "I keep the envelope from the bank in a drawer and never open it."
CORRECTED = "shame"
SAMPLE = 1500  # public rows: enough for a model, small enough for a test
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _event(cid: str, turn: int, value, kind: str, action: str = "correct", **extra) -> LabelEvent:
    source = {"kind": kind, "name": extra.pop("name", f"{kind}-1")}
    if "license" in extra:
        source["license"] = extra.pop("license")
    return LabelEvent(
        event_id=extra.pop("event_id", f"{cid}:t{turn}:{kind}:{action}"),
        created_at=extra.pop("created_at", T0),
        target={"conversation_id": cid, "turn_index": turn, "field": "emotion"},
        value=value,
        source=source,
        action=action,
        **extra,
    )


def _records(base: ConversationRecord, n: int, phrase: str | None, prefix: str) -> list:
    """Copies of a scripted record (their model label events kept), client turns = phrase."""
    out = []
    for i in range(n):
        doc = json.loads(base.model_dump_json())
        doc["id"] = f"{prefix}{i}"
        for turn in doc["turns"]:
            if turn["speaker"] == "client" and phrase is not None:
                turn["text"] = phrase
        for event in doc["label_events"]:
            event["target"]["conversation_id"] = doc["id"]
            event["event_id"] = event["event_id"].replace(base.id, doc["id"])
        out.append((f"{prefix}.jsonl:{i}", ConversationRecord.model_validate(doc)))
    return out


def _store(path: Path, base: ConversationRecord, catalog, *, license: str = "") -> Path:
    """10 conversations whose client turns all say PHRASE, every turn corrected to CORRECTED
    by an operator (50 labels), plus one untouched conversation (model labels only)."""
    planted = _records(base, 10, PHRASE, "planted-")
    other = _records(base, 1, None, "other-")
    with LabelStore.open(path, create=True) as store:
        store.import_records(planted + other, catalog)
        events = [
            (where, _event(r.id, t.index, CORRECTED, "live_operator", license=license))
            for where, r in planted
            for t in r.client_turns
        ]
        store.append(events, catalog)
    return path


@pytest.fixture(scope="module")
def base(scripted_run) -> ConversationRecord:
    return scripted_run[1][0]


@pytest.fixture(scope="module")
def store(tmp_path_factory, base, catalog) -> Path:
    return _store(tmp_path_factory.mktemp("store") / "labels.sqlite", base, catalog)


@pytest.fixture(scope="module")
def public_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("public") / "public.npz"
    build_model(path, data_dir=GO, params=TrainingParams(sample=SAMPLE))
    return path


@pytest.fixture(scope="module")
def retrained(tmp_path_factory, store, catalog) -> Path:
    training = read_training_set(store, "emotion", catalog=catalog)
    model = train_emotion_from_store(training, data_dir=GO, params=TrainingParams(sample=SAMPLE))
    path = tmp_path_factory.mktemp("retrained") / "emotion.npz"
    model.save(path)
    return path


def _read(catalog, model: Path, text: str) -> str:
    observer = build_classifier_observer(catalog, model_path=model)
    return observer.observe(EmotionObserverInput(text=text)).primary


# --- which labels train ----------------------------------------------------------------------


def test_only_resolved_human_labels_train(tmp_path: Path, base, catalog) -> None:
    path = _store(tmp_path / "labels.sqlite", base, catalog)
    ((where, other),) = _records(base, 1, None, "other-")
    turns = [t.index for t in other.client_turns]
    with LabelStore.open(path) as store:
        model_event = next(
            e
            for e in store.events(other.id)
            if e.target.field == "emotion" and e.target.turn_index == turns[0]
        )
        store.append(
            [
                # a reviewer accepts the model's reading: a human label with the model's value
                (
                    where,
                    _event(
                        other.id,
                        turns[0],
                        None,
                        "human_bulk_review",
                        "accept",
                        supersedes=model_event.event_id,
                    ),
                ),
                # a rule's label is not a human label
                (where, _event(other.id, turns[1], "anger", "rule", "suggest")),
                # an operator's correction that is then retracted leaves the model's label
                (where, _event(other.id, turns[2], "anger", "live_operator", event_id="op-x")),
                (
                    where,
                    _event(
                        other.id,
                        turns[2],
                        None,
                        "live_operator",
                        "retract",
                        supersedes="op-x",
                        event_id="op-x-retract",
                        created_at=T0 + timedelta(hours=1),
                    ),
                ),
            ],
            catalog,
        )
    training = read_training_set(path, "emotion", catalog=catalog)
    labels = {(e.conversation_id, e.turn_index): e.label for e in training.examples}
    assert labels[(other.id, turns[0])] == model_event.value
    assert (other.id, turns[1]) not in labels and (other.id, turns[2]) not in labels
    assert sum(1 for k in labels if k[0].startswith("planted-")) == 50
    assert set(training.counts()) == {CORRECTED, model_event.value}
    assert training.skipped["decided by model"] == len(turns) - 2
    assert training.skipped["decided by rule"] == 1
    assert all(e.text == PHRASE for e in training.examples if e.conversation_id.startswith("p"))
    # a store with no reviewed labels cannot train a model on its own
    empty = tmp_path / "empty.sqlite"
    with LabelStore.open(empty, create=True) as store:
        store.import_records(_records(base, 1, None, "x-"), catalog)
    none = read_training_set(empty, "emotion", catalog=catalog)
    assert none.examples == []
    with pytest.raises(DataError, match="no reviewed emotion labels"):
        train_emotion_from_store(none, public=False)


# --- corrections change the model ------------------------------------------------------------


def test_planted_corrections_change_the_observer(catalog, public_model, retrained) -> None:
    before = _read(catalog, public_model, PHRASE)
    assert before != CORRECTED
    assert _read(catalog, retrained, PHRASE) == CORRECTED
    # the rest of what the public data taught is still there
    assert _read(catalog, retrained, "Thank you so much, that is a huge help!") == "gratitude"
    meta = read_meta(retrained)
    assert f"emosim:{CORRECTED}" in meta.labels and len(meta.labels) == 29
    assert [s.name for s in meta.sources] == ["goemotions", "label-store"]
    assert [s.rows for s in meta.sources] == [SAMPLE, 50]


def test_store_only_model(tmp_path: Path, store, catalog) -> None:
    training = read_training_set(store, "emotion", catalog=catalog)
    model = train_emotion_from_store(training, public=False)
    path = tmp_path / "own.npz"
    model.save(path)
    assert model.meta.labels == ["neutral", f"emosim:{CORRECTED}", *model.meta.labels[2:]]
    assert _read(catalog, path, PHRASE) == CORRECTED
    assert [s.name for s in model.meta.sources] == ["label-store"]


# --- determinism and the training data hash --------------------------------------------------


def test_retraining_is_deterministic_and_hashes_the_store(
    tmp_path: Path, store, catalog, retrained, base
) -> None:
    training = read_training_set(store, "emotion", catalog=catalog)
    again = train_emotion_from_store(training, data_dir=GO, params=TrainingParams(sample=SAMPLE))
    path = tmp_path / "again.npz"
    again.save(path)
    assert path.read_bytes() == retrained.read_bytes()
    meta = read_meta(retrained)
    store_source = meta.sources[-1]
    assert store_source.sha256 == training.sha256
    assert meta.data_sha256 == combined_sha256(meta.sources)
    # one label more gives another store hash and another training data hash
    changed = tmp_path / "changed.sqlite"
    _store(changed, base, catalog)
    with LabelStore.open(changed) as s:
        cid = "other-0"
        turn = next(e.target.turn_index for e in s.events(cid) if e.target.field == "emotion")
        s.append([("x", _event(cid, turn, "anger", "live_operator"))], catalog)
    other = read_training_set(changed, "emotion", catalog=catalog)
    assert other.sha256 != training.sha256
    # the same labels in another store file hash the same (the content, not the SQLite bytes)
    same = read_training_set(
        _store(tmp_path / "same.sqlite", base, catalog), "emotion", catalog=catalog
    )
    assert same.sha256 == training.sha256


# --- licenses --------------------------------------------------------------------------------


def test_license_follows_the_training_data(tmp_path: Path, store, base, catalog) -> None:
    training = read_training_set(store, "emotion", catalog=catalog)
    combined = train_emotion_from_store(training, data_dir=GO, params=TrainingParams(sample=SAMPLE))
    assert combined.meta.license == GOEMOTIONS_LICENSE
    assert combined.meta.attribution.startswith("Trained on GoEmotions")
    own = train_emotion_from_store(training, public=False)
    assert own.meta.license == "" and own.meta.attribution == ""
    # labels imported from a CC BY-NC corpus keep its license through a retrain
    nc = read_training_set(
        _store(tmp_path / "nc.sqlite", base, catalog, license=ESCONV_LICENSE),
        "emotion",
        catalog=catalog,
    )
    assert nc.licenses == [ESCONV_LICENSE]
    alone = train_emotion_from_store(nc, public=False)
    assert alone.meta.license == ESCONV_LICENSE and "ESConv" in alone.meta.attribution
    both = train_emotion_from_store(nc, data_dir=GO, params=TrainingParams(sample=SAMPLE))
    assert both.meta.license == f"{GOEMOTIONS_LICENSE}; {ESCONV_LICENSE}"
    assert "GoEmotions" in both.meta.attribution and "non-commercial" in both.meta.attribution


# --- provenance and the loop: review -> store -> retrain -> next batch -------------------------


def test_next_batch_labels_carry_the_retrained_models_provenance(
    tmp_path: Path, cli, store, catalog, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emosim.graphs.runner import load_job, run_jobs

    data = tmp_path / "goemotions"  # the shipped files, with a short dev split to score on
    data.mkdir()
    for name in ("emotions.txt", "ekman_mapping.json", "train.tsv"):
        (data / name).symlink_to(GO / name)
    dev = (GO / "dev.tsv").read_text(encoding="utf-8").splitlines(keepends=True)[:300]
    (data / "dev.tsv").write_text("".join(dev), encoding="utf-8")
    out = tmp_path / "run-models" / "emotion-observer.npz"
    args = ["observer", "train", "--from-store", str(store), "--data", str(data)]
    args += ["--sample", str(SAMPLE), "--out", str(out), "--json"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["store_labels"] == 50 and payload["labels"] == {CORRECTED: 50}
    meta = read_meta(out)
    monkeypatch.setenv("EMOSIM_CLASSIFIER_MODEL", str(out))
    job = load_job(catalog, root / "simulations" / "inherited_ira_grief_widow.yaml", 1)
    run, (record,) = run_jobs(
        catalog, [job], tmp_path / "runs", "scripted", "loop", "pytest", observer="classifier"
    )
    assert read_meta(out) == meta  # the retrained model was used, not rebuilt from GoEmotions
    emotion = [e for e in record.label_events if e.target.field == "emotion"]
    assert emotion
    file_sha = hashlib.sha256(out.read_bytes()).hexdigest()
    for e in emotion:
        assert e.source.kind == "model" and e.source.name == "classifier-emotion"
        assert e.source.version == f"{meta.code_version}:{meta.data_sha256[:12]}+lexicon"
        assert e.source.model_sha256 == file_sha
        assert e.source.data_sha256 == meta.data_sha256
        assert e.source.license == GOEMOTIONS_LICENSE
    # lexicon observers keep name and version, with no model provenance
    functions = [e for e in record.label_events if e.target.field == "sentence_function"]
    assert functions and all(
        e.source.name.startswith("scripted-sentence")
        and e.source.version
        and not e.source.model_sha256
        and not e.source.license
        for e in functions
    )
    assert load_model(out).file_sha256 == file_sha
    # the report shows the scores on human text stored in the model, apart from the agreement
    # on simulated text, and finds the model by the hash its labels carry
    assert [(s.dataset, s.n) for s in meta.human_text] == [("goemotions", 300), ("esconv", 25)]
    report = tmp_path / "report"
    args = ["report", str(run.path), "--out", str(report), "--observer-model", str(out)]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads((report / "figures.json").read_text(encoding="utf-8"))
    entry, strategy = figures["human_text"]
    assert strategy["role"] == "strategy" and strategy["scores"] == []  # the lexicon's
    assert entry["observer"] == f"classifier-emotion/{emotion[0].source.version}"
    assert entry["model_file"] == str(out) and entry["license"] == GOEMOTIONS_LICENSE
    stored = [s.accuracy for s in meta.human_text]
    assert [s["accuracy"] for s in entry["scores"]] == stored
    assert str(out) in entry["scores"][0]["command"] and "THIS_MODEL" not in json.dumps(entry)
    page = (report / "report.html").read_text(encoding="utf-8")
    human = page.index("Observer accuracy on human text")
    simulated = page.index("Agreement on simulated text")
    assert page.index(f"{stored[0]:.3f}", human) < simulated  # in its own section


def test_strategy_labels_imported_from_esconv_keep_context_and_license(
    tmp_path: Path, cli, catalog
) -> None:
    from emosim.labels.store import iter_dataset

    esconv = Path(__file__).resolve().parents[1] / "data" / "esconv_sample" / "train_sample.json"
    out = tmp_path / "esconv"
    result = cli.invoke(app, ["import", str(esconv), "--format", "esconv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with LabelStore.open(tmp_path / "labels.sqlite", create=True) as s:
        s.import_records(list(iter_dataset([out])), catalog)
        infos = s.conversations()
    # an operator accepts a licensed observer's suggestion: the label keeps that license
    with LabelStore.open(tmp_path / "labels.sqlite") as s:
        annotated = next(e for e in s.events() if e.source.name == "esconv-annotators")
        suggested = annotated.model_copy(
            update={
                "event_id": "suggest-1",
                "source": LabelSource(kind="model", name="trained", license=ESCONV_LICENSE),
                "action": "suggest",
            }
        )
        accept = suggested.model_copy(
            update={
                "event_id": "accept-1",
                "source": LabelSource(kind="live_operator", name="ana"),
                "action": "accept",
                "value": None,
                "supersedes": "suggest-1",
            }
        )
        s.append([("review", suggested), ("review", accept)], catalog)
    training = read_training_set(tmp_path / "labels.sqlite", "strategy", catalog=catalog)
    accepted = next(e for e in training.examples if e.source == "live_operator:ana")
    assert accepted.license == ESCONV_LICENSE and accepted.label == annotated.value
    assert len(training.examples) > 100
    assert training.licenses == [ESCONV_LICENSE]
    for e in training.examples:
        turns = infos[e.conversation_id].turns
        assert turns[e.turn_index].speaker == "advisor" and e.text == turns[e.turn_index].text
        assert e.context == turns[e.turn_index - 1].text and e.label in catalog.strategies
        assert e.source in ("human_bulk_review:esconv-annotators", "live_operator:ana")


# --- the export's dataset card lists what labels inherit ----------------------------------


def _labelled_by(base: ConversationRecord, field: str, **source) -> dict:
    """The record with every `field` label made by an observer with the given provenance."""
    doc = json.loads(base.model_dump_json())
    doc["provenance"]["backends"]["emotion_observer"] = {"backend": "classifier", "model": "x"}
    for event in doc["label_events"]:
        if event["target"]["field"] == field:
            event["source"] = {"kind": "model", **source}
    return doc


def _card(cli, tmp_path: Path, doc: dict, name: str) -> tuple[str, dict]:
    path = tmp_path / f"{name}.jsonl"
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    out = tmp_path / name
    args = ["export", str(path), "--out", str(out), "--format", "openai-chat", "--labels", "none"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    card = (out / "README.md").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return card, manifest


@pytest.mark.parametrize(
    ("field", "license", "inherits", "card_license"),
    [
        ("emotion", GOEMOTIONS_LICENSE, "Demszky et al. 2020", "cc-by-4.0"),
        ("strategy", ESCONV_LICENSE, "Liu et al. 2021", "cc-by-nc-4.0"),
        ("emotion", "", None, "cc-by-4.0"),  # trained on the user's own labels only
    ],
)
def test_card_lists_licenses_inherited_from_observers(
    cli, tmp_path: Path, base, field: str, license: str, inherits: str | None, card_license: str
) -> None:
    source = {"name": "trained-obs", "version": "1:abc", "model_sha256": "f" * 64}
    doc = _labelled_by(base, field, **source, data_sha256="d" * 64, license=license)
    card, manifest = _card(cli, tmp_path, doc, "out")
    front = card.split("---")[1]
    assert f"license: {card_license}" in front
    if inherits:
        assert manifest["label_licenses"] == {"model:trained-obs/1:abc": license}
        assert f"- `model:trained-obs/1:abc`: {license}" in card and inherits in card
    else:
        assert manifest["label_licenses"] == {} and manifest["data_sources"] == []
        assert "Demszky" not in card and "Liu et al." not in card


def test_report_says_a_lexicon_observer_has_no_figures_on_human_text(
    cli, scripted_run, tmp_path: Path
) -> None:
    run, _ = scripted_run
    result = cli.invoke(app, ["report", str(run.path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "r" / "figures.json").read_text(encoding="utf-8"))
    emotion, strategy = figures["human_text"]
    assert emotion["observer"].startswith("scripted-emotion/") and emotion["role"] == "emotion"
    assert strategy["observer"].startswith("scripted-strategy/") and strategy["role"] == "strategy"
    for entry in (emotion, strategy):
        assert entry["scores"] == [] and "not measured on human text" in entry["note"]
    assert "not measured" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--from-store", "{tmp}/missing.sqlite"], "missing.sqlite: no label store here"),
        (["--no-public"], "--no-public: give --from-store STORE"),
        (["--kind", "sentence"], "--kind: 'sentence' is not an observer kind"),
    ],
)
def test_observer_train_bad_options_are_one_error(cli, tmp_path: Path, args, expected) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = cli.invoke(app, ["observer", "train", "--out", str(tmp_path / "m.npz"), *args])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.output
    assert not (tmp_path / "m.npz").exists()
