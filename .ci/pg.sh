#!/usr/bin/env bash
# Throwaway PostgreSQL 15 clusters for tests, the demo and the benchmark.
#   .ci/pg.sh start NAME PORT [postgres -c options...]   initdb (if needed) + start
#   .ci/pg.sh stop NAME [MODE]                            shutdown: fast (default) or immediate
#   .ci/pg.sh dir NAME                                    print the cluster's directory
# A cluster lives in /tmp/pg_datamart-NAME (data/, server.log, socket). PostgreSQL refuses to
# run as root, so as root every server command runs as the OS user `postgres` (through sudo).
# Clients connect over TCP to 127.0.0.1:PORT as database user `postgres` (trust auth).
# Environment for `start`: PG_FRESH=1 wipes the cluster first; PG_HBA_PREPEND="line|line"
# puts those pg_hba.conf lines before the trust lines (e.g. to require a password for a role);
# PG_ENV="NAME=value ..." adds to the server's environment.
set -euo pipefail
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg.sh start|stop|dir NAME [PORT [options...] | MODE]}
name=${2:?cluster name}
dir=/tmp/pg_datamart-$name

as_pg() {
    if [[ $(id -u) == 0 ]]; then sudo -u postgres "$@"; else "$@"; fi
}

case "$cmd" in
dir) echo "$dir" ;;
stop)
    mode=${3:-fast}
    if [[ -f $dir/data/postmaster.pid ]]; then
        as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null || true
    fi
    ;;
start)
    port=${3:?port}
    shift 3
    opts=(-p "$port" -k "$dir" -c listen_addresses=127.0.0.1)
    for o in "$@"; do opts+=(-c "$o"); done
    "$0" stop "$name"
    if [[ ${PG_FRESH:-0} == 1 ]]; then rm -rf "$dir"; fi
    if [[ ! -f $dir/data/PG_VERSION ]]; then
        rm -rf "$dir"
        if [[ $(id -u) == 0 ]]; then install -d -o postgres -g postgres "$dir"; else mkdir -p "$dir"; fi
        as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --locale=C.UTF-8 -E UTF8 >/dev/null
    fi
    if [[ ! -f $dir/data/pg_hba.conf.orig ]]; then
        as_pg cp "$dir/data/pg_hba.conf" "$dir/data/pg_hba.conf.orig"
    fi
    if [[ -n ${PG_HBA_PREPEND:-} ]]; then
        { tr '|' '\n' <<<"$PG_HBA_PREPEND"; cat "$dir/data/pg_hba.conf.orig"; } | as_pg tee "$dir/data/pg_hba.conf" >/dev/null
    else
        as_pg cp "$dir/data/pg_hba.conf.orig" "$dir/data/pg_hba.conf"
    fi
    # PG_ENV="NAME=value ..." is the server's extra environment (e.g. RUST_BACKTRACE=1).
    as_pg env ${PG_ENV:-} "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "${opts[*]}" start >/dev/null \
        || { tail -n 30 "$dir/server.log" >&2; exit 1; }
    ;;
*) echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
