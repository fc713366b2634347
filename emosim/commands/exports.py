"""`emosim` commands: exports."""
