"""Where emosim keeps shared state: a SQLite file (the default, no server) or PostgreSQL.

`location` reads the one setting (`--store`, or $EMOSIM_STORE) into a path or a DSN;
`copy` moves a label store between the two, verified record by record.
"""
