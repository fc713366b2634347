"""`emosim` commands: observers (`emosim observer ...`, `emosim eval emotions`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from emosim.cli import app, console, err_console, user_errors
from emosim.errors import EmosimError

observer_app = typer.Typer(
    help="The trained emotion observer (classifier backend): build and try it.",
    no_args_is_help=True,
)
app.add_typer(observer_app, name="observer")


def _eval_group() -> typer.Typer:
    """The `eval` group (the reports area registers it first; made here if it has not)."""
    for group in app.registered_groups:
        if group.name == "eval" and group.typer_instance is not None:
            return group.typer_instance
    group = typer.Typer(help="Measure observers against ground truth and human labels.")
    app.add_typer(group, name="eval")
    return group


eval_app = _eval_group()

ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="Model file (default: $EMOSIM_CLASSIFIER_MODEL or .cache/classifier/, built on "
        "first use).",
    ),
]
DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="GoEmotions folder with train.tsv, emotions.txt, ekman_mapping.json (default: "
        "$EMOSIM_GOEMOTIONS_DIR or data/goemotions, shipped).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _observer(model: Path | None, data: Path | None, lexicon: bool):
    """The classifier observer; says so on stderr when the cached model must be built first."""
    from emosim.agents.classifier import build_classifier_observer
    from emosim.agents.classifier.store import default_model_path, is_current
    from emosim.catalog import get_catalog

    if model is None and not is_current(default_model_path(), data_dir=data):
        err_console.print(
            f"building the emotion classifier into {default_model_path()} (first use, ~30 s)"
        )
    return build_classifier_observer(
        get_catalog(), model_path=model, data_dir=data, lexicon=lexicon
    )


@observer_app.command("train")
@user_errors
def observer_train(
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the model (default: the cache; with --from-store, "
            "<store folder>/<kind>-observer.npz)."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Public data folder: GoEmotions (default: $EMOSIM_GOEMOTIONS_DIR or "
            "data/goemotions); with --kind strategy, ESConv's train.jsonl folder (default: "
            "$EMOSIM_ESCONV_TRAIN_DIR or data/esconv_train).",
        ),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option(help="Train on a seeded random sub-sample of this many public rows."),
    ] = None,
    from_store: Annotated[
        str | None,
        typer.Option(
            "--from-store",
            help="Retrain on the reviewed labels of this label store (a SQLite file or "
            "folder, or postgresql://USER@HOST/DB; labels decided by live_operator or "
            "human_bulk_review events; model and rule labels never train).",
        ),
    ] = None,
    public: Annotated[
        bool,
        typer.Option(
            "--public/--no-public",
            help="With --from-store: also train on the public data (default), or on the "
            "store's labels alone (the model then inherits no public data license).",
        ),
    ] = True,
    kind: Annotated[
        str, typer.Option(help="Which observer: emotion (GoEmotions) or strategy (ESConv).")
    ] = "emotion",
    policy: Annotated[
        Path | None, typer.Option(help="Resolution policy YAML for the store's labels.")
    ] = None,
    priority: Annotated[
        str | None, typer.Option(help="Source kinds, most trusted first (overrides --policy).")
    ] = None,
    measure: Annotated[
        bool,
        typer.Option(
            "--measure/--no-measure",
            help="Score the observer on human text (GoEmotions dev, ESConv sample) and store "
            "the figures in the model (emosim report shows them).",
        ),
    ] = True,
    cv: Annotated[
        int,
        typer.Option(
            "--cv",
            help="--kind strategy: also cross-validate by dialog with this many folds on the "
            "training file and store the figures in the model (0: no).",
        ),
    ] = 0,
    force: Annotated[bool, typer.Option(help="Rebuild even when up to date.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Build an observer model: the emotion classifier from GoEmotions or the strategy model
    from ESConv's train split (deterministic, cached), or retrained on the reviewed labels of a
    label store (--from-store)."""
    from emosim.agents.classifier.model import TrainingParams
    from emosim.agents.classifier.store import build_model, default_model_path
    from emosim.agents.classifier.tables import built_table

    if kind not in ("emotion", "strategy"):
        raise EmosimError(f"--kind: {kind!r} is not an observer kind (emotion, strategy)")
    params = TrainingParams(sample=sample) if sample is not None else TrainingParams()
    if from_store is not None:
        _train_from_store(
            from_store, kind, out, data, params, public, policy, priority, measure, as_json
        )
        return
    if kind == "strategy":
        _train_strategy(out, data, sample, cv, force, as_json)
        return
    if not public:
        raise EmosimError("--no-public: give --from-store STORE (the labels to train on)")
    built = build_model(out or default_model_path(), data_dir=data, params=params, force=force)
    if measure and (built.built or not built.meta.human_text):
        from dataclasses import replace

        from emosim.agents.classifier.retrain import store_human_text
        from emosim.catalog import get_catalog

        built = replace(built, meta=store_human_text(built.path, get_catalog(), data_dir=data))
    if as_json:
        payload = {
            "model": str(built.path),
            "built": built.built,
            "seconds": round(built.seconds, 2),
            "meta": json.loads(built.meta.model_dump_json()),
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    console.print(built_table(built))


def _train_strategy(
    out: Path | None, data: Path | None, sample: int | None, cv: int, force: bool, as_json: bool
) -> None:
    """`observer train --kind strategy`: the ESConv strategy model, cached like the emotion one."""
    from emosim.agents.classifier.strategy_model import StrategyParams
    from emosim.agents.classifier.strategy_store import (
        build_strategy_model,
        default_model_path,
        store_cross_validation,
    )
    from emosim.agents.classifier.strategy_tables import strategy_built_table

    if cv == 1 or cv < 0:
        raise EmosimError(f"--cv: {cv} folds (give 0 for none, or 2 or more)")
    params = StrategyParams(sample=sample) if sample is not None else StrategyParams()
    if not force and not is_strategy_current(out, data, params):
        err_console.print("training the strategy model on ESConv's train split")
    built = build_strategy_model(
        out or default_model_path(), data_dir=data, params=params, force=force
    )
    cross = None
    if cv:
        err_console.print(f"cross-validating by dialog ({cv} folds)")
        built, cross = store_cross_validation(built, cv, data_dir=data)
    if as_json:
        payload = {
            "model": str(built.path),
            "built": built.built,
            "seconds": round(built.seconds, 2),
            "meta": json.loads(built.meta.model_dump_json()),
            "cross_validation": json.loads(cross.model_dump_json()) if cross else None,
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    console.print(strategy_built_table(built, cross))


def is_strategy_current(out: Path | None, data: Path | None, params) -> bool:
    from emosim.agents.classifier.strategy_store import current_meta, default_model_path

    return current_meta(out or default_model_path(), data, params) is not None


def _train_from_store(
    store: str,
    kind: str,
    out: Path | None,
    data: Path | None,
    params,
    public: bool,
    policy: Path | None,
    priority: str | None,
    measure: bool,
    as_json: bool,
) -> None:
    from emosim.agents.classifier.retrain import default_store_model_path, retrain_emotion
    from emosim.agents.classifier.tables import retrained_table
    from emosim.catalog import get_catalog
    from emosim.labels.policy import load_policy
    from emosim.labels.store import store_path_for
    from emosim.labels.training import read_training_set

    catalog = get_catalog()
    location = store_path_for(store)
    if out is None and not isinstance(location, Path):
        raise EmosimError("--out: name the model file (a PostgreSQL store has no folder)")
    training = read_training_set(
        location,
        kind,
        policy=load_policy(policy, priority),
        catalog=catalog,  # type: ignore[arg-type]
    )
    out = out or default_store_model_path(location, kind)  # type: ignore[arg-type]
    if kind == "emotion":
        result = retrain_emotion(
            training,
            out,
            catalog=catalog,
            public=public,
            data_dir=data,
            params=params,
            measure=measure,
        )
    else:
        try:
            from emosim.agents.classifier.retrain_strategy import retrain_strategy
        except ImportError:
            raise EmosimError(
                "--kind strategy: this emosim has no trained strategy observer to retrain"
            ) from None
        result = retrain_strategy(
            training, out, catalog=catalog, public=public, data_dir=data, sample=params.sample
        )
    if as_json:
        payload = {
            "model": str(result.path),
            "store": str(store),
            "store_labels": len(training.examples),
            "store_labels_sha256": training.sha256,
            "skipped": dict(sorted(training.skipped.items())),
            "labels": training.counts(),
            "seconds": round(result.seconds, 2),
            "meta": json.loads(result.meta.model_dump_json()),
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    console.print(retrained_table(result, kind))
    if kind == "emotion":
        console.print(
            f"next batch with this observer: EMOSIM_CLASSIFIER_MODEL={result.path} "
            "emosim batch PLAN --observer classifier",
            soft_wrap=True,
        )
    else:
        console.print(
            f"next batch with this observer: EMOSIM_STRATEGY_MODEL={result.path} "
            "emosim batch PLAN --strategy-observer trained",
            soft_wrap=True,
        )


@observer_app.command("label")
@user_errors
def observer_label(
    texts: Annotated[
        list[str], typer.Argument(help="Client turns, read in order as one conversation.")
    ],
    model: ModelOption = None,
    data: DataOption = None,
    lexicon: Annotated[bool, typer.Option(help="Fuse the taxonomy's cue phrases in.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Read emotions from text with the classifier observer (each turn sees the previous)."""
    from emosim.agents.classifier.tables import annotation_table
    from emosim.agents.messages import EmotionObserverInput

    observer = _observer(model, data, lexicon)
    annotations = []
    previous = None
    for text in texts:
        previous = observer.observe(EmotionObserverInput(text=text, previous=previous))
        annotations.append(previous)
    if as_json:
        typer.echo(json.dumps([a.model_dump(mode="json") for a in annotations], indent=2))
        return
    console.print(annotation_table(texts, annotations))


@observer_app.command("strategies")
@user_errors
def observer_strategies(
    replies: Annotated[list[str], typer.Argument(help="Advisor replies to read.")],
    context: Annotated[
        str, typer.Option(help="The client's turn before the replies (what they answer).")
    ] = "",
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Strategy model file (default: $EMOSIM_STRATEGY_MODEL or .cache/classifier/, "
            "built from data/esconv_train on first use).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Read the strategies of replies with the trained ESConv observer: per reply and per
    sentence, the ESConv strategy, our taxonomy's strategy, a calibrated confidence and the
    n-grams that weighed most."""
    from emosim.agents.classifier.strategy_observer import build_strategy_observer
    from emosim.agents.classifier.strategy_tables import reading_table
    from emosim.catalog import get_catalog

    observer = build_strategy_observer(get_catalog(), model_path=model)
    readings = [observer.read(reply, context) for reply in replies]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in readings], indent=2))
        return
    console.print(reading_table(readings))


GO_LEVELS = ("fine", "ekman", "family")
ESCONV_LEVELS = ("family", "emotion")


@eval_app.command("emotions")
@user_errors
def eval_emotions(
    goemotions: Annotated[
        Path | None, typer.Option(help="A GoEmotions .tsv split (text, label indices, id).")
    ] = None,
    esconv: Annotated[
        Path | None, typer.Option(help="ESConv dialogs (.json list or JSON Lines).")
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(
            help="GoEmotions: fine (default; its 28 labels), ekman or family. "
            "ESConv: family (default) or emotion (our emotion ids)."
        ),
    ] = None,
    model: ModelOption = None,
    data: DataOption = None,
    ekman: Annotated[
        Path | None,
        typer.Option(
            help="ekman_mapping.json (default: beside the --goemotions file, else the copy "
            "stored in the model)."
        ),
    ] = None,
    lexicon: Annotated[
        bool,
        typer.Option(help="Fuse the lexicon cues in (family level and ESConv only)."),
    ] = True,
    sample: Annotated[
        int | None, typer.Option(help="Score a seeded random sub-sample of this many rows.")
    ] = None,
    half_life: Annotated[
        float, typer.Option(help="ESConv: seeker turn i weighs 0.5**(i/half-life); 0 = equal.")
    ] = 5.0,
    any_valence: Annotated[
        bool,
        typer.Option(
            "--any-valence", help="ESConv: count all emotions, not only negative-valence ones."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Score the classifier observer on human labels: GoEmotions rows or ESConv dialogs."""
    from emosim.agents.classifier import load_mappings
    from emosim.agents.classifier.esconv import read_dialogs
    from emosim.agents.classifier.evaluate import evaluate_esconv, evaluate_goemotions
    from emosim.agents.classifier.goemotions import (
        EKMAN_FILE,
        LABELS_FILE,
        read_ekman,
        read_examples,
        read_label_names,
    )
    from emosim.agents.classifier.mappings import GOEMOTIONS_LABELS
    from emosim.agents.classifier.tables import scores_tables
    from emosim.catalog import get_catalog

    if (goemotions is None) == (esconv is None):
        raise EmosimError("give exactly one of --goemotions FILE or --esconv FILE")
    allowed = GO_LEVELS if goemotions is not None else ESCONV_LEVELS
    level = level or allowed[0]
    if level not in allowed:
        what = "--goemotions" if goemotions is not None else "--esconv"
        raise EmosimError(f"--level: {level!r} is not a level for {what} ({', '.join(allowed)})")
    catalog = get_catalog()
    mappings = load_mappings(catalog)
    if goemotions is not None:
        # read the file before building anything, so a bad file fails fast
        sibling_labels = goemotions.parent / LABELS_FILE
        labels = read_label_names(sibling_labels) if sibling_labels.is_file() else None
        examples = read_examples(goemotions, len(labels) if labels else 28)
    else:
        dialogs, _ = read_dialogs(esconv)  # type: ignore[arg-type]
    observer = _observer(model, data, lexicon)
    if goemotions is not None:
        if labels is not None and labels != list(GOEMOTIONS_LABELS):
            raise EmosimError(
                f"{sibling_labels}: not the 28 GoEmotions labels in their released order"
            )
        if sample is not None:
            examples = _sample(examples, sample)
        ekman_path = ekman or goemotions.parent / EKMAN_FILE
        groups = (
            read_ekman(ekman_path, list(GOEMOTIONS_LABELS))
            if ekman is not None or ekman_path.is_file()
            else observer.model.meta.ekman
        )
        scores = evaluate_goemotions(
            observer,
            examples,
            level=level,  # type: ignore[arg-type]
            mappings=mappings,
            ekman=groups,
            file=goemotions,
        )
    else:
        if sample is not None:
            dialogs = _sample(dialogs, sample)
        scores = evaluate_esconv(
            observer,
            dialogs,
            level=level,  # type: ignore[arg-type]
            mappings=mappings,
            file=esconv,  # type: ignore[arg-type]
            half_life=half_life,
            negative_only=not any_valence,
        )
    if as_json:
        typer.echo(scores.model_dump_json(indent=2))
        return
    console.print(scores_tables(scores, console.width))


def _sample(items: list, size: int) -> list:
    """A seeded random sub-sample in file order (the same rows every time)."""
    import random

    if size < 1:
        raise EmosimError(f"--sample: must be at least 1, got {size}")
    if size >= len(items):
        return items
    keep = sorted(random.Random(0).sample(range(len(items)), size))
    return [items[i] for i in keep]
