"""`emosim eval diversity`: how much a corpus repeats itself, beside human ESConv text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import Field

from emosim.cli import app, console, user_errors
from emosim.errors import EmosimError
from emosim.evals.diversity import DiversityEvaluation
from emosim.schemas.common import StrictModel


def _eval_group() -> typer.Typer:
    """The `eval` group (the reports area registers it first; made here if it has not)."""
    for group in app.registered_groups:
        if group.name == "eval" and group.typer_instance is not None:
            return group.typer_instance
    group = typer.Typer(help="Measure observers against ground truth and human labels.")
    app.add_typer(group, name="eval")
    return group


eval_app = _eval_group()


class DiversityResult(StrictModel):
    """What `emosim eval diversity --json` writes."""

    corpus: DiversityEvaluation = Field(description="The records or ESConv files evaluated.")
    reference: DiversityEvaluation | None = Field(
        default=None, description="The --esconv file, evaluated the same way, when given."
    )


def load_dialogs(sources: list[str], runs_dir: Path):  # noqa: ANN201
    """(dialogs, files, kind): emosim records (run folders, ids, record files) or ESConv files."""
    from emosim.evals.diversity import dialog_of_record, dialogs_of_esconv, is_esconv_file
    from emosim.reports.loading import load_records

    for source in sources:
        folder = Path(source)
        if folder.is_dir() and not (folder / "manifest.json").is_file():
            found = sorted(
                str(p)
                for p in folder.iterdir()
                if p.suffix in {".json", ".jsonl"} and is_esconv_file(p)
            )
            if found:
                raise EmosimError(
                    f"{folder}: a folder of ESConv files; give the files themselves "
                    f"({', '.join(found)})"
                )
    esconv = [s for s in sources if is_esconv_file(Path(s))]
    if esconv and len(esconv) < len(sources):
        raise EmosimError(
            "give either emosim records or ESConv files, not both (use --esconv FILE for a "
            "side-by-side comparison)"
        )
    if esconv:
        return [d for s in esconv for d in dialogs_of_esconv(Path(s))], esconv, "esconv"
    records, files = load_records(sources, runs_dir)
    return [dialog_of_record(r) for r in records], files, "records"


@eval_app.command("diversity")
@user_errors
def eval_diversity(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Run folders, run ids (under --runs-dir), record files, or ESConv .json/.jsonl "
            "files (supporter = advisor, seeker = client)."
        ),
    ],
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are looked up by id.")] = Path(
        "runs"
    ),
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the figures as JSON to this file ('-': print them)."),
    ] = None,
    esconv: Annotated[
        Path | None,
        typer.Option(
            help="ESConv file to evaluate alongside as the human reference; its turn counts "
            "also set the matched sample size."
        ),
    ] = None,
    match: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Turns per speaker of the matched distinct-2 sample (default: the --esconv "
            "file's counts, else the shared ESConv sample's: 351 supporter, 391 seeker).",
        ),
    ] = None,
    voice: Annotated[
        bool, typer.Option("--voice/--no-voice", help="Run the persona voice classifier.")
    ] = True,
) -> None:
    """Sentence patterns, matched distinct-2, turn length, bare acknowledgements, outcomes,
    sign-offs and persona voice distinctness, per speaker."""
    from emosim.catalog import get_catalog
    from emosim.evals.diversity import (
        ESCONV_SAMPLE_TURNS,
        catalog_slots,
        esconv_turns,
        evaluate_dialogs,
    )

    dialogs, files, kind = load_dialogs(sources, runs_dir)
    try:
        slots = catalog_slots(get_catalog())
    except EmosimError:  # outside a project: the stricter template share is left out
        slots = None
    reference = None
    counts = dict(ESCONV_SAMPLE_TURNS)
    if esconv is not None:
        counts = esconv_turns(esconv)
    if match is not None:
        counts = {"advisor": match, "client": match}
    if esconv is not None:
        from emosim.evals.diversity import dialogs_of_esconv

        reference = evaluate_dialogs(
            dialogs_of_esconv(esconv),
            sources=[str(esconv)],
            kind="esconv",
            match=counts,
            voice=False,
            slots=slots,
        )
    result = evaluate_dialogs(
        dialogs, sources=files, kind=kind, match=counts, voice=voice, slots=slots
    )
    payload = DiversityResult(corpus=result, reference=reference)
    if json_out is not None and str(json_out) == "-":
        typer.echo(payload.model_dump_json(indent=2))
        return
    from emosim.evals.diversity_tables import diversity_tables

    for table in diversity_tables(result, reference):
        console.print(table)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(payload.model_dump_json(indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {json_out}", soft_wrap=True)


@eval_app.command("legibility")
@user_errors
def eval_legibility(
    sources: Annotated[list[str], typer.Argument(help="Run folders, run ids or record files.")],
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are looked up by id.")] = Path(
        "runs"
    ),
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON to this file.")
    ] = None,
) -> None:
    """How readable the simulated client's hidden feeling is: the run's observer and an
    independent reader (the GoEmotions classifier without the lexicon) against the hidden
    arc, per emotion, with both confusion matrices."""
    import json

    from emosim.agents.classifier import build_classifier_observer
    from emosim.catalog import get_catalog
    from emosim.evals.diversity_legibility import legibility, read_turns, tables
    from emosim.files import atomic_writer
    from emosim.reports.loading import load_records

    records, _ = load_records(sources, runs_dir)
    catalog = get_catalog()
    observer = build_classifier_observer(catalog, lexicon=False)
    turns = read_turns(records, catalog, observer)
    if not turns:
        raise EmosimError("no simulated client turns with a hidden state in these records")
    observers = sorted(
        {t.annotation.observer for r in records for t in r.client_turns if t.annotation}
    )
    result = legibility(turns, observers, f"{observer.name} (no lexicon)")
    for table in tables(result):
        console.print(table)
    if json_out is not None:
        with atomic_writer(json_out) as handle:
            handle.write(json.dumps(result.model_dump(), indent=2) + "\n")
        console.print(f"wrote {json_out}", soft_wrap=True)
