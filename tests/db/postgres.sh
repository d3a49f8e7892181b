#!/usr/bin/env bash
# db.postgres: clause_db_check on a private PostgreSQL 15 server (Debian's `postgresql`),
# started in a fresh temporary directory with its socket there and no TCP, and always
# stopped and removed. Usage: tests/db/postgres.sh BUILD_DIR [CHECK_OPTIONS...], the options
# (--rows, --requests, --seed) replacing those ctest gives; or tests/db/postgres.sh BUILD_DIR
# --explain [ROWS], which loads the clinic's records (1,000,000 by default) and compares the
# filters of tests/db/hand/ with their hand-written queries (tests/db/explain.py).
set -euo pipefail
build="$1"
shift
explain=""
if [ "${1:-}" = --explain ]; then
  explain="${2:-1000000}"
  set --
fi
options=("$@")
if [ ${#options[@]} -eq 0 ]; then options=(--rows 100000 --requests 20 --seed 17); fi
source_dir="$(cd "$(dirname "$0")/../.." && pwd)"
bin=/usr/lib/postgresql/15/bin
if [ ! -x "$bin/initdb" ]; then
  echo "postgres.sh: $bin/initdb not found: install the Debian package postgresql" >&2
  exit 1
fi

dir="$(mktemp -d /tmp/clause-pg.XXXXXX)"
# PostgreSQL refuses to run as root: then the server runs as `postgres`, which the Debian
# package creates, and the check connects as that role.
as=()
user="$(id -un)"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  as=(runuser -u postgres --)
  user=postgres
fi
stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap stop EXIT

if ! "${as[@]}" "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust --no-sync -E UTF8 \
  --locale=C >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  exit 1
fi
# The socket names the port: any port is free in a private socket directory.
port=$((20000 + RANDOM % 20000))
# A test database: nothing needs to survive a crash. The time zone is not UTC, so that a
# filter that leans on the session's zone shows.
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'America/St_Johns'
CONF
if ! "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null; then
  cat "$dir/server.log" >&2
  exit 1
fi

if [ -n "$explain" ]; then
  "$build/bin/clause_db_check" --policy "$source_dir/policies/clinic.policy" \
    --mapping "$source_dir/policies/plans/clinic-mapping.json" --dialect postgres \
    --rows "$explain" --requests 0 --seed 1 \
    --conninfo "host=$dir port=$port dbname=postgres user=$user"
  PGHOST="$dir" PGPORT="$port" PGUSER="$user" PGDATABASE=postgres \
    python3 "$source_dir/tests/db/explain.py" "$build/bin/clause" clinic-researcher \
    clinic-person-access
  exit
fi

for policy in clinic privacy; do
  "$build/bin/clause_db_check" --policy "$source_dir/policies/$policy.policy" \
    --mapping "$source_dir/policies/plans/$policy-mapping.json" --dialect postgres \
    "${options[@]}" \
    --conninfo "host=$dir port=$port dbname=postgres user=$user"
done
