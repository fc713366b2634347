"""`emosim` commands: importers."""
