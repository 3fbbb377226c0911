#!/usr/bin/env bash
# FerretDB for tests: a MongoDB-wire-compatible server on SQLite, so the MongoDB read-store adapter runs its
# contract suite with no MongoDB binary and no Docker (docs/testing.md, "MongoDB tests on FerretDB"); or on
# PostgreSQL (FERRETDB_BACKEND=postgresql below), the backend a deployment on PostgreSQL would give it.
#
#   scripts/ferretdb.sh build         builds FerretDB once into .cache/ (seconds when cached); prints the binary
#   scripts/ferretdb.sh start [dir]   builds if needed, starts it on a free 127.0.0.1 port with its SQLite files
#                                     in <dir> (default: a new temp dir) and prints shell exports to eval:
#                                       export MONGODB_URI=mongodb://127.0.0.1:<port>/ordertrail_test
#                                       export FERRETDB_PID=<pid>  FERRETDB_DIR=<dir>
#                                     e.g. eval "$(scripts/ferretdb.sh start)" && npm test; scripts/ferretdb.sh stop
#                                     FERRETDB_PORT=<port> starts it on that port instead (a restart, in tests)
#                                     FERRETDB_BACKEND=postgresql keeps its data in PostgreSQL instead of SQLite:
#                                     in the database FERRETDB_POSTGRESQL_URL names (created if missing), by default
#                                     a new database ferretdb_<n> on the server POSTGRES_URL names
#                                     (eval "$(scripts/postgres.sh start)" first); a restart on the same <dir>
#                                     reuses the database it used
#   scripts/ferretdb.sh stop [pid] [dir]  stops that server (default: $FERRETDB_PID / $FERRETDB_DIR) and
#                                     removes its directory if start created it, and its PostgreSQL database if
#                                     start created that (stop FerretDB before PostgreSQL)
#
# Why the detour instead of `go install …@v1.24.2`: the module zip lacks the generated build/version/
# version.txt, and a binary built without it panics at start ("Invalid build/version/version.txt"). So:
# download the module source, copy it somewhere writable, write the version file, build (docs/testing.md,
# "MongoDB tests on FerretDB"). v1.24.2 is the newest 1.x the module proxy serves. Uses the machine's GOPROXY/GOFLAGS.
# FERRETDB_VERSION overrides the version; progress and errors go to stderr, results to stdout.
set -euo pipefail
version="${FERRETDB_VERSION:-v1.24.2}"
backend="${FERRETDB_BACKEND:-sqlite}"
module="github.com/FerretDB/FerretDB"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.cache/ferretdb-$version"
bin="$cache/bin/ferretdb"

say() { printf 'ferretdb.sh: %s\n' "$*" >&2; }

build() {
  if [[ -x "$bin" ]] && "$bin" --version >/dev/null 2>&1; then
    echo "$bin"
    return 0
  fi
  command -v go >/dev/null || { say "go is not on PATH: cannot build FerretDB"; return 1; }
  local started=$SECONDS src json dir
  say "building FerretDB $version (once; cached in ${cache#"$root/"})"
  if ! json="$(go mod download -json "$module@$version" 2>&1)"; then
    say "go mod download $module@$version failed:"
    printf '%s\n' "$json" >&2
    return 1
  fi
  # `go mod download -json` prints a JSON object; its "Dir" is the read-only module source in the cache.
  dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)"
  if [[ -z "$dir" || ! -f "$dir/go.mod" ]]; then
    say "go mod download gave no module directory:"
    printf '%s\n' "$json" >&2
    return 1
  fi
  src="$cache/src"
  rm -rf "$src" && mkdir -p "$cache/bin"
  cp -R "$dir" "$src"
  chmod -R u+w "$src"
  printf '%s\n' "$version" >"$src/build/version/version.txt"
  # The output lies outside the source tree: the module has a ferretdb/ folder of its own.
  if ! (cd "$src" && go build -o "$bin.tmp" ./cmd/ferretdb); then
    say "go build of FerretDB $version failed (see above)"
    return 1
  fi
  mv -f "$bin.tmp" "$bin"
  rm -rf "$src" # the module cache keeps the source; only the binary is needed from here on
  say "built $("$bin" --version 2>&1 | head -n 1) in $((SECONDS - started))s"
  echo "$bin"
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Succeeds once something accepts TCP connections on 127.0.0.1:$1.
answers() {
  node -e "const c=require('net').connect(Number(process.argv[1]),'127.0.0.1');c.on('connect',()=>{c.end();process.exit(0)});c.on('error',()=>process.exit(1))" "$1"
}

# Runs a statement on the maintenance database of the server a postgres:// URL names, with the project's `pg`
# (psql may be off PATH: Debian keeps it in /usr/lib/postgresql/<major>/bin). Prints the first column of the
# first row, if any. $1: the URL (any database), $2: the SQL, $3: one parameter ($1 in the SQL).
on_postgres() {
  (cd "$root" && node -e '
const pg = require("pg");
const url = new URL(process.argv[1]);
url.pathname = "/postgres";
const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
client
  .connect()
  .then(() => client.query(process.argv[2], process.argv[3] === undefined ? [] : [process.argv[3]]))
  .then((result) => {
    const row = result.rows?.[0];
    if (row) console.log(Object.values(row)[0]);
    return client.end();
  })
  .catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
' "$@")
}

# The database a postgres:// URL names (its path without the slash).
database_of() {
  node -e 'console.log(decodeURIComponent(new URL(process.argv[1]).pathname.slice(1)))' "$1"
}

# Echoes the URL FerretDB's postgresql backend is to use, creating its database when missing; records in
# <dir> that it did (stop drops it then).
postgresql_url() {
  local dir="$1" url name
  if [[ -n "${FERRETDB_POSTGRESQL_URL:-}" ]]; then
    url="$FERRETDB_POSTGRESQL_URL"
  elif [[ -f "$dir/.postgresql-url" ]]; then
    url="$(cat "$dir/.postgresql-url")"
  elif [[ -n "${POSTGRES_URL:-}" ]]; then
    # A database of its own: other servers' data (the event store's) stay apart, and two FerretDBs too.
    url="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' \
      "$POSTGRES_URL" "ferretdb_$(date +%s)_$$")"
  else
    say "FERRETDB_BACKEND=postgresql needs FERRETDB_POSTGRESQL_URL or POSTGRES_URL (eval \"\$(scripts/postgres.sh start)\")"
    return 1
  fi
  name="$(database_of "$url")"
  if [[ ! "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
    say "FerretDB's PostgreSQL database \"$name\": use lower-case letters, digits and _"
    return 1
  fi
  if [[ -z "$(on_postgres "$url" 'SELECT 1 FROM pg_database WHERE datname = $1' "$name")" ]]; then
    on_postgres "$url" "CREATE DATABASE $name" >/dev/null || { say "could not create database $name"; return 1; }
    printf '%s\n' "$url" >"$dir/.created-postgresql-database"
    say "created PostgreSQL database $name for FerretDB"
  fi
  printf '%s\n' "$url" >"$dir/.postgresql-url"
  echo "$url"
}

start() {
  local built dir="${1:-}" own_dir=0 port pid attempt log storage url
  if [[ $backend != sqlite && $backend != postgresql ]]; then
    say "FERRETDB_BACKEND=$backend: use sqlite (the default) or postgresql"
    return 1
  fi
  built="$(build)"
  if [[ -z "$dir" ]]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/ordertrail-ferretdb.XXXXXX")"
    own_dir=1
  fi
  mkdir -p "$dir/data"
  if [[ $backend == postgresql ]]; then
    if ! url="$(postgresql_url "$dir")"; then
      [[ $own_dir == 1 ]] && rm -rf "$dir"
      return 1
    fi
    storage=(--handler=postgresql --postgresql-url="$url")
  else
    storage=(--handler=sqlite --sqlite-url="file:$dir/data/")
  fi
  # FerretDB on SQLite holds every database's files open until it is dropped: give it the most files this
  # machine allows rather than a soft limit that may be as low as 1024.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  log="$dir/ferretdb.log"
  # A port taken between free_port and FerretDB's bind makes it exit at once: then try another port.
  for attempt in 1 2 3; do
    port="${FERRETDB_PORT:-$(free_port)}"
    nohup "$built" "${storage[@]}" --state-dir="$dir" \
      --listen-addr="127.0.0.1:$port" --debug-addr=127.0.0.1:0 --telemetry=disable \
      --log-level=warn >"$log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 100); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if answers "$port"; then
        [[ $own_dir == 1 ]] && touch "$dir/.created-by-ferretdb-sh"
        printf 'export MONGODB_URI=%q\nexport FERRETDB_PID=%q\nexport FERRETDB_DIR=%q\n' \
          "mongodb://127.0.0.1:$port/ordertrail_test" "$pid" "$dir"
        say "FerretDB $version on $backend listening on 127.0.0.1:$port (pid $pid, files in $dir)"
        return 0
      fi
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      say "FerretDB did not answer on 127.0.0.1:$port within 10s; log:"
      cat "$log" >&2
      return 1
    fi
    say "FerretDB exited at start (attempt $attempt); log:"
    cat "$log" >&2
  done
  return 1
}

stop() {
  local pid="${1:-${FERRETDB_PID:-}}" dir="${2:-}"
  # $FERRETDB_DIR belongs to $FERRETDB_PID only: stopping another server (a test's own) must never remove the
  # directory of the one the caller exported (that once deleted CI's shared FerretDB under its tests).
  if [[ -z "$dir" && "$pid" == "${FERRETDB_PID:-}" ]]; then dir="${FERRETDB_DIR:-}"; fi
  if [[ -z "$pid" ]]; then
    say "stop: no pid given and FERRETDB_PID is not set"
    return 1
  fi
  # Only ever stop a FerretDB process: the pid may have been reused since start.
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'ferretdb'; then
    kill "$pid"
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  if [[ -n "$dir" && -f "$dir/.created-postgresql-database" ]]; then
    local url
    url="$(cat "$dir/.created-postgresql-database")"
    on_postgres "$url" "DROP DATABASE IF EXISTS $(database_of "$url")" >/dev/null ||
      say "could not drop FerretDB's PostgreSQL database (is PostgreSQL still running?)"
    rm -f "$dir/.created-postgresql-database" "$dir/.postgresql-url"
  fi
  if [[ -n "$dir" && -f "$dir/.created-by-ferretdb-sh" ]]; then rm -rf "$dir"; fi
}

case "${1:-}" in
  build) build ;;
  start) shift && start "$@" ;;
  stop) shift && stop "$@" ;;
  *)
    echo "usage: scripts/ferretdb.sh build | start [dir] | stop [pid] [dir]" >&2
    exit 2
    ;;
esac
