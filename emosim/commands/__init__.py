"""CLI command groups, one module per area; each registers its commands on `emosim.cli.app`."""

AREAS = (
    "exports",
    "labels",
    "reports",
    "diversity",
    "importers",
    "variations",
    "observers",
    "anonymization",
    "backends",
    "studio",
    "layer",
    "candidates",
    "rankings",
    "store",
)
