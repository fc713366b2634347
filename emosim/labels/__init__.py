"""Self-healing labels: an append-only store of label events from several streams.

Streams (model observers, rules, bulk human review, live operators) only ever add events;
the current label of every target is derived by a documented policy (`policy.py`), the
disagreements stay queryable, and the history is mined for corrections (`analytics.py`).
"""

LABELS_HELP = (
    "Label store whose events correct the records: a labels.sqlite file or a folder holding "
    "one, or postgresql://USER@HOST/DB; 'none' reads the records as they are. Default: "
    "$EMOSIM_STORE, else labels.sqlite in the folder of each records file (a run folder, or "
    "beside a .jsonl/.json file), when there is one."
)
