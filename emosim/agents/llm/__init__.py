"""Agents played by a language model: Claude through the Anthropic SDK, any LangChain chat
model, or a recorded run's cassette (replay).

    spec.py        backend spec strings and config files -> a BackendPlan
    settings.py    agents/llm/defaults.yaml: models, limits, retries, prices
    prompts.py     Jinja2 templates in agents/anthropic/, with cached stable prefixes
    replies.py     JSON-schema answer models and their conversion to the graph's models
    agents.py      the six roles
    caller.py      retries, one repair request, recording, accounting
    ratelimit.py   requests and tokens per minute per provider key, shared by all workers
    *_transport.py Anthropic and LangChain calls; cassette.py records and replays them
    direct_http.py the Messages API call on the process's keep-alive connections
    build.py       assembles the agents of a run
"""
