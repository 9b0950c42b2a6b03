#!/usr/bin/env bash
# A throwaway PostgreSQL for the alert-store tests (local runs and CI).
#
#   eval "$(bash test/support/postgres.sh start)"   # prints `export BULWARK_TEST_POSTGRES_URL=…`
#   bash test/support/postgres.sh stop "$BULWARK_TEST_POSTGRES_DIR"
#   bash test/support/postgres.sh restart "$BULWARK_TEST_POSTGRES_DIR"   # an immediate stop, then start again
#
# Installs Debian's `postgresql` with apt-get when initdb/pg_ctl are missing (root only), then
# runs initdb and the server as an unprivileged user (initdb and postgres refuse to run as root)
# in a temporary directory, listening on 127.0.0.1 only (first free port from 55432) with its
# unix socket inside that directory. Everything it says goes to stderr; stdout carries only the
# `export` lines, so that `eval` is safe. Never reads standard input.
set -euo pipefail
exec </dev/null

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_bindir() {
  local p
  if p=$(command -v initdb 2>/dev/null) && [ -x "$(dirname "$(readlink -f "$p")")/pg_ctl" ]; then
    dirname "$(readlink -f "$p")"
    return 0
  fi
  for p in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$p/initdb" ] && [ -x "$p/pg_ctl" ]; then echo "$p"; return 0; fi
  done
  return 1
}

install_postgres() {
  [ "$(id -u)" = 0 ] || die "initdb/pg_ctl not found and not running as root: install PostgreSQL (apt-get install postgresql) or set BULWARK_TEST_POSTGRES_URL"
  command -v apt-get >/dev/null || die "initdb/pg_ctl not found and apt-get is unavailable"
  log "installing PostgreSQL with apt-get (Debian package postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  # The package's maintainer scripts may try to start a system cluster; forbid it (we run our own).
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1; fi
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends postgresql >&2 || { [ "$created_policy" = 1 ] && rm -f "$policy"; die "apt-get install postgresql failed"; }
  if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi
}

# as_db_user CMD...: runs CMD as the unprivileged owner of the cluster.
as_db_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$DB_OS_USER" -- "$@"
  else
    "$@"
  fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local bindir
  bindir=$(find_bindir) || { install_postgres; bindir=$(find_bindir) || die "PostgreSQL binaries still not found after installing"; }
  log "using $bindir"

  if [ "$(id -u)" = 0 ]; then
    DB_OS_USER=postgres
    if ! id "$DB_OS_USER" >/dev/null 2>&1; then
      DB_OS_USER=bulwark-pg
      id "$DB_OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$DB_OS_USER"
    fi
  else
    DB_OS_USER=$(id -un)
  fi

  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bulwark-pg.XXXXXX")
  chmod 0755 "$dir"
  mkdir -p "$dir/sock"
  [ "$(id -u)" = 0 ] && chown -R "$DB_OS_USER" "$dir"

  local password
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  as_db_user bash -c "umask 077; printf '%s\n' 'postgres-$password' >'$dir/superuser.pw'"
  as_db_user "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$dir/superuser.pw" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

  local port=${BULWARK_TEST_POSTGRES_PORT:-55432} started=0 tries
  for tries in $(seq 1 20); do
    if port_free "$port"; then
      if as_db_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >&2; then
        started=1
        break
      fi
      log "could not start on port $port; trying the next"
    fi
    port=$((port + 1))
  done
  [ "$started" = 1 ] || { cat "$dir/server.log" >&2 2>/dev/null || true; die "the server did not start"; }

  local db_password
  db_password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  as_db_user "$bindir/psql" -h "$dir/sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE bulwark LOGIN PASSWORD '$db_password'" \
    -c "CREATE DATABASE bulwark_test OWNER bulwark" >&2 \
    || die "could not create the bulwark role and database"

  log "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') listening on 127.0.0.1:$port (data in $dir)"
  printf "export BULWARK_TEST_POSTGRES_URL='postgres://bulwark:%s@127.0.0.1:%s/bulwark_test'\n" "$db_password" "$port"
  printf "export BULWARK_TEST_POSTGRES_DIR='%s'\n" "$dir"
}

stop() {
  local dir=${1:-${BULWARK_TEST_POSTGRES_DIR:-}}
  [ -n "$dir" ] && [ -d "$dir/data" ] || die "usage: postgres.sh stop DIR (the BULWARK_TEST_POSTGRES_DIR that start printed)"
  local bindir
  bindir=$(find_bindir) || die "PostgreSQL binaries not found"
  DB_OS_USER=$(stat -c %U "$dir/data")
  as_db_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
}

# Stops the server at once (as a crash or a failover would: connections cut, no checkpoint) and
# starts it again on the same port and data; for the tests of clients that must recover alone.
restart() {
  local dir=${1:-${BULWARK_TEST_POSTGRES_DIR:-}}
  [ -n "$dir" ] && [ -d "$dir/data" ] || die "usage: postgres.sh restart DIR (the BULWARK_TEST_POSTGRES_DIR that start printed)"
  local bindir
  bindir=$(find_bindir) || die "PostgreSQL binaries not found"
  DB_OS_USER=$(stat -c %U "$dir/data")
  as_db_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m immediate -w -t 60 restart >&2 || die "the server did not restart"
}

case "${1:-start}" in
  start) start ;;
  stop) shift; stop "$@" ;;
  restart) shift; restart "$@" ;;
  *) die "usage: postgres.sh start | stop DIR | restart DIR" ;;
esac
