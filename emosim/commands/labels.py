"""`emosim` commands: labels (`emosim labels ...`) and bulk review (`emosim review ...`)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape

from emosim.cli import app, console, err_console, user_errors
from emosim.console import print_table_or_rows
from emosim.errors import EmosimError

labels_app = typer.Typer(
    help="Self-healing labels: append-only label events, resolution, streams and analytics.",
    no_args_is_help=True,
)
review_app = typer.Typer(
    help="Bulk human review: export tasks, import reviewers' decisions.", no_args_is_help=True
)
app.add_typer(labels_app, name="labels")
app.add_typer(review_app, name="review")

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Label store: a SQLite file, a folder holding its labels.sqlite (e.g. a run "
        "folder), or postgresql://USER@HOST/DB. Default: $EMOSIM_STORE, else ./labels.sqlite.",
    ),
]
ImportStoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Label store: a SQLite file, a folder for its labels.sqlite, or "
        "postgresql://USER@HOST/DB. Default: $EMOSIM_STORE, else labels.sqlite in the "
        "records' folder: inside a run folder, or beside a .jsonl/.json file (where export, "
        "report, coverage and show find it); records from several folders need it.",
    ),
]
PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="Resolution policy YAML (priority, within_kind).")
]
PriorityOpt = Annotated[
    str | None,
    typer.Option(
        "--priority",
        help="Source kinds, most trusted first, comma-separated "
        "(default: live_operator,human_bulk_review,rule,model).",
    ),
]
RulesOpt = Annotated[
    Path | None, typer.Option("--rules", help="Rule file (default: rules.yaml at the repo root).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _store(store: str | None, datasets: list[Path] | None = None, create: bool = False):
    from emosim.labels.store import LabelStore, store_path_for

    return LabelStore.open(store_path_for(store, datasets or []), create=create)


def _policy(policy: Path | None, priority: str | None):
    from emosim.labels.policy import load_policy

    return load_policy(policy, priority)


def _rules_path(rules: Path | None) -> Path:
    from emosim.labels.rules import RULES_FILE
    from emosim.paths import project_root

    return rules or project_root() / RULES_FILE


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# --- labels --------------------------------------------------------------------------------


@labels_app.command("import")
@user_errors
def labels_import(
    paths: Annotated[
        list[Path], typer.Argument(help="Run folders or record files (.json/.jsonl).")
    ],
    store: ImportStoreOpt = None,
) -> None:
    """Load records (texts and their embedded label events) into the label store."""
    from emosim.catalog import get_catalog
    from emosim.labels.store import iter_dataset

    items = list(iter_dataset(paths))
    if not items:
        raise EmosimError(f"no records in {', '.join(map(str, paths))}")
    with _store(store, paths, create=True) as db:
        result = db.import_records(items, get_catalog())
        console.print(
            f"{db.path}: {result.conversations_added} new conversation(s) of {len(items)}, "
            f"{len(result.stored)} new event(s), {len(result.already_stored)} already stored; "
            f"{db.count_events()} event(s) in total",
            soft_wrap=True,
        )


@labels_app.command("resolve")
@user_errors
def labels_resolve(
    store: StoreOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="Write every resolved label (JSONL, one per target).")
    ] = None,
    records: Annotated[
        Path | None,
        typer.Option(help="Write the records with resolved annotations and full history (JSONL)."),
    ] = None,
    policy: PolicyOpt = None,
    priority: PriorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Materialize the current label of every target by the resolution policy.

    The store's hash chain is verified first: a store whose history was altered is refused
    (`emosim labels verify` lists what is wrong)."""
    from contextlib import ExitStack

    from emosim.catalog import get_catalog
    from emosim.files import atomic_writer
    from emosim.labels.resolve import resolve_record, resolve_store
    from emosim.labels.tables import resolve_summary

    pol = _policy(policy, priority)
    rows: list = []  # kept for --json only: otherwise a store of any size streams through
    with _store(store) as db, ExitStack() as stack:
        db.require_intact()
        handle = stack.enter_context(atomic_writer(out)) if out else None

        def stream():
            for row in resolve_store(db, pol):
                if handle is not None:
                    handle.write(row.model_dump_json() + "\n")
                if as_json:
                    rows.append(row)
                yield row

        summary = resolve_summary(stream())
        if records:
            catalog = get_catalog()
            with atomic_writer(records) as target:
                for record in db.records():
                    fixed = resolve_record(
                        record, db.events(record.id), policy=pol, catalog=catalog
                    )
                    target.write(fixed.model_dump_json() + "\n")
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    console.print(summary)
    console.print(f"policy: {' > '.join(pol.priority)}; within a kind: {pol.within_kind}")
    for path, what in ((out, "resolved labels"), (records, "resolved records")):
        if path:
            console.print(f"{what}: {path}", soft_wrap=True)


@labels_app.command("disagreements")
@user_errors
def labels_disagreements(
    store: StoreOpt = None,
    field: Annotated[str | None, typer.Option(help="Only this label field.")] = None,
    conversation: Annotated[str | None, typer.Option(help="Only this conversation.")] = None,
    policy: PolicyOpt = None,
    priority: PriorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Targets whose sources' latest values differ (intensities: by band)."""
    from emosim.labels.resolve import resolved_rows
    from emosim.labels.tables import disagreements_table

    with _store(store) as db:
        events = db.events(conversation)
    rows = [
        r
        for r in resolved_rows(events, _policy(policy, priority))
        if r.disagreement and (field is None or r.target.field == field)
    ]
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
    else:
        console.print(disagreements_table(rows))


@labels_app.command("history")
@user_errors
def labels_history(
    conversation: Annotated[str, typer.Argument(help="Conversation id.")],
    turn: Annotated[int | None, typer.Option(help="Only this turn.")] = None,
    field: Annotated[str | None, typer.Option(help="Only this label field.")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every event of a conversation (or one turn), oldest first, with what it supersedes.

    The supersedes column gives each event's chain (nearest first); an event dated before
    the event it supersedes is flagged (backdated, or a clock that is off). --json adds
    `supersedes_chain` and `backdated` to each event.
    """
    from emosim.labels.audit import audit
    from emosim.labels.resolve import chronological
    from emosim.labels.tables import history_table

    with _store(store) as db:
        if conversation not in db.conversations():
            raise EmosimError(f"{db.path}: unknown conversation {conversation!r}")
        everything = chronological(db.events(conversation))
    known = {e.event_id: e for e in everything}
    events = audit(
        (
            e
            for e in everything
            if (turn is None or e.target.turn_index == turn)
            and (field is None or e.target.field == field)
        ),
        known,
    )
    if as_json:
        _print_json([a.as_json() for a in events])
    else:
        print_table_or_rows(console, history_table(events))  # narrow: an event a block


ClockSkewOpt = Annotated[
    float,
    typer.Option(
        "--clock-skew",
        min=0,
        help="Seconds an event's created_at may be ahead of this machine's clock (events "
        "dated further ahead are refused).",
    ),
]


@labels_app.command("ingest")
@user_errors
def labels_ingest(
    path: Annotated[Path, typer.Argument(help="JSONL of live-operator events (OperatorEvent).")],
    store: StoreOpt = None,
    clock_skew: ClockSkewOpt = 300,
) -> None:
    """Append a batch of live-operator events: all of it or, on any problem, none.

    An event may supersede (retract, reject, correct or accept by id) another person's event
    only if its operator holds a role allowed to in label_roles.yaml (e.g. reviewer-lead).
    Resending events already stored stores nothing twice, also when two ingests overlap.
    """
    from datetime import timedelta

    from emosim.catalog import get_catalog
    from emosim.heap import settle_long_lived
    from emosim.labels.operators import read_operator_jsonl

    catalog = get_catalog()
    settle_long_lived()  # collections then walk the batch's objects, not the catalog's
    items = read_operator_jsonl(path)
    with _store(store) as db:
        db.clock_skew = timedelta(seconds=clock_skew)
        result = db.append(items, catalog)
    console.print(
        f"{path}: {len(result.stored)} event(s) stored, {len(result.already_stored)} already stored",
        soft_wrap=True,
    )


@labels_app.command("verify")
@user_errors
def labels_verify(
    store: StoreOpt = None,
    head: Annotated[
        str | None,
        typer.Option(
            help="A head printed by an earlier verify: it must still be in the chain (detects "
            "a history cut short or rebuilt since)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the store's hash chains and append-only guards; exit 1 if anything was altered.

    Every event's hash covers its content and the previous event's hash, every conversation's
    its turns and sentences and the previous conversation's: a changed, removed or inserted
    row breaks the chain. Keep the printed head elsewhere and pass it back with --head.
    """
    import dataclasses

    with _store(store) as db:
        report = db.verify(head)
        where = db.path
    if as_json:
        _print_json({"store": str(where), "ok": report.ok, **dataclasses.asdict(report)})
    else:
        state = "[green]intact[/]" if report.ok else "[red]ALTERED[/]"
        console.print(
            f"{escape(str(where))}: {state}: {report.events} event(s), {report.conversations} "
            f"conversation(s)\nevent head: {report.head or '(no events)'}\n"
            f"conversation head: {report.conversations_head or '(none)'}",
            markup=True,
        )
        if report.events_before_chain:
            console.print(
                f"chained since {report.chain_since}: the {report.events_before_chain} event(s) "
                "stored before then were chained when the store was upgraded"
            )
        for problem in report.problems:
            err_console.print(f"[red]problem:[/] {escape(problem)}", highlight=False, markup=True)
        if report.unlisted:
            err_console.print(f"[red]problem:[/] ... and {report.unlisted} more", markup=True)
    if not report.ok:
        raise typer.Exit(1)


@labels_app.command("serve")
@user_errors
def labels_serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8765,
    token_env: Annotated[
        str, typer.Option(help="Environment variable holding the bearer token.")
    ] = "EMOSIM_LABELS_TOKEN",
    store: StoreOpt = None,
    policy: PolicyOpt = None,
    priority: PriorityOpt = None,
    max_body_bytes: Annotated[
        int, typer.Option(min=1, help="Largest request body read (bytes); larger: HTTP 413.")
    ] = 1_048_576,
    max_events: Annotated[
        int, typer.Option(min=1, help="Most events in one request; more: HTTP 413.")
    ] = 1_000,
    clock_skew: ClockSkewOpt = 300,
    openapi: Annotated[
        bool, typer.Option(help="Serve /openapi.json (behind the token; no /docs page).")
    ] = False,
) -> None:
    """Serve the live-operator endpoint on 127.0.0.1 (POST /v1/events, bearer token).

    The token goes in the Authorization header only (a token in the URL is refused and never
    logged). A busy store answers 503 with Retry-After.
    """
    from datetime import timedelta

    import uvicorn

    from emosim.labels.server import EndpointLimits, create_app
    from emosim.labels.store import store_path_for

    token = os.environ.get(token_env, "")
    if not token:
        raise EmosimError(f"set the bearer token in ${token_env} (empty or unset)")
    path = store_path_for(store)
    server_app = create_app(
        path,
        token,
        policy=_policy(policy, priority),
        limits=EndpointLimits(max_body_bytes=max_body_bytes, max_events=max_events),
        openapi=openapi,
        clock_skew=timedelta(seconds=clock_skew),
    )
    console.print(f"live-operator labels on http://127.0.0.1:{port} (store {path})", soft_wrap=True)
    # no lifespan (the app has none): a Ctrl-C then stops the server without a traceback
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(server_app, host="127.0.0.1", port=port, log_level="info", lifespan="off")


@labels_app.command("apply-rules")
@user_errors
def labels_apply_rules(
    rules: RulesOpt = None,
    store: StoreOpt = None,
    dry_run: Annotated[bool, typer.Option(help="Show what would be added; store nothing.")] = False,
    policy: PolicyOpt = None,
    priority: PriorityOpt = None,
) -> None:
    """Apply rules.yaml to every stored conversation, recording `rule` events."""
    from emosim.catalog import get_catalog
    from emosim.labels.rules import load_rules, plan_rules
    from emosim.labels.tables import rules_table

    catalog = get_catalog()
    path = _rules_path(rules)
    ruleset = load_rules(path, catalog)
    if not ruleset.rules:
        raise EmosimError(f"{path}: no rules")
    with _store(store) as db:
        outcomes = plan_rules(ruleset, db, _policy(policy, priority))
        items = [(f"{path}: rule {o.rule.id}", e) for o in outcomes for e in o.events]
        if not dry_run:
            db.append(items, catalog)
    console.print(rules_table(outcomes, dry_run))


MinSupportOpt = Annotated[int, typer.Option(help="Fewest human corrections behind a rule.")]
MinRateOpt = Annotated[
    float,
    typer.Option(help="Least share of a finding's reviewed model labels corrected to one label."),
]
FdrOpt = Annotated[
    float, typer.Option(help="False discovery rate over every phrase x context tested.")
]


def _analytics_options(min_support: int, min_rate: float, fdr: float, top: int = 20):
    from pydantic import ValidationError

    from emosim.labels.analytics import AnalyticsOptions

    try:
        return AnalyticsOptions(min_support=min_support, min_rate=min_rate, fdr=fdr, top=top)
    except ValidationError as exc:
        raise EmosimError(
            "; ".join(
                f"--{'-'.join(str(e['loc'][0]).split('_'))}: {e['msg']}" for e in exc.errors()
            )
        ) from None


@labels_app.command("analytics")
@user_errors
def labels_analytics(
    store: StoreOpt = None,
    rules: RulesOpt = None,
    min_support: MinSupportOpt = 3,
    min_rate: MinRateOpt = 0.5,
    fdr: FdrOpt = 0.05,
    top: Annotated[int, typer.Option("--top", "--limit", help="Rows per table.")] = 20,
    policy: PolicyOpt = None,
    priority: PriorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Corrections by source and context, phrase x context findings, agreement, proposed rules.

    A rule is proposed for a phrase in a sub-category (or topic, or every context) when people
    corrected the model's label on its turns significantly more often than elsewhere
    (Fisher's exact test, Benjamini-Hochberg), at --min-rate or more, more often than on the
    context's turns without the phrase (so a context's template wording is not proposed),
    and the rule matches exactly the turns it was learned from. Ranked best first; when
    nothing qualifies, 'Not proposed' says why for each correction.
    """
    from emosim.catalog import get_catalog
    from emosim.labels.analytics import analyze
    from emosim.labels.rules import load_rules
    from emosim.labels.tables import analytics_tables

    options = _analytics_options(min_support, min_rate, fdr, top)
    accepted = {r.id for r in load_rules(_rules_path(rules), get_catalog()).rules}
    with _store(store) as db:
        report = analyze(db, _policy(policy, priority), options, accepted)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        console.print(analytics_tables(report, top))


@labels_app.command("accept-rule")
@user_errors
def labels_accept_rule(
    proposal: Annotated[str, typer.Argument(help="Proposal id from `emosim labels analytics`.")],
    store: StoreOpt = None,
    rules: RulesOpt = None,
    min_support: MinSupportOpt = 3,
    min_rate: MinRateOpt = 0.5,
    fdr: FdrOpt = 0.05,
    policy: PolicyOpt = None,
    priority: PriorityOpt = None,
) -> None:
    """Append a proposed rule to rules.yaml (then run `emosim labels apply-rules`)."""
    from emosim.catalog import get_catalog
    from emosim.labels.analytics import analyze
    from emosim.labels.rules import append_rule

    catalog = get_catalog()
    options = _analytics_options(min_support, min_rate, fdr)
    with _store(store) as db:
        report = analyze(db, _policy(policy, priority), options)
    found = next((p for p in report.proposed_rules if p.id == proposal), None)
    if found is None:
        known = ", ".join(p.id for p in report.proposed_rules) or "none"
        raise EmosimError(
            f"no proposed rule {proposal!r} (current proposals: {known}; give accept-rule the "
            "options given to analytics)"
        )
    path = _rules_path(rules)
    append_rule(path, found.rule, catalog)
    console.print(
        f"added rule {found.rule.id} to {path}; apply it with `emosim labels apply-rules`",
        soft_wrap=True,
    )


# --- review --------------------------------------------------------------------------------


CandidatesOpt = Annotated[
    Path | None,
    typer.Option(
        help="Ranking tasks: the run folder (or its candidates/candidates.jsonl) holding the "
        "candidate replies. Default: the label store's folder."
    ),
]


@review_app.command("export")
@user_errors
def review_export(
    task: Annotated[
        str,
        typer.Option(
            help="labels (check observers' labels), ranking (order candidate replies, best "
            "first) or authenticity (accept/reject and 1-5 scores per conversation)."
        ),
    ] = "labels",
    candidates: CandidatesOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", help="labelstudio (JSON tasks) or csv.")
    ] = "labelstudio",
    out: Annotated[
        Path | None, typer.Option(help="Tasks file (default review_tasks.json/.csv).")
    ] = None,
    store: StoreOpt = None,
    field: Annotated[
        list[str] | None, typer.Option(help="Fields to review (repeat; default: all).")
    ] = None,
    conversation: Annotated[
        list[str] | None, typer.Option(help="Only these conversations (repeat).")
    ] = None,
    only_disagreements: Annotated[
        bool, typer.Option(help="Only targets whose sources disagree.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option(help="Also write a Label Studio labeling config (XML).")
    ] = None,
    policy: PolicyOpt = None,
    priority: PriorityOpt = None,
) -> None:
    """Write review tasks: labels (the current labels as pre-annotations), or ranking and
    authenticity tasks for preference data (see docs/reviewer-guide.md)."""
    from emosim.catalog import get_catalog
    from emosim.files import write_text_atomic
    from emosim.labels.review import REVIEW_FIELDS, export_review, labelstudio_config

    if fmt not in ("labelstudio", "csv"):
        raise EmosimError(f"--format: {fmt!r} is not one of labelstudio, csv")
    if task not in ("labels", "ranking", "authenticity"):
        raise EmosimError(f"--task: {task!r} is not one of labels, ranking, authenticity")
    if task != "labels" and (field or only_disagreements):
        raise EmosimError(f"--field and --only-disagreements are for --task labels, not {task}")
    if task != "labels":
        _preference_export(task, fmt, out, store, conversation, config, candidates)
        return
    bad = [f for f in field or [] if f not in REVIEW_FIELDS]
    if bad:
        raise EmosimError(f"--field: {bad[0]!r} is not one of {', '.join(REVIEW_FIELDS)}")
    kind: Literal["labelstudio", "csv"] = "csv" if fmt == "csv" else "labelstudio"
    target = out or Path("review_tasks.csv" if kind == "csv" else "review_tasks.json")
    catalog = get_catalog()
    with _store(store) as db:
        unknown = sorted(set(conversation or []) - db.conversations().keys())
        if unknown and len(unknown) == len(set(conversation or [])):
            raise EmosimError(
                f"--conversation: no conversation {', '.join(map(repr, unknown))} in {db.path}"
            )
        if unknown:
            err_console.print(
                f"[yellow]warning:[/] --conversation: {escape(', '.join(map(repr, unknown)))} "
                f"not in {escape(str(db.path))} "
                f"(no tasks for {'it' if len(unknown) == 1 else 'them'})",
                markup=True,
            )
        text, count = export_review(
            db,
            catalog,
            kind,
            _policy(policy, priority),
            field or REVIEW_FIELDS,
            set(conversation) if conversation else None,
            only_disagreements,
        )
    write_text_atomic(target, text)
    console.print(f"wrote {count} task(s) to {target}", soft_wrap=True)
    if config:
        write_text_atomic(config, labelstudio_config(catalog))
        console.print(f"wrote Label Studio config to {config}", soft_wrap=True)


def _preference_export(task, fmt, out, store, conversation, config, candidates) -> None:  # noqa: ANN001
    from emosim.files import write_text_atomic
    from emosim.preferences.review import export_preference_review
    from emosim.preferences.tasks import labelstudio_config

    target = out or Path(f"{task}_tasks.{'csv' if fmt == 'csv' else 'json'}")
    with _store(store) as db:
        text, count = export_preference_review(
            db, task, fmt, candidates, set(conversation) if conversation else None
        )
    write_text_atomic(target, text)
    console.print(f"wrote {count} {task} task(s) to {target}", soft_wrap=True)
    if config:
        write_text_atomic(config, labelstudio_config(task))
        console.print(f"wrote Label Studio config to {config}", soft_wrap=True)


@review_app.command("import")
@user_errors
def review_import(
    path: Annotated[
        Path,
        typer.Argument(
            help="Label Studio export (its 'JSON' or 'JSON_MIN' format) of our tasks, or the "
            "filled-in CSV of `review export --format csv`."
        ),
    ],
    store: StoreOpt = None,
    reviewer: Annotated[
        str, typer.Option(help="Reviewer name when the file does not say.")
    ] = "reviewer",
    annotators: Annotated[
        Path | None,
        typer.Option(
            help='Label Studio users (the JSON of GET /api/users/, or {"ID": "email"}): '
            "annotators the export names by user id are stored by email."
        ),
    ] = None,
    candidates: CandidatesOpt = None,
    policy: PolicyOpt = None,
    priority: PriorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read reviewers' decisions back as human_bulk_review events; report what changed.

    The reviewer is the Label Studio annotator's email when the export has it (a snapshot
    export with annotators expanded, or --annotators); see docs/label-studio.md. Ranking and
    authenticity results are recognised by their columns or tasks and stored one event per
    reviewer and judgement.
    """
    from emosim.catalog import get_catalog
    from emosim.labels.labelstudio import load_annotators
    from emosim.labels.review import import_review
    from emosim.labels.tables import review_import_table
    from emosim.preferences.judgements import detect_task

    people = load_annotators(annotators)
    kind = detect_task(path)
    if kind is not None:
        from emosim.preferences.review import import_preference_review

        with _store(store) as db:
            done = import_preference_review(
                db, get_catalog(), path, kind, reviewer, candidates, people
            )
        for warning in done.warnings:
            err_console.print(
                f"[yellow]warning:[/] {escape(warning)}", highlight=False, markup=True
            )
        if as_json:
            typer.echo(done.model_dump_json(indent=2))
        else:
            console.print(
                f"{path}: {kind} ({done.format}): {done.judgements} judgement(s) from "
                f"{len(done.reviewers)} reviewer(s); {done.stored} event(s) stored, "
                f"{done.already_imported} already stored",
                soft_wrap=True,
            )
        return
    with _store(store) as db:
        report = import_review(
            db, get_catalog(), path, _policy(policy, priority), reviewer, annotators=people
        )
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, markup=True)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        console.print(review_import_table(report))
