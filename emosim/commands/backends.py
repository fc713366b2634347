"""`emosim backends`: what plays each role, what a run's model calls cost, and the prompts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from emosim.cli import app, console, user_errors
from emosim.console import print_table_or_rows
from emosim.errors import EmosimError

backends_app = typer.Typer(
    help="Model backends: resolved roles, cassette usage and cost, prompt templates.",
    no_args_is_help=True,
)
app.add_typer(backends_app, name="backends")


def _resolved_rows(spec: str) -> tuple[str, list[dict[str, Any]]]:
    from emosim.agents.llm.build import load_resolved, resolve
    from emosim.agents.llm.prompts import Prompts
    from emosim.agents.llm.settings import load_settings
    from emosim.agents.llm.spec import ROLES, parse_spec
    from emosim.catalog import get_catalog

    catalog = get_catalog()
    plan = parse_spec(spec)
    if plan.replay is not None:
        resolved = load_resolved(plan.replay)
        if resolved is None:
            raise EmosimError(f"replay:{plan.replay}: no backends.json (no model backend ran)")
        kinds = {
            r: "replay" if v.kind != "scripted" else "scripted" for r, v in resolved.roles.items()
        }
    else:
        resolved = resolve(plan, load_settings(catalog.root, plan.settings, plan.source))
        kinds = {r: v.kind for r, v in resolved.roles.items()}
    prompts = Prompts(catalog.file(resolved.prompts))
    rows = []
    for role in ROLES:
        info = resolved.roles[role]
        s = info.settings
        rows.append(
            {
                "role": role,
                "backend": kinds[role],
                "model": s.model if s else None,
                "max_tokens": s.max_tokens if s else None,
                "timeout": s.timeout if s else None,
                "retries": s.retries if s else None,
                "effort": s.effort if s else None,
                "thinking": s.thinking if s else None,
                "prompt_hash": prompts.role_hash(role) if s else None,
                "langchain": info.langchain,
            }
        )
    return resolved.spec, rows


@backends_app.command("show")
@user_errors
def show(
    spec: Annotated[
        str, typer.Argument(help="Backend spec, e.g. anthropic or a .yaml file.")
    ] = "anthropic",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show which backend, model and limits play each role for a backend spec."""
    resolved_spec, rows = _resolved_rows(spec)
    key_set = bool(os.environ.get("ANTHROPIC_API_KEY"))
    if as_json:
        console.print_json(
            json.dumps({"spec": resolved_spec, "api_key_set": key_set, "roles": rows})
        )
        return
    if console.width < 120:  # narrow: one block per role, every value whole
        _print_roles_narrow(resolved_spec, rows)
    else:
        _print_roles_table(resolved_spec, rows)
    if any(r["backend"] == "anthropic" for r in rows):
        state = "[green]set[/]" if key_set else "[red]not set[/] (needed before a run)"
        console.print(f"ANTHROPIC_API_KEY: {state}", markup=True)


def _print_roles_narrow(resolved_spec: str, rows: list[dict]) -> None:
    console.print(f"[bold]backends: {escape(resolved_spec)}[/]", soft_wrap=True, markup=True)
    for row in rows:
        timeout = f"{row['timeout']:g}" if row["timeout"] else "-"
        limits = (
            f"max tokens {row['max_tokens'] or '-'}, timeout {timeout} s, "
            f"retries {row['retries'] if row['retries'] is not None else '-'}, "
            f"effort {row['effort'] or '-'}, thinking {row['thinking'] or '-'}"
        )
        console.print(
            f"  [bold]{escape(row['role'])}[/]: {escape(row['backend'])} "
            f"{escape(row['model'] or '-')}",
            soft_wrap=True,
            markup=True,
        )
        console.print(
            f"    {limits}; prompt {(row['prompt_hash'] or '-')[:12]}",
            highlight=False,
            markup=False,
        )


def _print_roles_table(resolved_spec: str, rows: list[dict]) -> None:
    table = Table(title=f"backends: {resolved_spec}")
    for column in (
        "role",
        "backend",
        "model",
        "max tokens",
        "timeout s",
        "retries",
        "effort",
        "thinking",
        "prompt",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["role"],
            row["backend"],
            row["model"] or "-",
            str(row["max_tokens"] or "-"),
            f"{row['timeout']:g}" if row["timeout"] else "-",
            str(row["retries"] if row["retries"] is not None else "-"),
            row["effort"] or "-",
            row["thinking"] or "-",
            (row["prompt_hash"] or "-")[:12],
        )
    console.print(table)


@backends_app.command("usage")
@user_errors
def usage(
    run: Annotated[str, typer.Argument(help="Run folder or run id.")],
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are.")] = Path("runs"),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Model calls, failures, tokens, cache share, cost and latency of a run, per role."""
    from emosim.agents.llm.report import usage_report
    from emosim.runs import RunFolder

    report = usage_report(RunFolder.open(runs_dir, run).path)
    if as_json:
        console.print_json(report.model_dump_json())
        return
    console.print(
        f"model calls of {report.run} ({report.conversations} conversations)", soft_wrap=True
    )
    table = Table()
    for column in (
        "role",
        "model",
        "calls",
        "failed",
        "repairs",
        "tokens in",
        "tokens out",
        "cache read",
        "cost $",
        "p50 ms",
        "p95 ms",
    ):
        table.add_column(
            column, justify="left" if column in ("role", "model") else "right", overflow="fold"
        )
    for row in [*report.roles, report.total]:
        table.add_row(
            row.role,
            row.model,
            str(row.calls),
            str(row.failed_calls),
            str(row.repairs),
            f"{row.tokens_in:,}",
            f"{row.tokens_out:,}",
            f"{row.cache_read_share:.0%}",
            f"{row.cost_usd:.4f}" if row.cost_usd is not None else "unknown",
            f"{row.latency_p50_ms:.0f}",
            f"{row.latency_p95_ms:.0f}",
            end_section=row is report.roles[-1],
        )
    print_table_or_rows(console, table)


@backends_app.command("prompt")
@user_errors
def prompt(
    role: Annotated[str, typer.Argument(help="Role: client, advisor, emotion_observer, ...")],
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario file, to render the per-conversation block.")
    ] = None,
) -> None:
    """Print a role's cached prompt prefix as the model sees it (for prompt engineers)."""
    from emosim.agents.llm.prompts import Prompts
    from emosim.agents.llm.settings import load_settings
    from emosim.agents.llm.spec import ROLES
    from emosim.catalog import get_catalog

    if role not in ROLES:
        raise EmosimError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    catalog = get_catalog()
    prompts = Prompts(catalog.file(load_settings(catalog.root).prompts))
    parts = [prompts.render(f"{role}.system.md", catalog=catalog)]
    if scenario is not None and prompts.has(f"{role}.context.md"):
        sc = catalog.load_scenario(scenario)
        persona = catalog.clients[sc.client_persona]
        parts.append(
            prompts.render(
                f"{role}.context.md",
                catalog=catalog,
                persona=persona,
                client_name=persona.name,
                topic=catalog.topics[sc.topic],
                subcategory=sc.subcategory,
                situation=sc.situation,
            )
        )
    text = "\n\n---\n\n".join(parts)
    console.print(text, markup=False, highlight=False)
    console.print(
        f"{len(text):,} characters, about {len(text) // 4:,} tokens; "
        f"templates: {', '.join(prompts.files(role))}",
        style="dim",
    )


def print_estimate(catalog: Any, jobs: list[Any], backend: str, message_batches: bool) -> None:
    """`batch --dry-run`: the estimate as a table, and how it was made."""
    from emosim.agents.llm.estimate import count_client, estimate_jobs

    estimate = estimate_jobs(
        catalog,
        jobs,
        backend,
        message_batches=message_batches,
        client=count_client(catalog, backend),
    )
    title = f"dry run: {estimate.conversations} conversation(s), backend {backend}"
    if not estimate.roles:
        console.print(f"{title}: no model calls (every role is scripted or replayed): $0")
        return
    table = Table(title=title)
    for column in (
        "role",
        "model",
        "calls",
        "tokens in",
        "cache write",
        "cache read",
        "tokens out",
        "cost $",
    ):
        table.add_column(
            column, justify="left" if column in ("role", "model") else "right", overflow="fold"
        )
    for row in estimate.roles.values():
        table.add_row(
            row.role,
            row.model,
            f"{row.calls:,.0f}",
            f"{row.input_tokens:,.0f}",
            f"{row.cache_write_tokens:,.0f}",
            f"{row.cache_read_tokens:,.0f}",
            f"{row.output_tokens:,.0f}",
            f"{row.cost_usd:.2f}" if row.cost_usd is not None else "unknown",
        )
    print_table_or_rows(console, table)
    total = estimate.cost_usd
    cost = f"${total:,.2f}" if total is not None else "unknown (a model has no price in the table)"
    console.print(f"estimated cost: [bold]{escape(cost)}[/]", markup=True)
    console.print(f"{estimate.method}: {estimate.note}", style="dim")
