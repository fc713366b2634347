"""`emosim` commands: reports."""
