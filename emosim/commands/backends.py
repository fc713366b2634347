"""`emosim` commands: backends."""
