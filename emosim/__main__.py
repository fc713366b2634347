"""`python -m emosim` = the `emosim` command."""

from emosim.cli import app

app()
