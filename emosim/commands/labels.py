"""`emosim` commands: labels."""
