"""Self-healing labels: an append-only store of label events from several streams.

Streams (model observers, rules, bulk human review, live operators) only ever add events;
the current label of every target is derived by a documented policy (`policy.py`), the
disagreements stay queryable, and the history is mined for corrections (`analytics.py`).
"""
