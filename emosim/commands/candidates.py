"""`emosim candidates`: alternative Elena replies for human preference ranking."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from emosim.cli import app, console, user_errors
from emosim.errors import EmosimError

TARGET_SHARE = 0.75


@app.command()
@user_errors
def candidates(
    run: Annotated[str, typer.Argument(help="Run id (under --runs-dir) or run folder.")],
    conversations: Annotated[
        list[str] | None,
        typer.Argument(help="Conversation ids (default: every finished conversation)."),
    ] = None,
    n: Annotated[int, typer.Option("--n", help="Candidates per turn, the original included.")] = 4,
    backend: Annotated[
        list[str] | None,
        typer.Option(
            help="Backend spec of the alternatives' advisor; repeat to take turns "
            "(default: the run's own). The critic and observers are always the run's."
        ),
    ] = None,
    turns: Annotated[
        str, typer.Option(help="Advisor turn indices (odd), e.g. 1,3, or 'all'.")
    ] = "all",
    seed: Annotated[int, typer.Option(help="Same seed, same candidates.")] = 0,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="Make the stored candidates again (model calls answered from their "
            "cassettes) and compare; writes nothing.",
        ),
    ] = False,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are.")] = Path("runs"),
) -> None:
    """Generate N candidate replies per advisor turn from the turn's checkpoint, each with a
    different lead strategy, critic-reviewed and observer-labelled; stored in
    RUN/candidates/candidates.jsonl (the original reply is one of them)."""
    from emosim.catalog import get_catalog
    from emosim.preferences.candidates import generate, parse_turns
    from emosim.preferences.store import candidates_path, save_candidate_sets
    from emosim.runs import RunFolder

    catalog = get_catalog()
    folder = RunFolder.open(runs_dir, run)
    wanted = parse_turns(turns)
    if replay:
        _replay(catalog, folder, conversations or None, wanted)
        return
    with folder.lock():  # one writer of the run folder
        result = generate(
            catalog,
            folder,
            conversations or None,
            n=n,
            turns=wanted,
            seed=seed,
            backends=backend or None,
        )
        if not result.sets:
            reasons = "; ".join(f"turn {s.turn_index}: {s.reason}" for s in result.skipped[:3])
            raise EmosimError(
                f"run {folder.run_id}: no candidate set was made ({reasons or 'none'})"
            )
        path = save_candidate_sets(folder, result.sets)
    _print_sets(result.sets)
    _print_summary(result, path if path.is_absolute() else candidates_path(folder))


def _print_sets(sets: list) -> None:  # noqa: ANN001
    table = Table(title="candidate sets")
    for col in ("conversation", "turn", "client feels", "original", "alternatives (lead)"):
        table.add_column(col, overflow="fold")
    for s in sets[:40]:
        original = s.original
        others = [c for c in s.candidates if not c.is_original]
        table.add_row(
            s.conversation_id,
            str(s.turn_index),
            s.client_state.primary if s.client_state else "?",
            original.primary or "?",
            Text(", ").join(
                Text.assemble(c.primary or "?", ("" if c.accepted else " (rejected)", "red"))
                for c in others
            ),
        )
    if len(sets) > 40:
        table.caption = f"... and {len(sets) - 40} more set(s)"
    console.print(table)


def _print_summary(result, path: Path) -> None:  # noqa: ANN001
    from emosim.preferences.distinct import summarize

    summary = summarize(result.sets)
    share = summary.distinct.share
    table = Table(title="candidates", show_header=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("sets (advisor turns)", str(summary.sets))
    table.add_row("candidates (original included)", str(summary.candidates))
    table.add_row("alternatives made", str(result.generated))
    table.add_row("accepted by the critic", f"{summary.accepted}/{summary.candidates}")
    table.add_row(
        "strategies fit the client's emotion", f"{summary.helpful_fit}/{summary.candidates}"
    )
    colour = "green" if share is not None and share >= TARGET_SHARE else "yellow"
    table.add_row(
        "pairs with different primary strategies",
        Text.assemble(
            (f"{summary.distinct.distinct}/{summary.distinct.pairs} = {share or 0:.1%}", colour),
            f" (target >= {TARGET_SHARE:.0%})",
        ),
    )
    if result.redrawn or result.failed:
        table.add_row("draws repeated / failed", f"{result.redrawn} / {result.failed}")
    table.add_row("turns skipped", str(len(result.skipped)))
    rate = result.generated / result.seconds if result.seconds else 0.0
    table.add_row("time", f"{result.seconds:.1f} s ({rate:.1f} alternatives/s)")
    console.print(table)
    for skipped in result.skipped[:5]:
        console.print(
            f"skipped {skipped.conversation} turn {skipped.turn_index}: {skipped.reason}",
            style="dim",
        )
    console.print(f"wrote {path}", soft_wrap=True)


def _replay(catalog, folder, conversations: list[str] | None, turns: list[int] | None) -> None:  # noqa: ANN001
    from emosim.debugging import diff
    from emosim.preferences.candidates import generate
    from emosim.preferences.store import load_run_candidates

    stored = [
        s
        for s in load_run_candidates(folder)
        if (conversations is None or s.conversation_id in conversations)
        and (turns is None or s.turn_index in turns)
    ]
    if not stored:
        raise EmosimError(f"run {folder.run_id}: no stored candidates to replay")
    groups: dict[tuple, list] = {}
    for s in stored:
        groups.setdefault((s.n or len(s.candidates), s.seed, tuple(s.backends)), []).append(s)
    differences = []
    for (n, seed, backends), items in groups.items():
        by_conversation: dict[str, list[int]] = {}
        for s in items:
            by_conversation.setdefault(s.conversation_id, []).append(s.turn_index)
        for conversation, indices in by_conversation.items():
            made = generate(
                catalog,
                folder,
                [conversation],
                n=n,
                turns=sorted(indices),
                seed=seed,
                backends=list(backends) or None,
                replay=True,
            )
            again = {s.key: s for s in made.sets}
            for s in items:
                if s.conversation_id != conversation:
                    continue
                other = again.get(s.key)
                if other is None:
                    differences.append((f"{s.conversation_id} turn {s.turn_index}", "set", None))
                    continue
                for path, a, b in diff(s.model_dump(mode="json"), other.model_dump(mode="json")):
                    differences.append((f"{s.conversation_id} turn {s.turn_index}", path, (a, b)))
    if not differences:
        console.print(
            f"[green]identical[/]: {len(stored)} candidate set(s) made again from their "
            "checkpoints match the stored ones (model calls answered from the recorded "
            "cassettes: none made)",
            markup=True,
        )
        return
    table = Table(title=f"candidates replay diverged in {len(differences)} place(s)")
    for col in ("set", "path", "stored -> replayed"):
        table.add_column(col, overflow="fold")
    for where, path, values in differences[:50]:
        table.add_row(where, str(path), str(values)[:200])
    console.print(table)
    raise typer.Exit(2)
