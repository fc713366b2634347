"""`emosim export`: every format loads with Hugging Face datasets, no advisor turn is lost or
duplicated, DPO pairs share their prompt, splits never share a family, bad input fails cleanly."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from emosim.cli import app
from emosim.exports.options import FORMATS
from emosim.exports.prompt import system_prompt
from emosim.exports.recipe import COLUMNS

SPLITS = ("train", "validation", "test")


# --- helpers ---------------------------------------------------------------------------------


def _export(cli: CliRunner, inputs: list[Path], out: Path, *args: str) -> dict:
    result = cli.invoke(app, ["export", *map(str, inputs), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _rows(out: Path) -> list[tuple[str, dict, dict]]:
    """(split, row, meta) of every row written, in file order."""
    found = []
    for split in SPLITS:
        path = out / f"{split}.jsonl"
        if not path.exists():
            assert not (out / "meta" / f"{split}.jsonl").exists()
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        metas = [
            json.loads(line)
            for line in (out / "meta" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        assert len(rows) == len(metas) > 0
        found += [(split, r, m) for r, m in zip(rows, metas, strict=True)]
    return found


def _docs(paths: list[Path]) -> dict[str, dict]:
    """Input records as raw JSON, by id (read independently of the exporter)."""
    docs: dict[str, dict] = {}
    for path in paths:
        path = path / "conversations.jsonl" if path.is_dir() else path
        if path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                doc = json.loads(line)
                docs[doc["id"]] = doc
        else:
            doc = json.loads(path.read_text(encoding="utf-8"))
            docs[doc["id"]] = doc
    return docs


def _advisor(doc: dict) -> list[dict]:
    return [t for t in doc["turns"] if t["speaker"] == "advisor"]


def _variant(doc: dict, new_id: str, seed_id: str) -> dict:
    out = copy.deepcopy(doc)
    out["id"] = new_id
    out["scenario"]["scenario_id"] = f"{new_id}-scenario"  # a variation is its own scenario
    out["lineage"]["seed_id"] = seed_id
    for event in out["label_events"]:
        event["event_id"] = f"{new_id}:{event['event_id']}"
        event["target"]["conversation_id"] = new_id
    return out


def _write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def inputs(scripted_run, root: Path) -> list[Path]:
    run, _ = scripted_run
    return [run.path, *sorted((root / "seeds").glob("*.json"))]


@pytest.fixture(scope="module")
def exported(inputs, tmp_path_factory) -> dict[str, Path]:
    """Every format exported once from the scripted run plus the three seeds."""
    base = tmp_path_factory.mktemp("exports")
    cli = CliRunner()
    outs = {}
    for fmt in FORMATS:
        outs[fmt] = base / fmt
        _export(cli, inputs, outs[fmt], "--format", fmt, "--split", "0.5,0.25,0.25")
    return outs


# --- formats load and have the rows they should ----------------------------------------------


def _expected_rows(docs: dict[str, dict], fmt: str) -> int:
    trainable = [t for d in docs.values() for t in _advisor(d) if t["training_weight"] > 0]
    negatives = sum(
        len({r["text"].strip() for r in t["rejected_drafts"]} - {t["text"].strip()})
        for t in trainable
    )
    if fmt in ("openai-chat", "trl-messages", "axolotl", "sharegpt"):
        return sum(1 for d in docs.values() if any(t["training_weight"] > 0 for t in _advisor(d)))
    if fmt in ("trl-prompt-completion", "layer", "layer-plan"):
        return len(trainable)
    if fmt in ("trl-dpo", "openai-dpo", "trl-reward"):
        return negatives
    if fmt == "trl-kto":
        return len(trainable) + negatives
    return sum(
        1
        for d in docs.values()
        for t in d["turns"]
        if t["speaker"] == "client" and t["annotation"] is not None
    )


def test_every_format_loads_with_hf_datasets(
    exported, inputs, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    datasets.disable_progress_bars()
    docs = _docs(inputs)
    assert len(docs) == 4
    for fmt, out in exported.items():
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        total = 0
        for split in SPLITS:
            summary = manifest["splits"][split]
            path = out / f"{split}.jsonl"
            assert path.exists() == (summary["rows"] > 0), (fmt, split)
            if not path.exists():
                continue
            ds = datasets.load_dataset(
                "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache")
            )
            assert ds.column_names == COLUMNS[fmt], fmt
            assert ds.num_rows == summary["rows"], (fmt, split)
            total += ds.num_rows
        assert total == _expected_rows(docs, fmt) > 0, fmt


def test_rows_have_each_trainers_exact_shape(exported) -> None:
    for split, row, _ in _rows(exported["openai-chat"]):
        for m in row["messages"]:
            assert set(m) == (
                {"role", "content", "weight"} if m["role"] == "assistant" else {"role", "content"}
            )
        assert row["messages"][-1]["role"] == "assistant", split
    for _, row, _ in _rows(exported["axolotl"]):
        assert all(isinstance(m["train"], bool) for m in row["messages"])
        assert [m["train"] for m in row["messages"] if m["role"] != "assistant"] == [False] * sum(
            m["role"] != "assistant" for m in row["messages"]
        )
    for _, row, _ in _rows(exported["sharegpt"]):
        froms = [t["from"] for t in row["conversations"]]
        assert froms[0] == "system" and froms[1] == "human" and froms[-1] == "gpt"
        assert set(froms[1:]) == {"human", "gpt"}
    for _, row, _ in _rows(exported["trl-kto"]):
        assert isinstance(row["label"], bool) and row["completion"][0]["role"] == "assistant"
    for _, row, _ in _rows(exported["emotion-classification"]):
        assert row["intensity_level"] in ("low", "medium", "high") and row["text"]
        assert all(c["speaker"] in ("client", "advisor") for c in row["context"])
        assert len(row["context"]) == row["turn_index"]


def test_rows_are_sorted_by_record_and_turn(exported) -> None:
    for fmt, out in exported.items():
        by_split: dict[str, list[tuple[str, int]]] = {}
        for split, _, meta in _rows(out):
            turn = -1 if meta["turn_index"] is None else meta["turn_index"]
            by_split.setdefault(split, []).append((meta["record_id"], turn))
        for keys in by_split.values():
            assert keys == sorted(keys), fmt


# --- no advisor turn lost or duplicated ------------------------------------------------------


def test_no_advisor_turn_lost_or_duplicated(exported, inputs) -> None:
    docs = _docs(inputs)
    every = {(rid, t["index"]): t["text"] for rid, d in docs.items() for t in _advisor(d)}
    # conversation formats with a per-turn flag: each advisor turn exactly once, in order
    for fmt, key in (("openai-chat", "weight"), ("axolotl", "train")):
        seen: list[tuple[str, int]] = []
        for _, row, meta in _rows(exported[fmt]):
            assistant = [m for m in row["messages"] if m["role"] == "assistant"]
            assert [m["content"] for m in assistant] == [
                every[(meta["record_id"], i)] for i in meta["advisor_turns"]
            ]
            assert all(bool(m[key]) for m in assistant)  # every turn of the inputs is trainable
            seen += [(meta["record_id"], i) for i in meta["advisor_turns"]]
        assert sorted(seen) == sorted(every), fmt
    for fmt in ("trl-messages", "sharegpt"):
        seen = [(m["record_id"], i) for _, _, m in _rows(exported[fmt]) for i in m["advisor_turns"]]
        assert sorted(seen) == sorted(every), fmt
    # one row per trainable turn: completions are exactly the sent replies
    completions = {}
    for _, row, meta in _rows(exported["trl-prompt-completion"]):
        key = (meta["record_id"], meta["turn_index"])
        assert key not in completions
        completions[key] = row["completion"][0]["content"]
    assert completions == every


# --- preference pairs ------------------------------------------------------------------------


def _history(doc: dict, turn_index: int, system: str) -> list[dict]:
    roles = {"client": "user", "advisor": "assistant"}
    return [{"role": "system", "content": system}] + [
        {"role": roles[t["speaker"]], "content": t["text"]} for t in doc["turns"][:turn_index]
    ]


def test_dpo_chosen_and_rejected_share_the_prompt(exported, inputs, catalog) -> None:
    docs = _docs(inputs)
    system = system_prompt(catalog.advisor)
    for fmt in ("trl-dpo", "openai-dpo", "trl-kto"):
        prompts: dict[tuple[str, int], list] = {}
        for _, row, meta in _rows(exported[fmt]):
            doc = docs[meta["record_id"]]
            turn = doc["turns"][meta["turn_index"]]
            assert turn["speaker"] == "advisor"
            if fmt == "openai-dpo":
                prompt, chosen, rejected = (
                    row["input"]["messages"], row["preferred_output"], row["non_preferred_output"]
                )  # fmt: skip
            elif fmt == "trl-dpo":
                prompt, chosen, rejected = row["prompt"], row["chosen"], row["rejected"]
            else:
                prompt = row["prompt"]
                chosen, rejected = (
                    (row["completion"], None) if row["label"] else (None, row["completion"])
                )
            # the prompt is the conversation up to (and including) that client turn
            assert prompt == _history(doc, meta["turn_index"], system)
            assert prompt[-1] == {
                "role": "user",
                "content": doc["turns"][meta["turn_index"] - 1]["text"],
            }
            prompts.setdefault((meta["record_id"], meta["turn_index"]), []).append(prompt)
            if chosen is not None:
                assert chosen == [{"role": "assistant", "content": turn["text"]}]
            if rejected is not None:
                assert meta["pair_source"] == "critic"
                drafts = {r["text"] for r in turn["rejected_drafts"]}
                assert rejected[0]["role"] == "assistant" and rejected[0]["content"] in drafts
                assert rejected[0]["content"] != turn["text"]
        for same_turn in prompts.values():
            assert all(p == same_turn[0] for p in same_turn)


def test_anti_pattern_pairs_fill_turns_without_rejected_drafts(
    cli, inputs, tmp_path, catalog
) -> None:
    manifest = _export(cli, inputs, tmp_path / "o", "--format", "trl-dpo", "--anti-pattern-pairs")
    docs = _docs(inputs)
    rows = _rows(tmp_path / "o")
    without = {
        (rid, t["index"])
        for rid, d in docs.items()
        for t in _advisor(d)
        if not t["rejected_drafts"]
    }
    anti = [(r, m) for _, r, m in rows if m["pair_source"] == "anti_pattern"]
    assert {(m["record_id"], m["turn_index"]) for _, m in anti} == without
    assert len(anti) == len(without) == manifest["pair_sources"]["anti_pattern"]
    for row, meta in anti:
        pattern = catalog.anti_patterns[meta["negative"]]
        assert row["rejected"][0]["content"] in pattern.examples
        assert (
            row["chosen"][0]["content"]
            == docs[meta["record_id"]]["turns"][meta["turn_index"]]["text"]
        )
    assert manifest["pair_sources"]["critic"] == len(rows) - len(anti)


def test_preference_export_without_negatives_is_a_clear_error(cli, root, tmp_path) -> None:
    doc = json.loads((root / "seeds" / "seed_retirement_anxiety_to_clarity.json").read_text())
    for turn in _advisor(doc):
        turn["rejected_drafts"] = []
    path = _write_jsonl(tmp_path / "r.jsonl", [doc])
    result = cli.invoke(
        app, ["export", str(path), "--format", "trl-dpo", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "no preference pairs" in result.output and "--anti-pattern-pairs" in result.output
    assert not (tmp_path / "o").exists()


# --- splits ----------------------------------------------------------------------------------


def test_splits_never_share_a_family_and_are_deterministic(cli, root, tmp_path) -> None:
    seeds = [json.loads(p.read_text()) for p in sorted((root / "seeds").glob("*.json"))]
    docs = list(seeds)
    for k in range(16):
        for m in range(2):
            base = seeds[(k + m) % len(seeds)]
            docs.append(_variant(base, f"fam{k:02d}-v{m}", f"family-{k:02d}"))
    for seed in seeds:  # variations of the real seeds join their seed's family
        docs.append(_variant(seed, f"{seed['id']}-var", seed["id"]))
    path = _write_jsonl(tmp_path / "many.jsonl", docs)
    first = _export(
        cli, [path], tmp_path / "a", "--format", "trl-prompt-completion", "--split", "0.4,0.3,0.3"
    )
    families_in: dict[str, set[str]] = {s: set() for s in SPLITS}
    record_split: dict[str, str] = {}
    for split, _, meta in _rows(tmp_path / "a"):
        families_in[split].add(meta["family"])
        assert record_split.setdefault(meta["record_id"], split) == split
    assert all(families_in.values()), families_in  # all three splits are used
    for a in SPLITS:
        for b in SPLITS:
            if a < b:
                assert not families_in[a] & families_in[b]
    assert len(set().union(*families_in.values())) == 19
    for seed in seeds:
        assert record_split[seed["id"]] == record_split[f"{seed['id']}-var"]
    for k in range(16):
        assert record_split[f"fam{k:02d}-v0"] == record_split[f"fam{k:02d}-v1"]
    assert first["family_splits"] == {
        fam: split for split, fams in families_in.items() for fam in fams
    }
    assert {s: first["splits"][s]["families"] for s in SPLITS} == {
        s: len(f) for s, f in families_in.items()
    }
    # same inputs and options -> byte-identical files
    _export(
        cli, [path], tmp_path / "b", "--format", "trl-prompt-completion", "--split", "0.4,0.3,0.3"
    )
    for name in first["files"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_reexport_removes_splits_it_no_longer_has(cli, inputs, tmp_path) -> None:
    out = tmp_path / "o"
    _export(cli, inputs, out, "--format", "openai-chat", "--split", "0.5,0.25,0.25")
    assert (out / "test.jsonl").exists()
    manifest = _export(cli, inputs, out, "--format", "openai-chat", "--split", "1,0,0")
    assert manifest["files"][:2] == ["train.jsonl", "meta/train.jsonl"]
    assert not (out / "test.jsonl").exists() and not (out / "meta" / "test.jsonl").exists()
    assert not list(out.rglob("*.tmp"))


# --- options ---------------------------------------------------------------------------------


def test_planning_target_prefixes_observed_emotion_and_strategy(cli, inputs, tmp_path) -> None:
    _export(cli, inputs, tmp_path / "o", "--format", "openai-chat", "--planning")
    docs = _docs(inputs)
    checked = 0
    for _, row, meta in _rows(tmp_path / "o"):
        doc = docs[meta["record_id"]]
        assert "<plan>" in row["messages"][0]["content"]  # the system prompt explains the plan
        assistant = [m for m in row["messages"] if m["role"] == "assistant"]
        for message, index in zip(assistant, meta["advisor_turns"], strict=True):
            turn, client = doc["turns"][index], doc["turns"][index - 1]
            a = client["annotation"]
            use = turn["strategies"] or turn["intended_strategies"]
            strategies = " + ".join(
                [use["primary"], *[s for s in use["combination"] if s != use["primary"]]]
            )
            plan = f"<plan>emotion: {a['primary']} ({a['intensity_level']}); strategy: {strategies}</plan>\n"
            assert message["content"] == plan + turn["text"]
            checked += 1
    assert checked == 24


def test_no_system_prompt(cli, inputs, tmp_path) -> None:
    _export(cli, inputs, tmp_path / "o", "--format", "trl-prompt-completion", "--no-system-prompt")
    for _, row, _ in _rows(tmp_path / "o"):
        assert row["prompt"][0]["role"] == "user"
        assert all(m["role"] != "system" for m in row["prompt"])


def test_trainable_turns_follow_weight_acceptance_and_quality(cli, root, tmp_path) -> None:
    doc = json.loads((root / "seeds" / "seed_investing_shame_to_empowerment.json").read_text())
    turns = _advisor(doc)
    turns[0]["training_weight"] = 0.0  # never trainable
    turns[1]["critic"]["accepted"] = False  # out with --trainable accepted
    turns[2]["critic"]["scores"]["overall"] = 0.4  # out with --min-quality 0.5
    turns[-1]["training_weight"] = 0.0  # last turn: rows without per-turn flags end earlier
    path = _write_jsonl(tmp_path / "r.jsonl", [doc])
    indices = [t["index"] for t in turns]

    def trained(*args: str) -> list[int]:
        out = tmp_path / "-".join(args).replace("-", "")
        _export(cli, [path], out, "--format", "trl-prompt-completion", *args)
        return [m["turn_index"] for _, _, m in _rows(out)]

    assert trained() == indices[1:-1]
    assert trained("--trainable", "accepted") == indices[2:-1]
    assert trained("--min-quality", "0.5") == [indices[1], *indices[3:-1]]
    assert trained("--trainable", "accepted", "--min-quality", "0.5") == indices[3:-1]

    manifest = _export(
        cli, [path], tmp_path / "chat", "--format", "openai-chat", "--trainable", "accepted"
    )
    ((_, row, _),) = _rows(tmp_path / "chat")
    weights = [m["weight"] for m in row["messages"] if m["role"] == "assistant"]
    assert weights == [0, 0, 1, 1, 1, 1, 0]  # every turn kept as context, trainable ones weighted
    assert manifest["trainable_turns"] == 4

    manifest = _export(
        cli, [path], tmp_path / "tm", "--format", "trl-messages", "--trainable", "accepted"
    )
    ((_, row, meta),) = _rows(tmp_path / "tm")
    assert row["messages"][-1]["content"] == turns[-2]["text"]  # cut after the last trainable turn
    assert manifest["context_turns_trained"] == 2  # turns 0 and 1 sit inside the row


def test_filters_keep_matching_records(cli, inputs, tmp_path) -> None:
    docs = _docs(inputs)
    manifest = _export(
        cli, inputs, tmp_path / "t", "--format", "openai-chat", "--topic", "investing_basics"
    )
    kept = {m["record_id"] for _, _, m in _rows(tmp_path / "t")}
    assert kept == {rid for rid, d in docs.items() if d["scenario"]["topic"] == "investing_basics"}
    assert manifest["records_kept"] == len(kept) < manifest["records_read"]
    _export(cli, inputs, tmp_path / "e", "--format", "openai-chat", "--emotion", "overwhelm")
    # records with a client turn observed as overwhelm (or its family): the seed that is about
    # it, and any simulated record whose observer read it somewhere
    observed = {
        rid
        for rid, d in docs.items()
        if any(
            "overwhelm" in (t["annotation"]["primary"], t["annotation"]["family"])
            for t in d["turns"]
            if t.get("speaker") == "client" and t.get("annotation")
        )
    }
    assert "seed_divorce_overwhelm_to_agency" in observed
    assert {m["record_id"] for _, _, m in _rows(tmp_path / "e")} == observed
    _export(
        cli,
        inputs,
        tmp_path / "r",
        "--format",
        "openai-chat",
        "--review-status",
        "approved",
        "--length",
        "long",
    )
    approved_long = {
        rid
        for rid, d in docs.items()
        if d["quality"]["review_status"] == "approved" and d["scenario"]["length_class"] == "long"
    }
    assert {m["record_id"] for _, _, m in _rows(tmp_path / "r")} == approved_long


def test_exports_use_resolved_labels(cli, root, tmp_path) -> None:
    doc = json.loads((root / "seeds" / "seed_investing_shame_to_empowerment.json").read_text())
    original = next(
        e for e in doc["label_events"]
        if e["target"]["turn_index"] == 0 and e["target"]["field"] == "emotion"
    )  # fmt: skip
    doc["label_events"].append(
        {
            "event_id": "op-1",
            "created_at": "2026-12-01T10:00:00Z",
            "target": {**original["target"]},
            "value": "anxiety",
            "source": {"kind": "live_operator", "name": "ops-anna", "version": ""},
            "action": "correct",
            "confidence": 1.0,
            "reason": "reads as worry about being too late",
            "supersedes": original["event_id"],
        }
    )
    path = _write_jsonl(tmp_path / "r.jsonl", [doc])
    _export(cli, [path], tmp_path / "e", "--format", "emotion-classification")
    rows = {m["turn_index"]: r for _, r, m in _rows(tmp_path / "e")}
    assert (rows[0]["emotion"], rows[0]["family"]) == ("anxiety", "fear")
    assert rows[2]["emotion"] == doc["turns"][2]["annotation"]["primary"]  # untouched turn
    _export(cli, [path], tmp_path / "p", "--format", "trl-prompt-completion", "--planning")
    first = next(r for _, r, m in _rows(tmp_path / "p") if m["turn_index"] == 1)
    assert first["completion"][0]["content"].startswith("<plan>emotion: anxiety (high); ")


def test_duplicate_inputs_are_read_once_but_conflicts_fail(cli, scripted_run, tmp_path) -> None:
    run, _ = scripted_run
    manifest = _export(cli, [run.path, run.records_path], tmp_path / "o", "--format", "trl-kto")
    assert manifest["duplicates_skipped"] == 1 and manifest["records_read"] == 1
    doc = json.loads(run.records_path.read_text().splitlines()[0])
    doc["turns"][0]["text"] = "Something else entirely."
    other = _write_jsonl(tmp_path / "other.jsonl", [doc])
    result = cli.invoke(
        app,
        ["export", str(run.path), str(other), "--format", "trl-kto", "--out", str(tmp_path / "x")],
    )
    assert result.exit_code == 1
    assert f"{other}:1: id: record {doc['id']!r} also read from" in result.output


# --- recipe and card -------------------------------------------------------------------------


def test_lora_recipe_and_dataset_card(exported) -> None:
    out = exported["trl-prompt-completion"]
    manifest = json.loads((out / "manifest.json").read_text())
    recipe = yaml.safe_load((out / "lora_recipe.yaml").read_text())
    assert (
        "LoRA Without Regret" in recipe["reference"] and "Thinking Machines" in recipe["reference"]
    )
    assert recipe["base_model"].startswith("SET-ME")
    assert recipe["lora"]["target_modules"] == "all-linear" and recipe["lora"]["includes_mlp"]
    assert 16 <= recipe["lora"]["rank"] <= 32
    training = recipe["training"]
    assert training["learning_rate"] == pytest.approx(2e-4)
    assert training["learning_rate"] == pytest.approx(10 * training["full_finetune_learning_rate"])
    assert training["effective_batch_size"] <= 16
    assert recipe["data"]["train"] == manifest["splits"]["train"]["file"]
    assert recipe["data"]["columns"] == ["prompt", "completion"]
    assert recipe["pairs_with"]["trainer"] == "trl.SFTTrainer"
    axolotl = yaml.safe_load((exported["axolotl"] / "lora_recipe.yaml").read_text())
    assert axolotl["pairs_with"]["config"]["datasets"][0]["message_field_training"] == "train"

    card = (out / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["license"] == "cc-by-4.0"
    assert [f["split"] for f in front["configs"][0]["data_files"]] == [
        s for s in SPLITS if manifest["splits"][s]["rows"]
    ]
    for split in SPLITS:
        s = manifest["splits"][split]
        assert (
            f"| {split} | " in card
            and f"| {s['rows']} | {s['records']} | {s['families']} |" in card
        )
    assert "| shame |" in card and "| empathic_validation |" in card
    assert "CC BY 4.0" in card and "Known limitations" in card
    assert "GoEmotions" not in card and "ESConv" not in card  # no record derives from them


def test_card_keeps_third_party_attributions(cli, scripted_run, tmp_path) -> None:
    run, _ = scripted_run
    doc = json.loads(run.records_path.read_text().splitlines()[0])
    doc["provenance"]["backends"]["emotion_observer"] = {
        "backend": "classifier",
        "model": "tfidf-logreg-1",
    }
    goemo = _write_jsonl(tmp_path / "g.jsonl", [doc])
    _export(cli, [goemo], tmp_path / "g", "--format", "emotion-classification")
    card = (tmp_path / "g" / "README.md").read_text()
    assert "Demszky et al. 2020, Google Research" in card and "CC BY 4.0" in card
    esconv = copy.deepcopy(doc)
    esconv["provenance"].update(source="real", license="CC-BY-NC-4.0")
    esconv["scenario"]["scenario_id"] = "esconv_train_0007"
    _export(
        cli,
        [_write_jsonl(tmp_path / "e.jsonl", [esconv])],
        tmp_path / "e",
        "--format",
        "openai-chat",
    )
    card = (tmp_path / "e" / "README.md").read_text()
    assert "Liu et al. 2021" in card and "CC BY-NC 4.0" in card and "non-commercial" in card
    assert yaml.safe_load(card.split("---")[1])["license"] == "cc-by-nc-4.0"


# --- bad input -------------------------------------------------------------------------------


def _bad_cases(tmp_path: Path, good: Path) -> list[tuple[list[str], str]]:
    record = good.read_text().splitlines()[0]
    not_record = _write_jsonl(tmp_path / "nr.jsonl", [])
    not_record.write_text(record + "\n" + '{"hello": "world"}\n', encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(record + "\n{not json\n", encoding="utf-8")
    bad_field = tmp_path / "bad_field.jsonl"
    doc = json.loads(record)
    doc["turns"][1]["training_weight"] = 3
    bad_field.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    listy = tmp_path / "list.jsonl"
    listy.write_text("[1, 2]\n", encoding="utf-8")
    (tmp_path / "empty_dir").mkdir()
    csv = tmp_path / "records.csv"
    csv.write_text("id\n", encoding="utf-8")
    fmt = ["--format", "openai-chat"]
    return [
        ([str(tmp_path / "missing.jsonl"), *fmt], f"{tmp_path / 'missing.jsonl'}: file not found"),
        ([str(not_record), *fmt], f"{not_record}:2: not a conversation record"),
        ([str(broken), *fmt], f"{broken}:2: invalid JSON"),
        ([str(bad_field), *fmt], f"{bad_field}:1: turns.1.training_weight"),
        ([str(listy), *fmt], f"{listy}:1: expected a conversation record"),
        ([str(tmp_path / "empty_dir"), *fmt], "must be a run folder with conversations.jsonl"),
        ([str(csv), *fmt], "expected a run folder, a .jsonl or a .json record file"),
        ([str(good), "--format", "csv"], "--format: unknown format 'csv'"),
        ([str(good), *fmt, "--split", "0.8,0.2"], "--split: expected three numbers"),
        ([str(good), *fmt, "--split", "a,b,c"], "--split: 'a,b,c' is not three numbers"),
        ([str(good), *fmt, "--split", "0.8,0.3,0.1"], "--split: shares must add up to 1"),
        (
            [str(good), *fmt, "--split", "1.5,-0.5,0"],
            "--split: every share must be between 0 and 1",
        ),
        ([str(good), *fmt, "--trainable", "some"], "--trainable: expected 'all' or 'accepted'"),
        (
            [str(good), *fmt, "--min-quality", "1.5"],
            "--min-quality: expected a score between 0 and 1",
        ),
        (
            [str(good), *fmt, "--topic", "crypto_moonshots"],
            "--topic: unknown value 'crypto_moonshots'",
        ),
        ([str(good), *fmt, "--emotion", "glee"], "--emotion: unknown value 'glee'"),
        ([str(good), *fmt, "--topic", "estate_planning"], "no record matches the filters (1 read)"),
    ]


def test_bad_inputs_give_one_clear_error_and_write_nothing(cli, scripted_run, tmp_path) -> None:
    run, _ = scripted_run
    for i, (args, message) in enumerate(_bad_cases(tmp_path, run.records_path)):
        out = tmp_path / f"out{i}"
        result = cli.invoke(app, ["export", *args, "--out", str(out)])
        assert result.exit_code == 1, (args, result.output)
        errors = [line for line in result.output.splitlines() if line.strip()]
        assert len(errors) == 1 and errors[0].startswith("error: "), (args, result.output)
        assert message in errors[0], (args, errors[0])
        assert "Traceback" not in result.output
        assert not out.exists()


# --- family key and split assignment ---------------------------------------------------------


def test_fallback_family_key_and_split_edges(scripted_run) -> None:
    from emosim.exports.families import family_key
    from emosim.exports.options import parse_split
    from emosim.exports.splits import split_of

    _, records = scripted_run
    record = records[0].model_copy(deep=True)
    assert family_key(record) == record.scenario.scenario_id
    record.lineage.parent_id = "parent-1"
    assert family_key(record) == "parent-1"
    record.lineage.seed_id = "seed-1"
    assert family_key(record) == "seed-1"
    names = [f"f{i}" for i in range(200)]
    assert {split_of(n, parse_split("1,0,0")) for n in names} == {"train"}
    assert {split_of(n, parse_split("0,0,1")) for n in names} == {"test"}
    shares = [split_of(n, parse_split("0.8,0.1,0.1")) for n in names]
    assert 0.7 < shares.count("train") / len(names) < 0.9
    assert shares == [split_of(n, parse_split("0.8,0.1,0.1")) for n in names]
