"""The lineage graph: which seed every scenario, variation, conversation and fork comes from.

Nodes are scenario ids and record ids; an edge runs parent -> child and carries how the child
was made: a variation `axis`, `fork`, or `played` (a conversation played from a scenario).
A family is a weakly connected component, named by its root seed; the exports keep a family
inside one split (`family_of`), so that variations of one seed never straddle splits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
from pydantic import ValidationError

from .catalog import Catalog
from .errors import DataError, EmosimError
from .files import format_validation_error, iter_json_documents, load_yaml_model
from .runs import MANIFEST, RECORDS
from .schemas import ConversationRecord, LineageInfo, Scenario

PLAYED = "played"


# --- reading inputs -------------------------------------------------------------------------


@dataclass
class Sources:
    scenarios: list[Scenario] = field(default_factory=list)
    records: list[ConversationRecord] = field(default_factory=list)
    read: list[str] = field(default_factory=list)


def read_records(path: Path) -> list[ConversationRecord]:
    """Records from a .json (one record or a list) or .jsonl file, with located errors."""
    out = []
    for where, doc in iter_json_documents(path):
        try:
            out.append(ConversationRecord.model_validate(doc))
        except ValidationError as exc:
            raise DataError(format_validation_error(exc, where)) from None
    return out


def resolve_run(item: str, runs_dir: Path) -> Path | None:
    """A run folder given by path or by id under `runs_dir` -> its records file."""
    for folder in (Path(item), runs_dir / item):
        if (folder / MANIFEST).is_file() or (folder / RECORDS).is_file():
            return folder / RECORDS
    return None


def read_sources(
    items: Sequence[str | Path],
    runs_dir: Path = Path("runs"),
    catalog: Catalog | None = None,
    scenarios: bool = True,
) -> Sources:
    """Scenario files (.yaml), records (.json/.jsonl), run folders or run ids, and folders
    holding any of these (their own files and runs; subfolders are not searched)."""
    out = Sources()
    for item in items:
        path = Path(item)
        run_records = resolve_run(str(item), runs_dir)
        if run_records is not None:
            if not run_records.is_file():
                raise EmosimError(f"{run_records.parent}: run has no records yet ({RECORDS})")
            out.records.extend(read_records(run_records))
            out.read.append(str(run_records))
        elif path.is_dir():
            # a folder: its files, and the run folders right inside it (not other subfolders)
            runs = sorted(p / RECORDS for p in path.iterdir() if (p / RECORDS).is_file())
            files = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and not p.name.startswith(".")
                and p.suffix
                in ({".json", ".jsonl", ".yaml", ".yml"} if scenarios else {".json", ".jsonl"})
            )
            if not files and not runs:
                raise EmosimError(f"{path}: no records, scenario files or runs in this folder")
            _read_files(files + runs, out, catalog, scenarios)
        elif path.is_file():
            _read_files([path], out, catalog, scenarios)
        else:
            raise EmosimError(
                f"{item}: no such file, folder or run (runs are looked up in {runs_dir})"
            )
    return out


def _read_files(files: list[Path], out: Sources, catalog: Catalog | None, scenarios: bool) -> None:
    for path in files:
        if path.suffix in {".json", ".jsonl"}:
            out.records.extend(read_records(path))
        elif scenarios and path.suffix in {".yaml", ".yml"}:
            scenario = catalog.load_scenario(path) if catalog else load_yaml_model(path, Scenario)
            out.scenarios.append(scenario)
        else:
            raise EmosimError(f"{path}: expected records (.json/.jsonl), got {path.suffix!r}")
        out.read.append(str(path))


# --- the graph ------------------------------------------------------------------------------


def _add_node(graph: nx.DiGraph, node: str, **attrs: object) -> None:
    """Add or update a node; a node only referred to (a parent not among the inputs) has
    kind 'reference' until its own file or record is read."""
    if node not in graph:
        graph.add_node(node, kind="reference")
    graph.nodes[node].update({k: v for k, v in attrs.items() if v is not None})


def _add_lineage(graph: nx.DiGraph, child: str, lineage: LineageInfo) -> None:
    parent = lineage.parent_id
    if parent and parent != child:
        _add_node(graph, parent)
        graph.add_edge(
            parent,
            child,
            axis=lineage.axis or "",
            changed=json.dumps(lineage.changed, sort_keys=True),
            fork_checkpoint=lineage.fork_checkpoint or "",
        )
    if lineage.seed_id and lineage.seed_id != child:
        graph.nodes[child]["seed_id"] = lineage.seed_id


def build_graph(
    scenarios: Iterable[Scenario] = (), records: Iterable[ConversationRecord] = ()
) -> nx.DiGraph:
    graph = nx.DiGraph()
    for sc in scenarios:
        _add_node(graph, sc.id, kind="scenario", topic=sc.topic, persona=sc.client_persona)
        _add_lineage(graph, sc.id, sc.lineage)
    for r in records:
        _add_node(
            graph,
            r.id,
            kind="record",
            topic=r.scenario.topic,
            persona=r.scenario.client_persona_id,
            source=r.provenance.source,
        )
        scenario_id = r.scenario.scenario_id
        if r.lineage.axis == "fork":
            _add_lineage(graph, r.id, r.lineage)
        elif r.provenance.source == "real" or r.lineage.seed_id == r.id:
            # an imported transcript (or a record that names itself its seed) roots its own
            # family: a shared import label is not a scenario that was played
            _add_lineage(graph, r.id, r.lineage)
        elif scenario_id != r.id:
            # the record was played from its scenario; the scenario's own lineage comes along
            _add_node(graph, scenario_id)
            graph.add_edge(scenario_id, r.id, axis=PLAYED, changed="{}", fork_checkpoint="")
            _add_lineage(graph, scenario_id, r.lineage)
        else:  # a seed record is its own scenario
            _add_lineage(graph, r.id, r.lineage)
    _join_seeds(graph)
    return graph


def _join_seeds(graph: nx.DiGraph) -> None:
    """A node that names its seed but whose known ancestors do not reach it (a parent file was
    not among the inputs) is joined to the seed by an `inferred` edge, so families hold."""
    for node, seed in list(graph.nodes(data="seed_id")):
        if not seed or seed == node:
            continue
        _add_node(graph, seed)
        ancestors = nx.ancestors(graph, node)
        if seed in ancestors:
            continue
        roots = [a for a in ancestors if graph.in_degree(a) == 0] or [node]
        for top in roots:
            if top != seed and not graph.has_edge(seed, top):
                graph.add_edge(seed, top, axis="inferred", changed="{}", fork_checkpoint="")


def family_root(graph: nx.DiGraph, members: Iterable[str]) -> str:
    """The family's seed: the named seed of its members, else its first parentless node."""
    members = sorted(members)
    seeds = sorted({s for m in members if (s := graph.nodes[m].get("seed_id"))} & set(members))
    if seeds:
        return seeds[0]
    roots = [m for m in members if graph.in_degree(m) == 0]
    return (roots or members)[0]


def families(graph: nx.DiGraph) -> dict[str, list[str]]:
    """family id (root seed) -> member node ids."""
    out = {}
    for component in nx.weakly_connected_components(graph):
        out[family_root(graph, component)] = sorted(component)
    return dict(sorted(out.items()))


def depth(graph: nx.DiGraph, root: str) -> dict[str, int]:
    """Generations below the root (a variation of a seed is at depth 1)."""
    return dict(nx.single_source_shortest_path_length(graph, root))


def family_of(records: Sequence[ConversationRecord]) -> dict[str, str]:
    """record id -> family id: the root seed of the record's lineage family. Used by the
    exports to keep every family inside one split."""
    graph = build_graph(records=records)
    member_family = {}
    for family, members in families(graph).items():
        for m in members:
            member_family[m] = family
    return {r.id: member_family[r.id] for r in records}


@dataclass
class FamilySummary:
    family: str
    members: int
    scenarios: int
    records: int
    max_depth: int
    axes: dict[str, int]


def summarize(graph: nx.DiGraph) -> list[FamilySummary]:
    out = []
    for family, members in families(graph).items():
        sub = graph.subgraph(members)
        depths = depth(graph, family)
        axes: dict[str, int] = {}
        for _, _, axis in sub.edges(data="axis"):
            axes[axis or "-"] = axes.get(axis or "-", 0) + 1
        kinds = [graph.nodes[m].get("kind") for m in members]
        out.append(
            FamilySummary(
                family=family,
                members=len(members),
                scenarios=kinds.count("scenario"),
                records=kinds.count("record"),
                max_depth=max(depths.values(), default=0),
                axes=dict(sorted(axes.items())),
            )
        )
    return out


def write_graphml(graph: nx.DiGraph, path: Path) -> None:
    """GraphML for yEd/Gephi; written atomically, with each node's family and depth."""
    from .files import atomic_writer

    out = graph.copy()
    for family, members in families(graph).items():
        depths = depth(graph, family)
        for m in members:
            out.nodes[m]["family"] = family
            out.nodes[m]["depth"] = depths.get(m, -1)
    for _, attrs in out.nodes(data=True):
        for key in [k for k, v in attrs.items() if v is None]:
            del attrs[key]
    with atomic_writer(path, "wb") as handle:
        nx.write_graphml(out, handle)
