"""State edits from Studio, handled like `emosim fork`.

Both the nodes and Studio's "edit state" write the `work` and `turns` channels; the nodes
mark their updates (key BY), so anything unmarked is a person's edit. An edit to `work` is
checked and applied as `emosim fork --set` would (the same paths, and a new `hidden.emotion`
or intensity rebuilds the whole hidden state), and is kept under EDITS until the next node
runs: that node turns it into a fork, a new conversation id whose lineage names the parent,
the changed values and the checkpoint the thread continued from.

Reducers run more than once per write, so they are pure.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from langgraph.errors import InvalidUpdateError

from emosim.agents.arc import ArcController
from emosim.debugging import FORKABLE, apply_sets, diff
from emosim.errors import EmosimError
from emosim.schemas import LineageInfo

from .context import catalog  # loaded when the graph is built: reducers run on the event loop

BY = "_by"  # marks an update written by a node (its name)
NEW = "_new"  # marks the first working set of a conversation: it replaces what was there
EDITS = "studio_edits"  # edits since the last node ran: [{"path": ..., "value": ...}]


def studio_work(work: dict[str, Any] | None, update: dict[str, Any]) -> dict[str, Any]:
    """The `work` channel: a node's update is merged in; anything else is an edit."""
    work = work or {}
    if BY in update:
        merged = {**({} if update.get(NEW) else work), **update}
        del merged[BY]
        merged.pop(NEW, None)
        if merged.get(EDITS) is None:
            merged.pop(EDITS, None)
        return merged
    return _edited(work, update)


def _edited(work: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    before = {k: work.get(k) for k in update if k != EDITS}
    after = {k: v for k, v in update.items() if k != EDITS}
    sets = {path: new for path, _old, new in diff(before, after)}
    if not sets:
        return work
    unknown = sorted(p for p in sets if p not in FORKABLE)
    if unknown:  # e.g. hidden.valence: it follows from hidden.emotion
        raise InvalidUpdateError(
            f"studio edit: work.{unknown[0]} cannot be changed (editable: "
            f"{', '.join('work.' + p for p in sorted(FORKABLE))})"
        )
    values = copy.deepcopy(work)
    values.pop(EDITS, None)
    try:
        apply_sets(values, [], sets, ArcController(catalog(), [], 1))
    except EmosimError as exc:  # the server answers this error with 400 and its message
        raise InvalidUpdateError(f"studio edit: {exc}".replace("--set: ", "work.")) from None
    changed = [{"path": p, "value": v} for p, v in sets.items()]
    return {**values, EDITS: [*work.get(EDITS, []), *changed]}


def studio_turns(turns: list[dict[str, Any]] | None, update: Any) -> list[dict[str, Any]]:
    """The `turns` channel: a node replaces the turns from an index on; turns are not edited
    (change `work.client_text` or `work.draft.text` before the turn is committed)."""
    turns = turns or []
    if isinstance(update, dict) and BY in update:
        return [*turns[: update["start"]], *update["items"]]
    if update == turns:
        return turns
    raise InvalidUpdateError(
        "studio edit: committed turns cannot be changed in Studio; edit work.client_text or "
        "work.draft.text before the turn is committed, or use `emosim fork --set turns.N.text=...`"
    )


def forked(
    job: dict[str, Any],
    parent_id: str,
    parent_lineage: dict[str, Any] | None,
    edits: list[dict[str, Any]],
    checkpoint: str | None,
) -> tuple[str, dict[str, Any]]:
    """The id and lineage of the conversation an edit forks off `parent_id` (as `emosim fork`
    names and records them)."""
    parent = LineageInfo.model_validate(parent_lineage or job["scenario"].get("lineage") or {})
    changed = {e["path"]: _text(e["value"]) for e in edits}
    lineage = LineageInfo(
        seed_id=parent.seed_id or job["scenario_id"],
        parent_id=parent_id,
        axis="fork",
        changed=changed,
        fork_checkpoint=checkpoint,
    )
    key = json.dumps([checkpoint, sorted(changed.items())])
    fork_id = f"{parent_id}--fork-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    return fork_id, lineage.model_dump(mode="json")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
