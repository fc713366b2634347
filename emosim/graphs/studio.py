"""Entry point for LangGraph Studio / `langgraph dev` (see langgraph.json at the repo root).

Studio supplies its own checkpointer, so the graph is compiled without one. Nodes read their
agents and scenario from the run context (`SimContext`); runs from the command line build
it from a scenario file (`emosim run`). In Studio the graph can be loaded, drawn and its
threads inspected.
"""

from emosim.graphs.simulation import build_graph

graph = build_graph()
