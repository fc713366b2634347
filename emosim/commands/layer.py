"""`emosim` commands: the emotional layer (`emosim layer ...`, `emosim eval layer`)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from emosim.cli import app, console, err_console, user_errors
from emosim.errors import DataError, EmosimError

from .observers import _eval_group

layer_app = typer.Typer(
    help="The emotional layer: read a conversation (any domain) and say what to do next.",
    no_args_is_help=True,
)
app.add_typer(layer_app, name="layer")
eval_app = _eval_group()

ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="Next-strategy model file (default: $EMOSIM_LAYER_MODEL or .cache/classifier/, "
        "built from data/esconv_train on first use).",
    ),
]


EmotionModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--emotion-model",
        help="Emotion model file (default: $EMOSIM_CLASSIFIER_MODEL or .cache/classifier/).",
    ),
]
StrategyModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--strategy-model",
        help="Strategy model file that reads the assistant's messages (default: "
        "$EMOSIM_STRATEGY_MODEL or .cache/classifier/).",
    ),
]


def _load_layer(model: Path | None, emotion_model: Path | None, strategy_model: Path | None):  # noqa: ANN202
    from emosim.layer.reading import Layer

    err_console.print("loading the layer's models (first use builds them, a few minutes)")
    return Layer.load(model_path=model, emotion_model=emotion_model, strategy_model=strategy_model)


def _conversation(path: Path):  # noqa: ANN202
    from pydantic import ValidationError

    from emosim.files import format_validation_error
    from emosim.layer.reading import Conversation

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError([f"{path}: file not found"]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError([f"{path}: not a JSON file ({exc})"]) from None
    if isinstance(doc, list):
        doc = {"messages": doc}
    try:
        return Conversation.model_validate(doc)
    except ValidationError as exc:
        raise DataError(format_validation_error(exc, str(path))) from None


@layer_app.command("read")
@user_errors
def layer_read(
    file: Annotated[
        Path,
        typer.Argument(
            help='JSON: {"messages": [{"role": "user", "content": "..."}, ...]} or the list.'
        ),
    ],
    model: ModelOpt = None,
    emotion_model: EmotionModelOpt = None,
    strategy_model: StrategyModelOpt = None,
) -> None:
    """Read a conversation so far and print the layer's reading as JSON."""
    conversation = _conversation(file)
    layer = _load_layer(model, emotion_model, strategy_model)
    try:
        reading = layer.read(conversation.messages)
    except DataError as exc:
        raise DataError([f"{file}: {p}" for p in exc.problems]) from None
    typer.echo(reading.model_dump_json(indent=2))


@layer_app.command("serve")
@user_errors
def layer_serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8766,
    token_env: Annotated[
        str, typer.Option(help="Environment variable holding the bearer token.")
    ] = "EMOSIM_LAYER_TOKEN",
    max_body: Annotated[
        int, typer.Option(min=1024, help="Largest request body in bytes (larger: 413).")
    ] = 256 * 1024,
    docs: Annotated[bool, typer.Option("--docs", help="Serve /docs and /openapi.json.")] = False,
    model: ModelOpt = None,
    emotion_model: EmotionModelOpt = None,
    strategy_model: StrategyModelOpt = None,
) -> None:
    """Serve the layer on 127.0.0.1 (POST /v1/read, bearer token)."""
    import uvicorn

    from emosim.layer.server import create_app

    token = os.environ.get(token_env, "")
    if not token:
        raise EmosimError(f"set the bearer token in ${token_env} (empty or unset)")
    layer = _load_layer(model, emotion_model, strategy_model)
    server_app = create_app(layer, token, max_body=max_body, docs=docs)
    console.print(f"emotional layer on http://127.0.0.1:{port} (POST /v1/read)")
    # no lifespan (the app has none): a Ctrl-C then stops the server without a traceback
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(server_app, host="127.0.0.1", port=port, log_level="info", lifespan="off")


@layer_app.command("train")
@user_errors
def layer_train(
    records: Annotated[
        list[Path] | None,
        typer.Option(
            "--records",
            help="Run folders or record files whose arc moves teach which strategies, after "
            "which emotion, moved the client on (repeatable).",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Model file to write.")] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Folder with ESConv train.jsonl (default: data/esconv_train)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when up to date.")] = False,
    emotion_model: EmotionModelOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the model's meta as JSON.")
    ] = False,
) -> None:
    """Build the next-strategy model (ESConv train split, plus emosim records' outcomes)."""
    from emosim.catalog import get_catalog
    from emosim.layer.outcomes import learn_outcomes
    from emosim.layer.store import build_model, default_model_path, emotion_observer

    outcomes = None
    if records:
        from emosim.exports.inputs import load_records

        outcomes = learn_outcomes(load_records(records).records)
    catalog = get_catalog()
    path = out or default_model_path()
    built = build_model(
        path,
        emotion_observer(catalog, emotion_model),
        catalog,
        data_dir=data,
        outcomes=outcomes,
        force=force,
    )
    if as_json:
        typer.echo(built.meta.model_dump_json(indent=2))
        return
    what = f"built in {built.seconds:.0f} s" if built.built else "already up to date"
    console.print(
        f"{path}: {what}; {built.meta.n_train} supporter utterances of "
        f"{built.meta.n_dialogs} dialogs, {len(built.meta.outcomes)} outcome cells from records; "
        f"license {built.meta.license}",
        soft_wrap=True,
    )


@eval_app.command("layer")
@user_errors
def eval_layer(
    esconv: Annotated[
        Path, typer.Option(help="ESConv dialogs (.json list, .jsonl or ESConv.json).")
    ],
    cv: Annotated[
        int,
        typer.Option(
            min=0,
            help="Cross-validate by dialog with this many folds on the file (0: score the "
            "cached model, trained on the train split, on the file).",
        ),
    ] = 0,
    prior: Annotated[
        bool, typer.Option(help="--cv only: the taxonomy prior among the features.")
    ] = True,
    model: ModelOpt = None,
    emotion_model: EmotionModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Predict the human supporter's next strategy: top-1 / top-3 against the majority anchor."""
    from emosim.agents.classifier.goemotions import file_sha256
    from emosim.catalog import get_catalog
    from emosim.layer.evaluate import cross_validate, evaluate_file
    from emosim.layer.model import NextStrategyParams, read_emotions, taxonomy_prior
    from emosim.layer.store import emotion_observer, ensure_model
    from emosim.layer.turns import read_next_turns

    if cv == 1:
        raise EmosimError("--cv: give at least 2 folds (or 0 to score the cached model)")
    if model is not None and cv:
        raise EmosimError("--model: only without --cv (cross-validation trains its own models)")
    turns, _ = read_next_turns(esconv)
    catalog = get_catalog()
    observer = emotion_observer(catalog, emotion_model)
    emotions = read_emotions(observer, [t.seeker for t in turns])
    if cv:
        result = cross_validate(
            turns,
            emotions,
            taxonomy_prior(catalog),
            params=NextStrategyParams(prior=prior),
            folds=cv,
            file=str(esconv),
            families=observer.family_ids,
        )
    else:
        if not prior:
            raise EmosimError("--no-prior: only with --cv (the cached model has its prior)")
        next_model = ensure_model(observer, catalog, model)
        if next_model.meta.emotion_model != observer.model.version:
            err_console.print(
                f"warning: the next-strategy model was trained on emotion model "
                f"{next_model.meta.emotion_model}, the features now come from "
                f"{observer.model.version}"
            )
        saw = next_model.meta.data_sha256 == file_sha256(esconv)
        if saw:
            err_console.print(
                f"{esconv}: the model was trained on this file; use --cv for a fair figure"
            )
        result = evaluate_file(next_model, turns, emotions, file=str(esconv), saw_file=saw)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    from rich.table import Table

    table = Table(
        title=f"Next supporter strategy: {result.mode}, {result.n} utterances, "
        f"{result.dialogs} dialogs"
    )
    for col in ("", "top-1", "top-3"):
        table.add_column(col, justify="right" if col else "left")
    table.add_row("layer", f"{result.top1:.3f}", f"{result.top3:.3f}")
    table.add_row("majority anchor", f"{result.majority_top1:.3f}", f"{result.majority_top3:.3f}")
    console.print(table)
    labels = Table(title="Per strategy (recall)")
    for col in ("strategy", "n", "top-1", "top-3"):
        labels.add_column(col, justify="left" if col == "strategy" else "right")
    for row in result.per_label:
        labels.add_row(
            row.label, str(row.support), f"{row.top1_recall:.3f}", f"{row.top3_recall:.3f}"
        )
    console.print(labels)
