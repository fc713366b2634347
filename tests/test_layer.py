"""The emotional layer: next-strategy model, chat-time reading, endpoint, commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from emosim.agents.classifier.goemotions import file_sha256
from emosim.agents.classifier.model import TrainingParams
from emosim.agents.classifier.store import build_model as build_emotion_model
from emosim.agents.classifier.strategy_model import StrategyParams
from emosim.agents.classifier.strategy_store import build_strategy_model
from emosim.cli import app
from emosim.evals.esconv import LABELS
from emosim.layer.evaluate import cross_validate
from emosim.layer.fast import FastTfidf
from emosim.layer.model import (
    EmotionFeatures,
    NextStrategyParams,
    load_model,
    taxonomy_prior,
    train,
)
from emosim.layer.reading import Layer
from emosim.layer.store import build_model, emotion_observer
from emosim.layer.turns import NextTurn, from_messages, read_next_turns

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = DATA / "esconv_sample" / "train_sample.json"

CONVERSATION = [
    {"role": "system", "content": "You help customers of a phone company."},
    {"role": "user", "content": "Hi, my bill doubled this month and nobody told me why."},
    {"role": "assistant", "content": "I'm sorry about that. What plan are you on right now?"},
    {"role": "user", "content": "The basic one."},
    {"role": "user", "content": "I'm so scared I won't be able to pay rent, I can't sleep."},
]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, catalog) -> dict[str, Path]:
    """Small emotion and strategy models, and a next-strategy model on the 25-dialog sample."""
    folder = tmp_path_factory.mktemp("layer")
    emotion = folder / "emotion.npz"
    build_emotion_model(emotion, data_dir=DATA / "goemotions", params=TrainingParams(sample=1000))
    strategy = folder / "strategy.npz"
    build_strategy_model(
        strategy, data_dir=DATA / "esconv_train", params=StrategyParams(sample=600)
    )
    sample_dir = folder / "esconv"
    sample_dir.mkdir()
    (sample_dir / "train.jsonl").write_text(SAMPLE.read_text())
    nxt = folder / "next.npz"
    built = build_model(nxt, emotion_observer(catalog, emotion), catalog, data_dir=sample_dir)
    assert built.built
    return {"emotion": emotion, "strategy": strategy, "next": nxt, "data": sample_dir}


@pytest.fixture(scope="module")
def layer(models, catalog) -> Layer:
    return Layer.load(
        catalog,
        model_path=models["next"],
        emotion_model=models["emotion"],
        strategy_model=models["strategy"],
    )


def test_turns_see_only_the_past() -> None:
    turns, skipped = read_next_turns(SAMPLE)
    assert skipped == 0
    first = json.loads(SAMPLE.read_text())[0]["dialog"]
    gold = [u["strategy"] for u in first if u["speaker"] == "sys"]
    mine = [t for t in turns if t.dialog == turns[0].dialog]
    assert [t.strategy for t in mine] == gold
    for k, turn in enumerate(mine):
        assert turn.history == tuple(gold[:k])  # only what came before
        assert turn.supporter_index == k


def test_from_messages_joins_client_messages_and_counts_turns() -> None:
    chat = [(m["role"], m["content"]) for m in CONVERSATION if m["role"] != "system"]
    turn = from_messages(chat, ["Question"])
    assert turn.seeker == "The basic one. I'm so scared I won't be able to pay rent, I can't sleep."
    assert turn.previous.startswith("I'm sorry")
    assert (turn.supporter_index, turn.seeker_turns, turn.follows_supporter) == (1, 2, False)


def test_history_features_are_learned() -> None:
    """A synthetic corpus where the next strategy is the one after the last: learnable only
    from the history features, so top-1 must be near perfect."""
    turns, gold = [], []
    for d in range(60):
        history: list[str] = []
        for k in range(8):
            nxt = LABELS[(LABELS.index(history[-1]) + 1) % 8] if history else LABELS[d % 8]
            turns.append(
                NextTurn(
                    seeker="hello there",
                    previous="okay then",
                    history=tuple(history),
                    supporter_index=k,
                    seeker_turns=k,
                    strategy=nxt,
                    dialog=f"d{d}",
                )
            )
            history.append(nxt)
            gold.append(nxt)
    emotions = EmotionFeatures(np.zeros((len(turns), 9)), [None] * len(turns))
    result = cross_validate(turns, emotions, {}, params=NextStrategyParams(prior=False), folds=3)
    assert result.top1 > 0.8 > result.majority_top1
    assert result.top3 >= result.top1


def test_training_is_deterministic_and_carries_the_license(models, tmp_path: Path) -> None:
    model = load_model(models["next"])
    assert model.meta.license.startswith("CC BY-NC")
    assert "ESConv" in model.meta.attribution
    assert model.meta.data_sha256 == file_sha256(models["data"] / "train.jsonl")
    turns = read_next_turns(SAMPLE)[0][:150]
    emotions = EmotionFeatures(np.full((len(turns), 9), 0.1), ["worry"] * len(turns))
    prior = model.prior
    one = train(turns, emotions, prior, families=model.meta.families, emotion_model="x")
    two = train(turns, emotions, prior, families=model.meta.families, emotion_model="x")
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    one.save(a)
    two.save(b)
    assert a.read_bytes() == b.read_bytes()
    loaded, few = load_model(a), EmotionFeatures(emotions.masses[:5], emotions.primaries[:5])
    assert np.allclose(loaded.log_proba(turns[:5], few), one.log_proba(turns[:5], few))


def test_taxonomy_prior_follows_helpful_strategies(catalog) -> None:
    prior = taxonomy_prior(catalog)
    shame = catalog.emotions["shame"]
    esconv = {catalog.strategies[s].esconv for s in shame.helpful_strategies}
    favoured = {LABELS[i] for i in np.flatnonzero(prior["shame"] > prior["shame"].min())}
    assert favoured == esconv
    assert np.isclose(prior["shame"].sum(), 1.0)


def test_fast_tfidf_equals_scikit_learn() -> None:
    texts = ["I can't sleep, I'm so worried!", "What plan are you on?", "okay okay okay", ""]
    for kw in ({"ngram_range": (1, 2)}, {"analyzer": "char_wb", "ngram_range": (2, 4)}):
        fitted = TfidfVectorizer(sublinear_tf=True, dtype=np.float32, **kw).fit(texts * 2)
        assert np.allclose(
            FastTfidf(fitted).transform(texts).toarray(),
            fitted.transform(texts).toarray(),
            atol=1e-6,
        )


def test_read_conversation(layer, catalog) -> None:
    reading = layer.read(CONVERSATION)
    emotion = reading.emotion
    assert emotion.family == catalog.emotions[emotion.emotion].family
    assert emotion.text.startswith("The basic one.")
    for cue in emotion.evidence:
        assert emotion.text[cue.start : cue.end] == cue.text
    assert len(reading.history) == 1 and reading.history[0] in LABELS
    assert abs(sum(reading.esconv.values()) - 1) < 1e-3
    scores = [s.score for s in reading.strategies]
    assert scores == sorted(scores, reverse=True) and len(scores) == 5
    harmful = set(catalog.emotions[emotion.emotion].harmful_strategies)
    assert not {s.id for s in reading.strategies} & harmful
    assert {a.id for a in reading.avoid} <= set(catalog.anti_patterns)
    assert {a.id for a in reading.avoid} >= harmful & set(catalog.anti_patterns)
    assert all(p.function in catalog.functions for p in reading.plan)
    top = catalog.strategies[reading.strategies[0].id].name.lower()
    assert (
        top in reading.guidance and catalog.emotions[emotion.emotion].adjective in reading.guidance
    )
    assert reading.models["license"].startswith("CC BY-NC")


def test_read_needs_a_client_message(layer) -> None:
    from emosim.errors import DataError

    with pytest.raises(DataError, match="no user message"):
        layer.read([{"role": "assistant", "content": "Hello, how can I help?"}])


def test_endpoint(layer) -> None:
    from fastapi.testclient import TestClient

    from emosim.layer.server import create_app

    client = TestClient(create_app(layer, "s3cret", max_body=4096), base_url="http://127.0.0.1")
    good = {"Authorization": "Bearer s3cret"}
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.post("/v1/read", json={"messages": CONVERSATION}).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert client.post("/v1/read", json={"messages": CONVERSATION}, headers=bad).status_code == 401
    response = client.post("/v1/read", json={"messages": CONVERSATION}, headers=good)
    assert response.status_code == 200, response.text
    assert response.json()["emotion"]["text"].startswith("The basic one.")
    huge = [{"role": "user", "content": "x" * 5000}]
    assert client.post("/v1/read", json=huge, headers=good).status_code == 413
    wrong = client.post("/v1/read", json=[{"role": "robot", "content": "hi"}], headers=good)
    assert wrong.status_code == 422 and "messages.0.role" in wrong.text
    assert client.post("/v1/read", content=b"{", headers=good).status_code == 400
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404
    # a token in the URL lands in access logs: refused even with a good header
    in_url = client.post("/v1/read?token=s3cret", json={"messages": CONVERSATION}, headers=good)
    assert in_url.status_code == 400 and "s3cret" not in in_url.text


def test_layer_read_command(cli, models, tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"messages": CONVERSATION}))
    args = [
        "--model",
        str(models["next"]),
        "--emotion-model",
        str(models["emotion"]),
        "--strategy-model",
        str(models["strategy"]),
    ]
    result = cli.invoke(app, ["layer", "read", str(path), *args])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["strategies"]
    path.write_text(json.dumps({"messages": [{"role": "user"}]}))
    result = cli.invoke(app, ["layer", "read", str(path), *args])
    assert result.exit_code != 0 and "messages.0.content" in result.output


def test_eval_layer_command(cli, models) -> None:
    emotion = ["--emotion-model", str(models["emotion"])]
    result = cli.invoke(
        app, ["eval", "layer", "--esconv", str(SAMPLE), "--cv", "2", "--json", *emotion]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (
        out["n"] == sum(r["support"] for r in out["per_label"]) == len(read_next_turns(SAMPLE)[0])
    )
    assert 0 < out["top1"] <= out["top3"] <= 1 and out["prior"] is True
    held = cli.invoke(
        app,
        [
            "eval",
            "layer",
            "--esconv",
            str(SAMPLE),
            "--model",
            str(models["next"]),
            "--json",
            *emotion,
        ],
    )
    assert held.exit_code == 0, held.output
    assert json.loads(held.stdout)["model_saw_file"] is True


def test_outcomes_count_what_each_strategy_did(scripted_run) -> None:
    from emosim.layer.outcomes import improvement_rate, learn_outcomes

    _, records = scripted_run
    cells = learn_outcomes(records)
    assert cells and all(0 <= c.advanced <= c.total for c in cells)
    record = records[0]
    moves = {m.exchange: m.movement for m in record.outcome.arc_moves}
    primaries = [
        (t.strategies or t.intended_strategies).primary
        for t in record.turns
        if t.speaker == "advisor" and t.exchange in moves and t.index > 0
    ]
    counted = {}
    for c in cells:
        counted[c.strategy] = counted.get(c.strategy, 0) + c.total
    for strategy in set(primaries):
        assert counted[strategy] >= primaries.count(strategy)
    cell = cells[0]
    rate = improvement_rate(cells, cell.family, cell.strategy)
    assert rate == (cell.advanced + 1) / (cell.total + 2)
    assert improvement_rate(cells, "no-such-family", cell.strategy) is None


def test_char_variant_scores_equal_transforming_each_variant() -> None:
    from emosim.layer.fast import char_variant_scores

    text = "I'm SO scared, honestly... can't sleep; rent's due!"
    corpus = [text, "scared of rent", "honestly fine", "sleep due"]
    fitted = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(corpus)
    spans = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
    variants = [text[:s] + text[e:] for s, e in spans]
    weights = np.random.default_rng(0).normal(size=len(fitted.vocabulary_))
    full, cut = char_variant_scores(FastTfidf(fitted), text, spans, weights)
    assert np.allclose(cut, fitted.transform(variants) @ weights, atol=1e-6)
    assert np.isclose(full, (fitted.transform([text]) @ weights)[0], atol=1e-6)


def test_fast_evidence_equals_the_observers(layer, models, catalog) -> None:
    from emosim.agents.messages import EmotionObserverInput

    stock = emotion_observer(catalog, models["emotion"])
    for text in ("I'm so scared I can't pay rent.", "Honestly I'm furious, they lied to me!"):
        ours = layer.observer.observe(EmotionObserverInput(text=text))
        theirs = stock.observe(EmotionObserverInput(text=text))
        assert ours == theirs


def test_layer_serve_needs_a_token(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMOSIM_LAYER_TOKEN", raising=False)
    result = cli.invoke(app, ["layer", "serve"])
    assert result.exit_code != 0 and "EMOSIM_LAYER_TOKEN" in result.output
