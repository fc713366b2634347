"""`emosim` commands: observers."""
