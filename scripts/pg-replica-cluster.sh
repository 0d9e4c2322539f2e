#!/usr/bin/env bash
# A throwaway PostgreSQL primary with one streaming replica, for the read
# replica tests (tests/replicas.test.ts; .ci/run). Uses the server binaries
# on this machine (initdb, pg_ctl, pg_basebackup), free ports on 127.0.0.1,
# trust authentication, fsync off: never for real data.
#
#   scripts/pg-replica-cluster.sh start           creates it in a new temp folder and prints
#                                                 CLUSTER_DIR=, PRIMARY_URL=, REPLICA_URL= lines
#   scripts/pg-replica-cluster.sh stop DIR        stops both servers and removes DIR
#   scripts/pg-replica-cluster.sh stop-replica DIR / start-replica DIR
#                                                 stops / starts the replica only (failover tests)
#
# PostgreSQL refuses to run as root: as root the servers run as PG_CLUSTER_USER
# (default postgres) through runuser. PG_BIN overrides the binaries' folder.
set -euo pipefail

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
RUN_AS="${PG_CLUSTER_USER:-postgres}"

die() { echo "pg-replica-cluster: $*" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$RUN_AS" -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

pg_ctl_in() { # dir action [extra...]
  local data="$1" action="$2"; shift 2
  as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 "$action" "$@" >/dev/null
}

start() {
  [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries (initdb) found; set PG_BIN"
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/dateline-pg-cluster.XXXXXX")"
  if [ "$(id -u)" = 0 ]; then
    id "$RUN_AS" >/dev/null 2>&1 || die "running as root and there is no user $RUN_AS to run PostgreSQL as (set PG_CLUSTER_USER)"
    chown "$RUN_AS" "$dir"
  fi
  chmod 700 "$dir"
  # Anything failing from here leaves nothing behind.
  trap 'stop_dir "$dir" >/dev/null 2>&1 || true' ERR
  local pport rport
  pport="$(free_port)"
  rport="$(free_port)"
  while [ "$rport" = "$pport" ]; do rport="$(free_port)"; done

  as_owner "$PG_BIN/initdb" -D "$dir/primary" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  cat >>"$dir/primary/postgresql.conf" <<CONF
port = $pport
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
full_page_writes = off
wal_level = replica
max_wal_senders = 4
wal_keep_size = 256MB
max_connections = 200
CONF
  pg_ctl_in "$dir/primary" start || { cat "$dir/primary/server.log" >&2; die "the primary did not start"; }
  as_owner "$PG_BIN/psql" -h 127.0.0.1 -p "$pport" -U postgres -d postgres -qAt -c "CREATE DATABASE test" >/dev/null

  # -R writes standby.signal and primary_conninfo: a streaming replica of the primary.
  as_owner "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$dir/replica" -R -X stream --checkpoint=fast --no-sync >"$dir/basebackup.log" 2>&1 \
    || { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
  cat >>"$dir/replica/postgresql.conf" <<CONF
port = $rport
hot_standby = on
hot_standby_feedback = on
CONF
  pg_ctl_in "$dir/replica" start || { cat "$dir/replica/server.log" >&2; die "the replica did not start"; }
  # Ready when the primary sees it streaming.
  local i
  for i in $(seq 1 100); do
    if [ "$(as_owner "$PG_BIN/psql" -h 127.0.0.1 -p "$pport" -U postgres -d postgres -qAt -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ]; then
      break
    fi
    [ "$i" = 100 ] && die "the replica did not start streaming (see $dir/replica/server.log)"
    sleep 0.1
  done
  trap - ERR
  echo "CLUSTER_DIR=$dir"
  echo "PRIMARY_URL=postgresql://postgres@127.0.0.1:$pport/test"
  echo "REPLICA_URL=postgresql://postgres@127.0.0.1:$rport/test"
}

stop_dir() {
  local dir="$1"
  case "$dir" in
    */dateline-pg-cluster.*) ;;
    *) die "not a cluster folder made by this script: $dir" ;;
  esac
  for d in replica primary; do
    if [ -f "$dir/$d/postmaster.pid" ]; then
      as_owner "$PG_BIN/pg_ctl" -D "$dir/$d" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) [ -n "${2:-}" ] || die "usage: $0 stop DIR"; stop_dir "$2" ;;
  stop-replica) [ -n "${2:-}" ] || die "usage: $0 stop-replica DIR"; pg_ctl_in "$2/replica" stop -m fast ;;
  start-replica) [ -n "${2:-}" ] || die "usage: $0 start-replica DIR"; pg_ctl_in "$2/replica" start ;;
  *) die "usage: $0 start | stop DIR | stop-replica DIR | start-replica DIR" ;;
esac
