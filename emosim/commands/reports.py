"""`emosim` commands: reports (`emosim report`) and evaluations (`emosim eval ...`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from emosim.cli import app, console, user_errors
from emosim.errors import EmosimError
from emosim.labels import LABELS_HELP

eval_app = typer.Typer(
    help="Measure the observers and the critic against ground truth and human labels.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")

RunsDir = Annotated[Path, typer.Option(help="Where run folders are looked up by id.")]


@app.command()
@user_errors
def report(
    runs: Annotated[
        list[str], typer.Argument(help="Run folders, run ids (under --runs-dir) or record files.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for report.html, figures.json and plots/.")],
    targets: Annotated[
        Path | None,
        typer.Option(help="Coverage targets (default: targets.yaml, else 50 per emotion x level)."),
    ] = None,
    runs_dir: RunsDir = Path("runs"),
    embed: Annotated[
        bool, typer.Option(help="Embed the plots in report.html as data: URIs.")
    ] = False,
    labels: Annotated[str | None, typer.Option("--labels", help=LABELS_HELP)] = None,
    observer_model: Annotated[
        list[Path] | None,
        typer.Option(
            "--observer-model",
            help="Trained observer model file(s) whose stored scores on human text to show "
            "(default: found by the hash the labels carry, beside the inputs or in the cache).",
        ),
    ] = None,
) -> None:
    """Write a quality report: trajectories, coverage, strategies, critic, diversity, cost.

    Labels are resolved with the label store beside the records (see --labels)."""
    from emosim.catalog import get_catalog
    from emosim.files import check_folder
    from emosim.labels.apply import apply_labels, store_option
    from emosim.reports.coverage import load_targets
    from emosim.reports.loading import load_records
    from emosim.reports.summary import summary_table
    from emosim.reports.write import REPORT, write_report

    check_folder(out, "--out")
    catalog = get_catalog()
    target_model, targets_file = load_targets(targets, catalog)
    records, files = load_records(runs, runs_dir)
    records, applied = apply_labels(records, map(Path, files), store_option(labels), catalog)
    written = write_report(
        records,
        catalog,
        out,
        inputs=files,
        targets=target_model,
        targets_file=targets_file,
        embed=embed,
        labels=applied,
        observer_models=observer_model,
    )
    console.print(summary_table(written.figures))
    console.print(applied.describe())
    console.print(f"report: {out / REPORT} ({len(written.files)} files)", soft_wrap=True)


@eval_app.command("observer")
@user_errors
def eval_observer(
    runs: Annotated[
        list[str], typer.Argument(help="Run folders, run ids (under --runs-dir) or record files.")
    ],
    runs_dir: RunsDir = Path("runs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Emotion observer against the hidden arc: accuracy, macro-F1, intensity error."""
    from emosim.catalog import get_catalog
    from emosim.errors import EmosimError
    from emosim.reports.loading import load_records
    from emosim.reports.observer import observer_accuracy

    records, files = load_records(runs, runs_dir)
    result = observer_accuracy(records, get_catalog())
    if result is None:
        raise EmosimError(
            f"{', '.join(files)}: no client turn of a simulated record has both a true state "
            "and an annotation"
        )
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    from emosim.evals.tables import observer_table

    console.print(observer_table(result))


@eval_app.command("critic")
@user_errors
def eval_critic(
    n: Annotated[
        int, typer.Option("--n", min=1, help="Accepted replies to sample and mutate.")
    ] = 40,
    seed: Annotated[
        int, typer.Option(help="Seed of the fresh scripted batch and the sampling.")
    ] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    show_misses: Annotated[int, typer.Option(help="Missed drafts to list per category.")] = 2,
) -> None:
    """Critic recall on off-voice and unsafe drafts and false rejects on accepted replies."""
    from emosim.catalog import get_catalog
    from emosim.evals.critic import evaluate_critic

    result = evaluate_critic(get_catalog(), n=n, seed=seed)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    from emosim.evals.tables import critic_tables

    for table in critic_tables(result, show_misses=show_misses):
        console.print(table)


@eval_app.command("strategies")
@user_errors
def eval_strategies(
    esconv: Annotated[
        Path, typer.Option(help="ESConv dialogs (.json list, .jsonl or ESConv.json).")
    ],
    observer: Annotated[
        str,
        typer.Option(
            help="trained (the ESConv model; reads the seeker turn before each utterance) or "
            "lexicon (cue phrases)."
        ),
    ] = "trained",
    model: Annotated[
        Path | None,
        typer.Option(
            help="Strategy model file (default: $EMOSIM_STRATEGY_MODEL or .cache/classifier/, "
            "built from data/esconv_train on first use)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Strategy observer against ESConv's human strategy labels, through the taxonomy mapping."""
    from emosim.catalog import get_catalog
    from emosim.evals.strategies import evaluate_strategies

    if observer not in ("trained", "lexicon"):
        raise EmosimError(f"--observer: {observer!r} is not a strategy observer (trained, lexicon)")
    if model is not None and observer != "trained":
        raise EmosimError("--model: only the trained observer reads a model file")
    result = evaluate_strategies(
        get_catalog(),
        esconv,
        observer=observer,  # type: ignore[arg-type]
        model_path=model,
    )
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    from emosim.evals.tables import strategy_tables

    for table in strategy_tables(result):
        console.print(table)


@eval_app.command("grounding")
@user_errors
def eval_grounding(
    runs: Annotated[
        list[str], typer.Argument(help="Run folders, run ids (under --runs-dir) or record files.")
    ],
    runs_dir: RunsDir = Path("runs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    on: Annotated[
        str | None,
        typer.Option(help="Date fact-base values are checked on (YYYY-MM-DD; default today)."),
    ] = None,
) -> None:
    """Figure uptake, untraceable figures, questions answered, situation figures present,
    planted bad figures caught, and paraphrase answer accuracy of the answer bank."""
    import datetime as dt

    from rich.table import Table

    from emosim.agents.backends import load_advisor_templates
    from emosim.agents.scripted.retrieval import index_for
    from emosim.catalog import get_catalog
    from emosim.evals.grounding import evaluate_grounding
    from emosim.evals.paraphrases import paraphrase_accuracy
    from emosim.grounding.facts import load_fact_base, newest_fact_file
    from emosim.reports.loading import load_records

    catalog = get_catalog()
    records, _ = load_records(runs, runs_dir)
    path = newest_fact_file(catalog.file("facts"))
    fact_base = load_fact_base(path) if path else None
    day = dt.date.fromisoformat(on) if on else None
    result = evaluate_grounding(records, fact_base, on=day)
    para = paraphrase_accuracy(index_for(load_advisor_templates(catalog).answers, catalog))
    result.paraphrase_accuracy = para.accuracy
    result.paraphrase_false_match_rate = para.false_match_rate
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    table = Table(title=f"Grounding over {result.conversations} conversations")
    table.add_column("measure")
    table.add_column("value", justify="right")

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.1%}"

    rows = [
        ("client turns stating a figure", str(result.client_turns_with_figures)),
        ("  next reply uses it or a calculation from it", pct(result.figure_uptake)),
        ("replies with a calculation", str(result.calculations)),
        ("untraceable figures in sent replies", str(result.untraceable_in_accepted)),
        ("client questions", str(result.client_questions)),
        ("  taken up by the next reply", pct(result.questions_answered)),
        ("scenarios whose situation states figures", str(result.scenarios_with_figures)),
        ("  all of them said by the client", pct(result.situation_figures_present)),
        ("paraphrase answer accuracy (answer bank)", pct(result.paraphrase_accuracy)),
        ("off-bank questions matched anyway", pct(result.paraphrase_false_match_rate)),
        ("sent replies with figures flagged now", pct(result.false_rejects)),
    ]
    rows += [
        (f"planted {r.kind} figures caught", f"{pct(r.recall)} of {r.planted}")
        for r in result.injected
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
