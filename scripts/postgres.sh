#!/usr/bin/env bash
# PostgreSQL 15 for tests: a throwaway server from Debian's packages, so the PostgreSQL event store runs its
# contract suites (and the multi-instance suites) with no Docker (docs/testing.md, "PostgreSQL tests").
#
#   scripts/postgres.sh start [dir]   installs postgresql-15 with apt-get when missing, then initialises a
#                                     cluster in <dir> (default: a new temp dir), starts it on a free 127.0.0.1
#                                     port (trust authentication: tests only) and prints shell exports to eval:
#                                       export POSTGRES_URL=postgres://postgres@127.0.0.1:<port>/ordertrail_test
#                                       export POSTGRES_DIR=<dir>  POSTGRES_PORT=<port>
#                                     e.g. eval "$(scripts/postgres.sh start)" && npm test; scripts/postgres.sh stop
#                                     POSTGRES_PORT=<port> starts it on that port instead (a restart, in tests)
#   scripts/postgres.sh stop [dir]    stops that server (default: $POSTGRES_DIR) and removes its directory if
#                                     start created it
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user (which Debian's
# package creates) and every server command runs as that user. Debian keeps initdb and pg_ctl off PATH, in
# /usr/lib/postgresql/15/bin. Progress and errors go to stderr, results to stdout.
set -euo pipefail
major="${POSTGRES_MAJOR:-15}"
bindir="/usr/lib/postgresql/$major/bin"
database=ordertrail_test

say() { printf 'postgres.sh: %s\n' "$*" >&2; }

# Runs a server command as the cluster's owner: the postgres user when we are root, else ourselves.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install() {
  [[ -x "$bindir/initdb" && -x "$bindir/pg_ctl" ]] && return 0
  say "PostgreSQL $major is not installed ($bindir/initdb is missing): installing postgresql-$major with apt-get"
  local as_root=() started=$SECONDS
  [[ $(id -u) -eq 0 ]] || as_root=(sudo -n)
  if ! { "${as_root[@]}" apt-get update >&2 &&
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends \
      "postgresql-$major" >&2; }; then
    say "apt-get install postgresql-$major failed"
    return 1
  fi
  [[ -x "$bindir/initdb" ]] || { say "postgresql-$major installed, but $bindir/initdb is still missing"; return 1; }
  say "postgresql-$major installed in $((SECONDS - started)) s"
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  local dir="${1:-}" own_dir=0 port attempt log
  install
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    say "running as root, but there is no postgres user to run the server as"
    return 1
  fi
  if [[ -z "$dir" ]]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/ordertrail-postgres.XXXXXX")"
    own_dir=1
  fi
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
  log="$dir/postgres.log"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    # --no-sync: a test cluster need not survive a power cut while it is being created.
    if ! as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
      >"$dir/initdb.log" 2>&1; then
      say "initdb failed:"
      cat "$dir/initdb.log" >&2
      return 1
    fi
  fi
  # A port taken between free_port and the server's bind makes it fail at start: then try another port.
  for attempt in 1 2 3; do
    port="${POSTGRES_PORT:-$(free_port)}"
    # Loopback only, its socket in its own directory (not /var/run/postgresql), room for several service
    # instances' pools; fsync stays on, so timings resemble a real server's.
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$log" -w -t 30 \
      -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=300" start >/dev/null 2>&1; then
      if ! as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt \
        -c "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
        as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
      fi
      [[ $own_dir == 1 ]] && touch "$dir/.created-by-postgres-sh"
      printf 'export POSTGRES_URL=%q\nexport POSTGRES_DIR=%q\nexport POSTGRES_PORT=%q\n' \
        "postgres://postgres@127.0.0.1:$port/$database" "$dir" "$port"
      say "PostgreSQL $("$bindir/postgres" --version | sed 's/^postgres (PostgreSQL) \([^ ]*\).*/\1/') listening on 127.0.0.1:$port (files in $dir)"
      return 0
    fi
    say "PostgreSQL did not start on 127.0.0.1:$port (attempt $attempt); log:"
    tail -n 20 "$log" >&2 || true
    [[ -n "${POSTGRES_PORT:-}" ]] && break
  done
  return 1
}

stop() {
  local dir="${1:-${POSTGRES_DIR:-}}"
  if [[ -z "$dir" ]]; then
    say "stop: no directory given and POSTGRES_DIR is not set"
    return 1
  fi
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      say "pg_ctl stop failed (the server may be gone already)"
  fi
  if [[ -f "$dir/.created-by-postgres-sh" ]]; then rm -rf "$dir"; fi
}

case "${1:-}" in
  start) shift && start "$@" ;;
  stop) shift && stop "$@" ;;
  *)
    echo "usage: scripts/postgres.sh start [dir] | stop [dir]" >&2
    exit 2
    ;;
esac
