#!/usr/bin/env bash
# A local PostgreSQL for emosim: installs Debian's package if missing, starts the server,
# makes a login role and a database it owns, and prints the DSN (last line of output).
# Safe to run again: every step checks first. Run as root, or as a user with sudo.
#
#   export EMOSIM_STORE=$(scripts/postgres-dev.sh | tail -1)        # the shared label store
#   export EMOSIM_TEST_POSTGRES_DSN=$EMOSIM_STORE                     # the Postgres tests
#
# Settings (environment): EMOSIM_PG_ROLE, EMOSIM_PG_DB, EMOSIM_PG_PASSWORD (default: emosim).
set -euo pipefail

ROLE=${EMOSIM_PG_ROLE:-emosim}
DB=${EMOSIM_PG_DB:-emosim}
PASSWORD=${EMOSIM_PG_PASSWORD:-emosim}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
say() { echo "postgres-dev: $*" >&2; }

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  say "installing PostgreSQL (Debian package postgresql)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

cluster=$(pg_lsclusters -h | head -n 1)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  say "creating cluster $version/main"
  as_root pg_createcluster "$version" main >&2
  cluster=$(pg_lsclusters -h | head -n 1)
fi
read -r version name port status _ <<<"$cluster"
if [ "$status" != online ]; then
  say "starting cluster $version/$name on port $port"
  as_root pg_ctlcluster "$version" "$name" start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -h localhost -p "$port" && break
  sleep 1
done
pg_isready -q -h localhost -p "$port" || { say "the server on port $port does not answer"; exit 1; }

psql_admin() { as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -qtAX "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  say "creating role $ROLE"
  psql_admin -c "CREATE ROLE \"$ROLE\" LOGIN PASSWORD '$PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  say "creating database $DB owned by $ROLE"
  psql_admin -c "CREATE DATABASE \"$DB\" OWNER \"$ROLE\""
fi
echo "postgresql://$ROLE:$PASSWORD@localhost:$port/$DB"
