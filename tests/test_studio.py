"""The Studio graph in process: the same conversation as `emosim run`, edits as forks, a run
opened as a thread. (tests/test_studio_server.py drives it through `langgraph dev`.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import InvalidUpdateError
from langgraph.types import StateUpdate

from emosim.catalog import Catalog
from emosim.debugging import RunInspector, fork, strip_volatile
from emosim.errors import EmosimError
from emosim.graphs.runner import load_job, run_jobs
from emosim.schemas import ConversationRecord
from emosim.studio.graph import build_studio_graph
from emosim.studio.server import supersteps

SCENARIO = "investing_shame_first_steps"


def config(thread: str) -> dict:
    return {"configurable": {"thread_id": thread}, "recursion_limit": 300}


@pytest.fixture()
def graph():  # noqa: ANN201
    return build_studio_graph(InMemorySaver())


def test_a_studio_run_plays_what_emosim_run_plays(scripted_run, graph) -> None:
    _, (played,) = scripted_run
    out = graph.invoke({"scenario": SCENARIO, "seed": 11}, config("t"))
    record = ConversationRecord.model_validate(out["record"])
    assert out["conversation_id"] == played.id and out["status"] == "completed"
    assert strip_volatile(record.model_dump(mode="json")) == strip_volatile(
        played.model_dump(mode="json")
    )
    state = graph.get_state(config("t")).values
    assert len(state["turns"]) == len(played.turns)  # committed turns are in the state
    # a new input on the same thread starts afresh: nothing of the last conversation stays
    again = graph.invoke({"scenario": SCENARIO, "seed": 12}, config("t"))["record"]
    fresh = graph.invoke({"scenario": SCENARIO, "seed": 12}, config("fresh"))["record"]
    assert strip_volatile(again) == strip_volatile(fresh)


def test_the_critic_judges_a_draft_edited_before_it(graph) -> None:
    cfg = config("edit")
    graph.invoke({"scenario": SCENARIO, "seed": 5}, cfg, interrupt_before=["critic_reviews"])
    state = graph.get_state(cfg)
    assert state.next == ("critic_reviews",)
    parent = state.values["conversation_id"]
    edited = "That sounds heavy to carry. What would a first small step look like for you?"
    draft = {**state.values["work"]["draft"], "text": edited}
    graph.update_state(cfg, {"work": {"draft": draft}})
    assert graph.get_state(cfg).next == ("critic_reviews",)
    graph.invoke(None, cfg, interrupt_after=["critic_reviews"])
    work = graph.get_state(cfg).values["work"]
    assert work["draft"]["text"] == edited and work["verdict"] is not None
    verdict = work["verdict"]
    record = ConversationRecord.model_validate(graph.invoke(None, cfg)["record"])
    assert record.lineage.parent_id == parent and record.lineage.axis == "fork"
    assert record.lineage.changed == {"draft.text": edited}
    assert record.id.startswith(f"{parent}--fork-")
    reply = record.turns[1]
    judged = reply if reply.text == edited else reply.rejected_drafts[0]
    assert judged.text == edited
    assert (judged.critic if judged is reply else judged.verdict).model_dump(mode="json") == verdict


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"exchange": 4}, "work.exchange cannot be changed"),
        ({"hidden": {"emotion": "glee"}}, "unknown emotion id 'glee'"),
        ({"hidden": {"valence": 0.9}}, "work.hidden.valence cannot be changed"),
    ],
)
def test_edits_outside_fork_paths_are_refused(graph, edit: dict, message: str) -> None:
    cfg = config("refused")
    graph.invoke({"scenario": SCENARIO, "seed": 5}, cfg, interrupt_before=["client_speaks"])
    work = graph.get_state(cfg).values["work"]
    values = {k: {**work[k], **v} if isinstance(v, dict) else v for k, v in edit.items()}
    with pytest.raises(InvalidUpdateError, match=message):
        graph.update_state(cfg, {"work": values})


def test_committed_turns_are_not_edited(graph) -> None:
    cfg = config("turns")
    graph.invoke({"scenario": SCENARIO, "seed": 5}, cfg, interrupt_before=["advisor_drafts"])
    turns = graph.get_state(cfg).values["turns"]
    with pytest.raises(InvalidUpdateError, match="committed turns cannot be changed"):
        graph.update_state(cfg, {"turns": [{**turns[0], "text": "Hello."}]})


def test_an_unknown_scenario_is_named(graph) -> None:
    with pytest.raises(EmosimError, match=r"input.scenario: 'no_such'.*investing_shame"):
        graph.invoke({"scenario": "no_such"}, config("bad"))


def test_a_run_opens_as_a_thread_and_forks_like_emosim_fork(
    tmp_path: Path, catalog: Catalog, root: Path, graph
) -> None:
    job = load_job(catalog, root / "simulations" / f"{SCENARIO}.yaml", 3)
    run, (parent,) = run_jobs(catalog, [job], tmp_path, "scripted", "studio", "pytest")
    inspector = RunInspector(catalog, run)
    with inspector._simulator(None) as sim:
        steps = supersteps(inspector, sim, parent.id, parent.model_dump(mode="json"))
    cfg = config("opened")
    graph.bulk_update_state(
        cfg, [[StateUpdate(u["values"], u["as_node"]) for u in s["updates"]] for s in steps]
    )
    state = graph.get_state(cfg)
    assert state.next == () and state.values["record"] == parent.model_dump(mode="json")
    history = list(graph.get_state_history(cfg))
    # a checkpoint per step, from the first working set on
    assert [s.next for s in reversed(history)] == [
        c.next for c in inspector.history(parent.id) if c.values
    ]
    # the step where exchange 3 is about to start, in Studio and in the run
    at = next(
        s for s in history if s.values["work"].get("exchange") == 3 and s.next == ("client_speaks",)
    )
    cp = next(
        c for c in inspector.history(parent.id) if c.exchange == 3 and c.next == ("client_speaks",)
    )
    assert at.values["work"] == cp.values
    hidden = {**at.values["work"]["hidden"], "emotion": "anger", "intensity": 0.9}
    # a copied step has no record of what its node read, so the edit names the node
    edited = graph.update_state(at.config, {"work": {"hidden": hidden}}, as_node="update_arc")
    child = ConversationRecord.model_validate(graph.invoke(None, edited)["record"])
    sets = {"hidden.emotion": "anger", "hidden.intensity": 0.9}
    forked = fork(catalog, run, parent.id, cp.checkpoint_id, sets)
    assert child.lineage.parent_id == forked.lineage.parent_id == parent.id
    assert child.lineage.changed == forked.lineage.changed
    assert [t.text for t in child.turns[:4]] == [t.text for t in parent.turns[:4]]
    assert child.turns[4].ground_truth == forked.turns[4].ground_truth
    assert child.turns[4].ground_truth.emotion == "anger"


def test_studio_shows_forms_with_descriptions(graph) -> None:
    inputs = graph.get_input_jsonschema()["properties"]
    assert set(inputs) == {"scenario", "seed", "backend", "observer"}
    assert all(field.get("description") for field in inputs.values())
    context = graph.get_context_jsonschema()["properties"]
    assert context["backend"]["default"] == "scripted" and context["observer"]["description"]
    assert set(graph.get_output_jsonschema()["properties"]) == {
        "conversation_id",
        "status",
        "record",
    }
