"""User-facing errors: one clear line, no traceback, non-zero exit."""

from __future__ import annotations


class EmosimError(Exception):
    """An error the user can fix; the CLI prints its message and exits 1."""


class DataError(EmosimError):
    """A data file is invalid. The message names the file, location, field and value."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class AgentFailure(EmosimError):
    """An agent gave no valid answer within its budget: the conversation ends as failed.

    Backends raise it after their retries and repair attempts; the graph records the failure
    on the conversation and moves on, so a batch never crashes on one bad reply.
    """
