"""`emosim` commands: variations."""
