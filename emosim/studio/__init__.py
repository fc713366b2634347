"""LangGraph Studio: the simulation graph served by `langgraph dev` (see langgraph.json).

`graph.py` is the entry Studio loads: its input is what a person types (a scenario, a seed,
a backend spec, an observer) and each node builds the run context from the thread's state,
as `emosim run` builds it. `edits.py` turns Studio's state edits into forks with lineage;
`server.py` is `emosim studio`, which starts the dev server and opens a run's conversations.
"""
