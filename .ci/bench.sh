#!/usr/bin/env bash
# pg_datamart benchmark (`make bench`): load one window of a wide and a narrow Facebook table
# from a warehouse database into the mart, several ways, and compare wall-clock times, the
# syncing backend's peak private memory, the WAL each run writes and the tuples it writes.
#
#   dm_sync          CALL dm_sync('bench_<t>', '0', start, end, mode => 'delete_insert')
#   insel            DELETE ...; INSERT ... SELECT * FROM dblink(...) AS t(...)   by hand
#   rowloop          CALL rs_bench_<t>_dumps('0', start, end)   the old generated procedures:
#                                                             dblink + one INSERT per row
#   copy             DELETE ...; psql COPY TO STDOUT | psql COPY FROM STDIN      a COPY pipe
#   localcopy        DELETE ...; COPY ... FROM '<file already on disk>'          THE BOUND
#   binarycopy       DELETE ...; COPY ... FROM '<file already on disk>' WITH (FORMAT binary)
#                                                        the physical bound (no text parsing)
#   dm_upsert_stale  CALL dm_sync(..., mode => 'upsert') on a window made stale first (below)
#   dm_upsert_same   CALL dm_sync(..., mode => 'upsert') on a window already loaded identically
#   oncf_stale       by hand, same stale window: DELETE FROM mart WHERE <window> AND NOT EXISTS
#                    (keys FROM dblink(<keys of the window>)); INSERT INTO mart SELECT * FROM
#                    dblink(<window>) ON CONFLICT (<primary key>) DO UPDATE SET <col> =
#                    excluded.<col>, ..., updated_at = now() WHERE (<cols>) IS DISTINCT FROM
#                    (excluded.<cols>)   (one transaction, two warehouse queries)
#   oncf_same        the same statements on a window already loaded identically
#
# Every run leaves the mart table holding exactly the warehouse window (checked), so the
# "same" methods need no preparation: whatever ran before them loaded the identical window.
# The "stale" methods are prepared before timing (and before the statistics snapshot) by
# stale_prep, inside the window of the accounts being synced:
#   * STALE_GONE_PCT (1) % of the rows are copied with a key that does not exist upstream
#     ('gone-' || ad_creative_id / ad_id): rows deleted upstream, which the sync must delete;
#   * STALE_DELETE_PCT (1) % of the rows are deleted: new upstream, the sync must insert them;
#   * STALE_UPDATE_PCT (100) % of the remaining rows get a non-key column changed (wide:
#     status = 'STALE'; narrow: impressions + 1): changed upstream, the sync must update them.
# Rows are picked by a hash of the primary key, so each preparation picks the same rows.
# The delete_insert methods always re-sync an unchanged window (the previous run's copy): the
# former "unchanged re-sync" section is folded into the method table (dm_sync is delete_insert
# on an unchanged window, dm_upsert_same is upsert on one).
#
# Ratios are to the local-COPY bound (localcopy) measured in the same run, on the same table,
# after the same DELETE (to dm_sync when localcopy is not among METHODS). binarycopy loads the
# same rows from a binary COPY file, written from the mart after the warm-up so that it holds
# the mart's column types (binary COPY converts nothing; the text file comes from the
# warehouse): no input parsing, so it is what the table and its index cost alone. Its ratio is
# reported like any method's, but the ratios (and the targets) stay relative to the text-COPY
# bound, the one every earlier run was measured against. Memory is the peak
# RssAnon (private anonymous memory, shared buffers not included) of the backend that runs the
# method, sampled every 50 ms from /proc (needs root or the postgres user); WAL is
# pg_current_wal_lsn() after minus before; tuples written is the delta of n_tup_ins +
# n_tup_upd + n_tup_del, dead tuples the delta of n_dead_tup, summed over the table's
# partitions in pg_stat_user_tables (read after the method's backend has exited, i.e. after it
# flushed its statistics; n_dead_tup is an estimate where the method ran ANALYZE).
#
# With ANALYZE: after each timed run (outside its timing, after its WAL and tuple counts are
# read, before the check), a separate psql runs ANALYZE of the mart table's leaf partitions the
# window lies in (listed once per table after the warm-up: what dm_sync analyzes when it wrote
# at least pg_datamart.analyze_threshold rows), timed, its backend's peak private memory
# sampled like the method's. The report adds the median of method + ANALYZE seconds, that over
# the bound's median WITHOUT ANALYZE (the same base as the other ratio), and the ANALYZE's
# peak. The dm methods run with pg_datamart.analyze_threshold=$DM_ANALYZE: at -1 (default)
# their own ANALYZE is off and the separate one stands in for it; otherwise their ANALYZE is
# inside their time and peak, so for them no separate ANALYZE runs (0 s, 0 kB recorded), and
# nothing is counted twice. The other methods never analyze: they always get the separate one.
# It also runs after runs that wrote nothing (dm_upsert_same, oncf_same), where dm_sync itself
# would not analyze (it analyzes only after writing a row): there the figure is an upper bound.
#
# Memory by window size (SIZES): after the method rounds of a table, dm_sync (delete_insert),
# dm_upsert_stale and dm_upsert_same run on smaller windows: the same dates for the first N
# accounts (a window of about the requested rows; the actual count is reported), MEM_REPS
# times each, interleaved. A size equal to the full window reuses the method rounds' runs. The
# report gives each size's largest peak, so one sees whether memory grows with the window.
#
# Targets (issue 19), printed with the measured values (wide and narrow, ratios to the
# text-COPY bound without ANALYZE): dm_sync (delete_insert) <= 1.10x the bound;
# dm_upsert_stale <= 1.20x; dm_upsert_same <= 0.50x, 0 tuples written, WAL < 1 % of dm_sync's;
# peak private memory of every run of the three dm methods < 100 MiB (104857600 bytes) at every
# size, and not growing much with the window (largest size's peak <= 1.3 x the smallest's).
#
# Assumes the extension is installed in $PG_BIN's PostgreSQL (`cargo pgrx install --release
# --pg-config $PG_BIN/pg_config`). Runs a throwaway cluster (.ci/pg.sh, which honours PG_BIN)
# holding two databases: `warehouse` (sql/bench/warehouse.sql, built once and reused while its
# row counts match) and `mart` (sql/bench/mart.sql, recreated every run). dblink reaches the
# warehouse over TCP 127.0.0.1, the way it reaches Redshift.
#
# Every method loads the same window for all accounts into the same mart table, which holds
# the previous run's copy of the window. Before each timed run: (stale preparation,) VACUUM
# (ANALYZE) the table and CHECKPOINT, so all start from the same state. Methods are
# interleaved and their order rotates each round. After each run the mart table must hold
# exactly the expected rows, with the same content as the warehouse window (count + checksum),
# or the benchmark fails.
#
# Knobs (environment):
#   ROWS_WIDE=1000000 ROWS_NARROW=4000000  rows in the window (per table)
#   ACCOUNTS=200                           accounts served by the mart
#   REPS=3                                 rounds of the methods (median shown)
#   TABLES="wide narrow"
#   METHODS="dm_sync insel localcopy binarycopy dm_upsert_stale dm_upsert_same oncf_stale oncf_same"
#                                          also available: rowloop, copy; localcopy is the
#                                          bound of the ratios, binarycopy the physical bound
#   SIZES="25% 100%"                       memory by window size: rows, or % of the window
#                                          (wide: 250000 and 1000000; narrow: 1000000 and
#                                          4000000); "" skips it
#   DM_ANALYZE=-1                          pg_datamart.analyze_threshold of the dm methods
#                                          while timing: -1 off (the separate ANALYZE stands
#                                          in); otherwise their ANALYZE is in their time
#   MEM_REPS=1                             runs per method and smaller size
#   STALE_UPDATE_PCT=100 STALE_DELETE_PCT=1 STALE_GONE_PCT=1   the stale preparation
#   VERIFY=full|count                      full: also compare a content checksum
#   BENCH_CLUSTER=bench BENCH_PORT=28818   cluster name (/tmp/pg_datamart-NAME) / port
#   PG_BIN=/usr/lib/postgresql/15/bin      server binaries (and pg_config) to run the cluster with
#   KEEP_CLUSTER=1                         leave the cluster running at the end
# Quick smoke run: ROWS_WIDE=20000 ROWS_NARROW=20000 REPS=1 bash .ci/bench.sh (about 1 minute).
#
# Duration: the full default run takes roughly 60 minutes on a 2-core machine (a 1M-row wide
# and a 4M-row narrow window, binarycopy and a separate ANALYZE after every run), and needs
# about 28 GB free under /tmp (estimated below; a warning says when it looks short). To stay
# within that, the old row-by-row procedure (rowloop, ~1.3-1.5x the bound in earlier runs, see
# docs/benchmark.md) and the COPY pipe are not in the default METHODS, and the smaller window
# sizes run once per method (MEM_REPS=1) instead of REPS times; memory is a peak, not a timing.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS_WIDE=${ROWS_WIDE:-1000000}
ROWS_NARROW=${ROWS_NARROW:-4000000}
ACCOUNTS=${ACCOUNTS:-200}
REPS=${REPS:-3}
MEM_REPS=${MEM_REPS:-1}
TABLES=${TABLES:-wide narrow}
# dm_sync's own ANALYZE of the partitions it wrote is off while timing (DM_ANALYZE=-1): none of
# the other methods analyzes, and the bound is COPY alone; a separate, untimed-for-the-method
# ANALYZE after each run gives the "with ANALYZE" figures. DM_ANALYZE=0 times it included (and
# then no separate ANALYZE runs after the dm methods).
DM_ANALYZE=${DM_ANALYZE:--1}
METHODS=${METHODS-dm_sync insel localcopy binarycopy dm_upsert_stale dm_upsert_same oncf_stale oncf_same}
SIZES=${SIZES-25% 100%}
STALE_UPDATE_PCT=${STALE_UPDATE_PCT:-100}
STALE_DELETE_PCT=${STALE_DELETE_PCT:-1}
STALE_GONE_PCT=${STALE_GONE_PCT:-1}
VERIFY=${VERIFY:-full}
CLUSTER=${BENCH_CLUSTER:-bench}
PORT=${BENCH_PORT:-28818}
export PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# Bench settings. Durability stays at the defaults (fsync, synchronous_commit, full_page_writes
# on) for every method. Autovacuum is off because the script vacuums between runs itself; an
# autovacuum landing in the middle of one method's run would only add noise.
SETTINGS=(
    shared_buffers=2GB
    max_wal_size=8GB
    checkpoint_timeout=30min
    work_mem=64MB
    maintenance_work_mem=1GB
    autovacuum=off
    max_connections=50
)

ALL_METHODS="dm_sync insel rowloop copy localcopy binarycopy dm_upsert_stale dm_upsert_same oncf_stale oncf_same"
SIZE_METHODS="dm_sync dm_upsert_stale dm_upsert_same"   # run at every window size

die() { echo "bench: $*" >&2; exit 1; }
for v in ROWS_WIDE ROWS_NARROW ACCOUNTS REPS MEM_REPS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
for v in STALE_UPDATE_PCT STALE_DELETE_PCT STALE_GONE_PCT; do
    [[ ${!v} =~ ^[0-9]+$ ]] && (( ${!v} <= 100 )) || die "$v must be a percentage 0..100 (got '${!v}')"
done
[[ $DM_ANALYZE =~ ^(-1|[0-9]+)$ ]] || die "DM_ANALYZE must be -1 or a row count >= 0 (got '$DM_ANALYZE')"
(( ROWS_WIDE >= 140 && ROWS_NARROW >= 140 )) || die "ROWS_WIDE and ROWS_NARROW must be >= 140"
for m in $METHODS; do [[ " $ALL_METHODS " == *" $m "* ]] || die "unknown method $m ($ALL_METHODS)"; done
for t in $TABLES; do [[ $t =~ ^(wide|narrow)$ ]] || die "unknown table $t (wide narrow)"; done
for s in $SIZES; do [[ $s =~ ^[1-9][0-9]*%?$ ]] || die "SIZES: '$s' is neither a row count nor a percentage"; done
has() { [[ " $1 " == *" $2 "* ]]; }   # list word
use_ext=0
for m in $METHODS; do [[ $m == dm_* ]] && use_ext=1; done
[[ -n $SIZES ]] && use_ext=1
if (( use_ext )) && [[ ! -f $("$PG_BIN/pg_config" --sharedir)/extension/pg_datamart.control ]]; then
    die "pg_datamart is not installed in $PG_BIN's PostgreSQL (run: cargo pgrx install --release --pg-config $PG_BIN/pg_config), or set METHODS=\"rowloop copy\" SIZES=\"\""
fi

DIR=$(.ci/pg.sh dir "$CLUSTER")
PSQL_BIN=psql
[[ -x $PG_BIN/psql ]] && PSQL_BIN=$PG_BIN/psql
PSQL=("$PSQL_BIN" -h 127.0.0.1 -p "$PORT" -U postgres -X -q -v ON_ERROR_STOP=1)
q() { local db=$1; shift; "${PSQL[@]}" -d "$db" -At -c "$*"; }
ql() { printf "'%s'" "${1//\'/\'\'}"; }   # SQL string literal (standard_conforming_strings)
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
START=$(now)

echo "bench: starting cluster $CLUSTER on port $PORT ($DIR, $PG_BIN)"
.ci/pg.sh start "$CLUSTER" "$PORT" "${SETTINGS[@]}"
if [[ ${KEEP_CLUSTER:-0} != 1 ]]; then trap '.ci/pg.sh stop "$CLUSTER"' EXIT; fi
LOG=$DIR/bench.log
RUNS=$DIR/runs.tsv
SIZELIST=$DIR/sizes.tsv
OUT=$DIR/results.md
: >"$LOG"
: >"$RUNS"
: >"$SIZELIST"
echo "bench: log in $LOG"

avail_gb=$(df -P --block-size=1G "$DIR" | awk 'NR == 2 { print $4 }')
# Disk, per row of the window (~1800 bytes wide, ~220 narrow in the mart with its index): the
# warehouse copy, the mart table and the free space of the previous copy, the WAL between
# checkpoints and the COPY files (text for localcopy, binary for binarycopy): ~7 x, plus 10 GB.
need_gb=$(( (ROWS_WIDE * 1800 + ROWS_NARROW * 220) * 7 / 1000000000 + 10 ))
(( avail_gb >= need_gb )) || echo "bench: WARNING: $avail_gb GB free under $DIR, the run may need ~$need_gb GB" >&2

# ---------------------------------------------------------------------------------------------
# Warehouse: build once, reuse while the counts match
# ---------------------------------------------------------------------------------------------
[[ $(q postgres "SELECT count(*) FROM pg_database WHERE datname = 'warehouse'") == 1 ]] \
    || q postgres "CREATE DATABASE warehouse"
meta=$(q warehouse "SELECT rows_wide, rows_narrow, accounts FROM bench_meta" 2>/dev/null || true)
fresh=0
if [[ $meta == "$ROWS_WIDE|$ROWS_NARROW|$ACCOUNTS" ]]; then
    counts=$(q warehouse "
        SELECT (SELECT count(*) FROM facebook_ad_creative w, bench_meta m, bench_account a
                WHERE w.collected_at BETWEEN m.win_start AND m.win_end AND w.account_id = a.account_id AND a.served)
            || '|' ||
               (SELECT count(*) FROM facebook_ad_seg_daily_report w, bench_meta m, bench_account a
                WHERE w.collected_at BETWEEN m.win_start AND m.win_end AND w.account_id = a.account_id AND a.served)" \
        2>/dev/null || true)
    [[ $counts == "$ROWS_WIDE|$ROWS_NARROW" ]] && fresh=1
fi
if (( fresh )); then
    echo "bench: reusing the warehouse ($ROWS_WIDE wide / $ROWS_NARROW narrow rows, $ACCOUNTS accounts)"
else
    echo "bench: building the warehouse ($ROWS_WIDE wide / $ROWS_NARROW narrow rows in the window, $ACCOUNTS accounts)..."
    t0=$(now)
    "${PSQL[@]}" -d warehouse -v rows_wide="$ROWS_WIDE" -v rows_narrow="$ROWS_NARROW" \
        -v accounts="$ACCOUNTS" -f sql/bench/warehouse.sql
    echo "bench: warehouse built in $(elapsed "$t0" "$(now)") s"
fi
IFS='|' read -r WS WE < <(q warehouse "SELECT win_start, win_end FROM bench_meta")
[[ -n ${WS:-} && -n ${WE:-} ]] || die "cannot read the window from bench_meta"
echo "bench: window $WS .. $WE"

# ---------------------------------------------------------------------------------------------
# Mart: recreated every run (picks up the extension as installed now)
# ---------------------------------------------------------------------------------------------
PGOPTIONS='-c client_min_messages=warning' q postgres "DROP DATABASE IF EXISTS mart WITH (FORCE)"
q postgres "CREATE DATABASE mart"
if (( use_ext )); then
    PGOPTIONS='-c client_min_messages=warning' q mart "CREATE EXTENSION pg_datamart CASCADE"
    register=true
else
    q mart "CREATE EXTENSION dblink"
    register=false
fi
"${PSQL[@]}" -d mart -v wh_port="$PORT" -v register="$register" -f sql/bench/mart.sql >>"$LOG" 2>&1 \
    || { tail -n 30 "$LOG" >&2; die "sql/bench/mart.sql failed"; }
ACCLIST=$(q mart "SELECT string_agg(quote_literal(account_id), ',' ORDER BY account_id) FROM facebook_account_dm")
PGVERSION=$(q mart "SELECT version()")
EXTVERSION=$(q mart "SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'pg_datamart'), 'not installed')")

# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------
declare -A REMOTE=([wide]=facebook_ad_creative [narrow]=facebook_ad_seg_daily_report)
declare -A EXPECTED=([wide]=$ROWS_WIDE [narrow]=$ROWS_NARROW)
declare -A LABEL=([dm_sync]="dm_sync delete_insert (pg_datamart)" [insel]="INSERT ... SELECT FROM dblink (by hand)"
                  [rowloop]="row-by-row procedure (old)" [copy]="COPY pipe" [localcopy]="local COPY FROM file (bound)"
                  [binarycopy]="local binary COPY FROM file (physical bound)"
                  [dm_upsert_stale]="dm_sync upsert, stale window" [dm_upsert_same]="dm_sync upsert, unchanged window"
                  [oncf_stale]="ON CONFLICT by hand, stale window" [oncf_same]="ON CONFLICT by hand, unchanged window")
# The column changed by the stale preparation, and the key column the "gone upstream" copies alter.
declare -A STALE_SET=([wide]="status = 'STALE'" [narrow]="impressions = impressions + 1")
declare -A GONE_KEY=([wide]=ad_creative_id [narrow]=ad_id)
# Per table, filled below: column lists and the statements built from them, and the leaf
# partitions the window lies in (what the separate ANALYZE analyzes).
declare -A COLS COLDEFS PK PKDEFS PKJOIN ONCF_SET NK_M NK_EX GONE_SEL WANT APARTS
dm_ok=0   # succeeded dm.run rows expected so far

# Run a step, its output to the log; on failure show the log's tail and stop.
logged() { "$@" >>"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "failed: ${*: -1}"; }; }

settle() {   # same starting state for every run: no dead tuples, fresh statistics, no dirty WAL
    logged q mart "VACUUM (ANALYZE) $1"
    logged q mart "CHECKPOINT"
}

WINDOW_SQL="collected_at BETWEEN '$WS' AND '$WE' AND account_id IN (SELECT account_id FROM facebook_account_dm)"
window_sql() {   # [quoted account list]: the window's rows in the mart, of every served account or those
    if [[ -z ${1:-} ]]; then echo "$WINDOW_SQL"; else echo "collected_at BETWEEN '$WS' AND '$WE' AND account_id IN ($1)"; fi
}
remote_sql() {   # table select-list: the window's rows in the warehouse
    echo "SELECT $2 FROM public.${REMOTE[$1]} WHERE collected_at >= '$WS' AND collected_at <= '$WE' AND account_id IN ($ACCLIST)"
}

copy_load() {   # table: delete the window, then COPY through a pipe
    local mt=${REMOTE[$1]}_dm
    q mart "DELETE FROM $mt WHERE $WINDOW_SQL" \
        && "${PSQL[@]}" -d warehouse -c "COPY ($(remote_sql "$1" "${COLS[$1]}")) TO STDOUT" \
            | PGAPPNAME=bench_run "${PSQL[@]}" -d mart -c "COPY $mt (${COLS[$1]}) FROM STDIN"
}

localcopy_load() {   # table: delete the window, then COPY from the file written beforehand
    local mt=${REMOTE[$1]}_dm
    PGAPPNAME=bench_run q mart "DELETE FROM $mt WHERE $WINDOW_SQL; COPY $mt (${COLS[$1]}) FROM '$DIR/$1.copy'"
}

binarycopy_load() {   # table: the same as localcopy_load, from the binary file written after the warm-up
    local mt=${REMOTE[$1]}_dm
    PGAPPNAME=bench_run q mart "DELETE FROM $mt WHERE $WINDOW_SQL; COPY $mt (${COLS[$1]}) FROM '$DIR/$1.bin' WITH (FORMAT binary)"
}

insel_load() {   # table: delete the window, then INSERT ... SELECT FROM dblink
    local mt=${REMOTE[$1]}_dm
    PGAPPNAME=bench_run q mart "DELETE FROM $mt WHERE $WINDOW_SQL;
        INSERT INTO $mt (${COLS[$1]}) SELECT * FROM dblink('redshift_prd', $(ql "$(remote_sql "$1" "${COLS[$1]}")")) AS t(${COLDEFS[$1]})"
}

oncf_load() {   # table: delete the rows gone upstream, then INSERT ... ON CONFLICT DO UPDATE the changed ones
    local t=$1 mt=${REMOTE[$1]}_dm
    PGAPPNAME=bench_run q mart "
        DELETE FROM $mt m WHERE $WINDOW_SQL AND NOT EXISTS (
            SELECT 1 FROM dblink('redshift_prd', $(ql "$(remote_sql "$t" "${PK[$t]}")")) AS r(${PKDEFS[$t]})
            WHERE ${PKJOIN[$t]});
        INSERT INTO $mt AS m (${COLS[$t]})
        SELECT * FROM dblink('redshift_prd', $(ql "$(remote_sql "$t" "${COLS[$t]}")")) AS t(${COLDEFS[$t]})
        ON CONFLICT (${PK[$t]}) DO UPDATE SET ${ONCF_SET[$t]}, updated_at = now()
        WHERE (${NK_M[$t]}) IS DISTINCT FROM (${NK_EX[$t]})"
}

stale_prep() {   # table [quoted account list]: make the window stale (untimed, see the header)
    local t=$1 mt=${REMOTE[$1]}_dm w b g
    w=$(window_sql "${2:-}")
    b="(((hashtext(ROW(${PK[$t]})::text) % 100) + 100) % 100)"
    g="(((hashtext(ROW(${PK[$t]})::text || 'gone') % 100) + 100) % 100)"
    logged q mart "
        INSERT INTO $mt (${COLS[$t]}) SELECT ${GONE_SEL[$t]} FROM $mt WHERE $w AND $g < $STALE_GONE_PCT;
        DELETE FROM $mt WHERE $w AND $b >= 100 - $STALE_DELETE_PCT AND ${GONE_KEY[$t]} NOT LIKE 'gone-%';
        UPDATE $mt SET ${STALE_SET[$t]} WHERE $w AND $b < $STALE_UPDATE_PCT AND ${GONE_KEY[$t]} NOT LIKE 'gone-%'"
}

# Peak RssAnon (kB) of the backend whose application_name is $2 (bench_run: the method's;
# bench_analyze: the separate ANALYZE's), until it exits. The caller creates $1.done once its
# command has returned: a backend not seen by then is gone (a run shorter than the polling), so
# the sampler stops looking (peak 0) instead of polling on for seconds.
sample_memory() {
    local out=$1 app=${2:-bench_run} pid="" max=0 v
    for _ in $(seq 1 400); do
        pid=$(q postgres "SELECT pid FROM pg_stat_activity WHERE application_name = '$app' LIMIT 1" 2>/dev/null || true)
        [[ -n $pid || -e $out.done ]] && break
        sleep 0.02
    done
    while [[ -n $pid && -r /proc/$pid/status ]]; do
        v=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        [[ -n $v ]] && (( v > max )) && max=$v
        sleep 0.05
    done
    echo "$max" >"$out"
}

stats() {   # table: inserted|updated|deleted|dead tuples of its partitions, once bench_run has exited
    # A backend flushes its table statistics before it leaves pg_stat_activity.
    for _ in $(seq 1 100); do
        [[ $(q postgres "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench_run'") == 0 ]] && break
        sleep 0.05
    done
    q mart "SELECT coalesce(sum(n_tup_ins), 0)::bigint || '|' || coalesce(sum(n_tup_upd), 0)::bigint || '|'
                || coalesce(sum(n_tup_del), 0)::bigint || '|' || coalesce(sum(n_dead_tup), 0)::bigint
              FROM pg_stat_user_tables s JOIN pg_partition_tree('$1') p ON p.relid = s.relid"
}

checksum_sql() {   # table cols where: count and content checksum of the rows
    if [[ $VERIFY == full ]]; then
        echo "SELECT count(*) || '|' || coalesce(sum(hashtext(ROW($2)::text)::bigint), 0) FROM $1 WHERE $3"
    else
        echo "SELECT count(*) || '|-' FROM $1 WHERE $3"
    fi
}

verify() {   # table method: the mart table must hold the warehouse window, nothing else
    local t=$1 m=$2 mt=${REMOTE[$1]}_dm got window
    window=$(q mart "SELECT count(*) FROM $mt WHERE $WINDOW_SQL")
    got=$(q mart "$(checksum_sql "$mt" "${COLS[$t]}" true)")
    if [[ $window != "${EXPECTED[$t]}" || $got != "${WANT[$t]}" ]]; then
        die "$m left $t wrong: window rows $window (expected ${EXPECTED[$t]}), table count|checksum $got (warehouse ${WANT[$t]})"
    fi
    if [[ $m == dm_* ]]; then
        dm_ok=$((dm_ok + 1))
        local ok
        ok=$(q mart "SELECT count(*) FROM dm.run WHERE status = 'succeeded'")
        [[ $ok == "$dm_ok" ]] || die "dm.run shows $ok succeeded runs, expected $dm_ok"
    fi
}

# One timed run, recorded in $RUNS (the separate ANALYZE's two fields last, so that the
# others keep their numbers):
#   kind table method round rows secs peak_kB wal_bytes inserted updated deleted dead
#   analyze_secs analyze_peak_kB
run_one() {   # kind table method round rows account_ids(dm_sync form, '0' = all) quoted_account_list
    local kind=$1 t=$2 m=$3 r=$4 rows=$5 ids=$6 accsql=$7 mt=${REMOTE[$2]}_dm lsn0 sampler t0 secs mem_kb wal
    local i0 u0 d0 x0 i1 u1 d1 x1 asecs=0 akb=0
    t0=$(now)
    [[ $m == *_stale ]] && stale_prep "$t" "$accsql"
    settle "$mt"
    echo "== preparation (stale, VACUUM, CHECKPOINT) $(elapsed "$t0" "$(now)") s" >>"$LOG"
    echo "== $kind $t round $r $m ($rows rows)" >>"$LOG"
    IFS='|' read -r i0 u0 d0 x0 < <(stats "$mt")
    lsn0=$(q mart "SELECT pg_current_wal_lsn()")
    rm -f "$DIR/mem.done"
    sample_memory "$DIR/mem" bench_run &
    sampler=$!
    t0=$(now)
    case $m in
    dm_sync) PGOPTIONS="-c pg_datamart.analyze_threshold=$DM_ANALYZE" PGAPPNAME=bench_run logged q mart "CALL dm_sync('bench_$t', '$ids', '$WS', '$WE', mode => 'delete_insert')" ;;
    dm_upsert_*) PGOPTIONS="-c pg_datamart.analyze_threshold=$DM_ANALYZE" PGAPPNAME=bench_run logged q mart "CALL dm_sync('bench_$t', '$ids', '$WS', '$WE', mode => 'upsert')" ;;
    insel) logged insel_load "$t" ;;
    rowloop) PGAPPNAME=bench_run logged q mart "CALL rs_bench_${t}_dumps('0', '$WS', '$WE')" ;;
    copy) logged copy_load "$t" ;;
    localcopy) logged localcopy_load "$t" ;;
    binarycopy) logged binarycopy_load "$t" ;;
    oncf_*) logged oncf_load "$t" ;;
    esac
    secs=$(elapsed "$t0" "$(now)")
    touch "$DIR/mem.done"
    wait "$sampler" || true
    mem_kb=$(cat "$DIR/mem" 2>/dev/null || echo 0)
    wal=$(q mart "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')::bigint")
    IFS='|' read -r i1 u1 d1 x1 < <(stats "$mt")
    # The separate ANALYZE (see the header), in its own psql after the method's time, memory,
    # WAL and tuple counts are taken, so that none of them includes it; before the check, the
    # way dm_sync analyzes right after it writes. Not after a dm method that analyzed within
    # its run (DM_ANALYZE other than -1): that would count ANALYZE twice.
    if [[ $m == dm_* && $DM_ANALYZE != -1 ]]; then
        echo "== no separate ANALYZE: $m analyzes within its run (pg_datamart.analyze_threshold=$DM_ANALYZE)" >>"$LOG"
    else
        echo "== separate ANALYZE ${APARTS[$t]}" >>"$LOG"
        rm -f "$DIR/mem_analyze.done"
        sample_memory "$DIR/mem_analyze" bench_analyze &
        sampler=$!
        t0=$(now)
        PGAPPNAME=bench_analyze logged q mart "ANALYZE ${APARTS[$t]}"
        asecs=$(elapsed "$t0" "$(now)")
        touch "$DIR/mem_analyze.done"
        wait "$sampler" || true
        akb=$(cat "$DIR/mem_analyze" 2>/dev/null || echo 0)
    fi
    verify "$t" "$m"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$t" "$m" "$r" "$rows" "$secs" "$mem_kb" "$wal" \
        $((i1 - i0)) $((u1 - u0)) $((d1 - d0)) $((x1 - x0)) "$asecs" "$akb" >>"$RUNS"
    printf 'bench: %-6s %-7s %-5s %-15s %8s rows %9s s %5s MiB  WAL %5s MiB  ins/upd/del %s/%s/%s dead %+d  ANALYZE %s s %s MiB\n' \
        "$t" "$kind" "$r" "$m" "$rows" "$secs" "$((mem_kb / 1024))" "$((wal / 1048576))" \
        $((i1 - i0)) $((u1 - u0)) $((d1 - d0)) $((x1 - x0)) "$asecs" "$((akb / 1024))"
}

for t in $TABLES; do
    wt=${REMOTE[$t]}
    mt=${wt}_dm
    cols=$(q warehouse "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
                        FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$wt'")
    COLS[$t]=$cols
    WANT[$t]=$(q warehouse "$(checksum_sql "public.$wt" "$cols" "collected_at BETWEEN '$WS' AND '$WE' AND account_id IN ($ACCLIST)")")
    [[ ${WANT[$t]%%|*} == "${EXPECTED[$t]}" ]] || die "warehouse window of $wt holds ${WANT[$t]%%|*} rows, expected ${EXPECTED[$t]}"
    # The mart's types for the warehouse columns (dblink column-definition list), in $cols order.
    COLDEFS[$t]=$(q mart "SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY c.ord)
                          FROM unnest(string_to_array(replace('$cols', '\"', ''), ', ')) WITH ORDINALITY AS c(name, ord)
                          JOIN pg_attribute a ON a.attrelid = '$mt'::regclass AND a.attname::text = c.name AND NOT a.attisdropped")
    # The mart table's primary key (the upsert key) and the statements built on it.
    IFS='|' read -r PK[$t] PKDEFS[$t] PKJOIN[$t] < <(q mart "
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord),
               string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY k.ord),
               string_agg('r.' || quote_ident(a.attname) || ' = m.' || quote_ident(a.attname), ' AND ' ORDER BY k.ord)
        FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = '$mt'::regclass AND i.indisprimary")
    [[ -n ${PK[$t]} ]] || die "$mt has no primary key (upsert needs one)"
    set_list="" nk_m="" nk_ex="" gone_sel=""
    IFS=',' read -r -a colv <<<"${cols//, /,}"
    IFS=',' read -r -a pkv <<<"${PK[$t]//, /,}"
    for c in "${colv[@]}"; do
        if [[ $c == "${GONE_KEY[$t]}" ]]; then gone_sel+="${gone_sel:+, }'gone-' || $c"; else gone_sel+="${gone_sel:+, }$c"; fi
        has "${pkv[*]}" "$c" && continue
        set_list+="${set_list:+, }$c = excluded.$c"
        nk_m+="${nk_m:+, }m.$c"
        nk_ex+="${nk_ex:+, }excluded.$c"
    done
    ONCF_SET[$t]=$set_list NK_M[$t]=$nk_m NK_EX[$t]=$nk_ex GONE_SEL[$t]=$gone_sel
    if has "$METHODS" localcopy; then   # the bound's input, on disk before any timing
        logged q warehouse "COPY ($(remote_sql "$t" "$cols")) TO '$DIR/$t.copy'"
    fi

    # Warm-up (untimed): two loads, so the table, its index and free space are in the steady
    # state every timed run sees (previous copy of the window present, its old space free).
    echo "bench: $t: warm-up"
    for _ in 1 2; do
        logged copy_load "$t"
        settle "$mt"
    done
    verify "$t" warmup
    # The mart now holds exactly the window. The physical bound's input, on disk before any
    # timing, comes from it (not from the warehouse): binary COPY FROM converts nothing, so the
    # file must hold the mart's column types, and it loads the same columns as localcopy.
    if has "$METHODS" binarycopy; then
        logged q mart "COPY (SELECT ${COLS[$t]} FROM $mt WHERE $WINDOW_SQL) TO '$DIR/$t.bin' WITH (FORMAT binary)"
    fi
    # The leaf partitions the window lies in, for the separate ANALYZE. The smaller window
    # sizes keep the dates, so they lie in the same partitions.
    APARTS[$t]=$(q mart "SELECT string_agg(p, ', ' ORDER BY p)
                         FROM (SELECT DISTINCT tableoid::regclass::text AS p FROM $mt WHERE $WINDOW_SQL) s")
    [[ -n ${APARTS[$t]} ]] || die "no partition of $mt holds the window"

    # Method rounds: every method once per round, the order rotating.
    read -r -a ms <<<"$METHODS"
    n=${#ms[@]}
    for ((r = 1; r <= REPS && n > 0; r++)); do
        for ((i = 0; i < n; i++)); do
            run_one methods "$t" "${ms[$(((r - 1 + i) % n))]}" "$r" "${EXPECTED[$t]}" 0 ""
        done
    done

    # Memory by window size: the first N accounts of the same dates.
    for s in $SIZES; do
        if [[ $s == *% ]]; then target=$(( ${EXPECTED[$t]} * ${s%\%} / 100 )); else target=$s; fi
        (( target <= ${EXPECTED[$t]} )) || die "SIZES: $s ($target rows) is larger than the $t window (${EXPECTED[$t]} rows)"
        nacc=$(( (target * ACCOUNTS + ${EXPECTED[$t]} / 2) / ${EXPECTED[$t]} ))
        (( nacc < 1 )) && nacc=1
        (( nacc > ACCOUNTS )) && nacc=$ACCOUNTS
        todo=""
        if (( nacc == ACCOUNTS )); then
            rows=${EXPECTED[$t]} ids=0 accsql=""
            for m in $SIZE_METHODS; do has "$METHODS" "$m" || todo+=" $m"; done   # the others: from the rounds
        else
            IFS='|' read -r ids accsql < <(q mart "
                SELECT string_agg(account_id, ',' ORDER BY account_id), string_agg(quote_literal(account_id), ',' ORDER BY account_id)
                FROM (SELECT account_id FROM facebook_account_dm ORDER BY account_id LIMIT $nacc) a")
            rows=$(q warehouse "SELECT count(*) FROM public.$wt WHERE collected_at BETWEEN '$WS' AND '$WE' AND account_id IN ($accsql)")
            todo=$SIZE_METHODS
        fi
        printf '%s\t%s\t%s\t%s\n' "$t" "$rows" "$nacc" "$s" >>"$SIZELIST"
        read -r -a sm <<<"$todo"
        k=${#sm[@]}
        (( k > 0 )) && echo "bench: $t: window size $s: $rows rows ($nacc of $ACCOUNTS accounts)"
        for ((r = 1; r <= MEM_REPS && k > 0; r++)); do
            for ((i = 0; i < k; i++)); do
                run_one size "$t" "${sm[$(((r - 1 + i) % k))]}" "$r" "$rows" "$ids" "$accsql"
            done
        done
    done
done

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() {   # kind table method rows column: that column of the matching runs (rows "" = any)
    awk -F'\t' -v k="$1" -v t="$2" -v m="$3" -v n="$4" -v f="$5" '$1 == k && $2 == t && $3 == m && (n == "" || $5 == n) { print $f }' "$RUNS"
}
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "") print "-"; else printf "%.*f", d, v }'; }
with_analyze() {   # kind table method: secs + analyze_secs of each matching run
    awk -F'\t' -v k="$1" -v t="$2" -v m="$3" '$1 == k && $2 == t && $3 == m { printf "%.3f\n", $6 + $13 }' "$RUNS"
}
mark() { if awk -v c="$1" 'BEGIN { exit !(c + 0) }'; then echo "PASS"; else echo "**FAIL**"; fi; }
wide_bytes=$(q warehouse "SELECT (pg_table_size('facebook_ad_creative') / greatest(reltuples, 1))::int FROM pg_class WHERE oid = 'facebook_ad_creative'::regclass")
narrow_bytes=$(q warehouse "SELECT (pg_table_size('facebook_ad_seg_daily_report') / greatest(reltuples, 1))::int FROM pg_class WHERE oid = 'facebook_ad_seg_daily_report'::regclass")
bound_method=dm_sync
has "$METHODS" localcopy && bound_method=localcopy
declare -A MED RATIO WALM WRIT
aparts=""   # the partitions the separate ANALYZE analyzed, per table
for t in $TABLES; do aparts+="${aparts:+; }$t: ${APARTS[$t]}"; done
{
    echo "## pg_datamart benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); CPUs (nproc): $(nproc); memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); run took $(awk -v a="$START" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) / 60 }') min"
    echo "- $PGVERSION"
    echo "- pg_datamart $EXTVERSION; window $WS .. $WE (7 days), $ACCOUNTS accounts, $REPS rounds (median shown), methods interleaved"
    echo "- wide = facebook_ad_creative (36 columns, ~$wide_bytes bytes/row on disk); narrow = facebook_ad_seg_daily_report (15 columns, ~$narrow_bytes bytes/row)"
    echo "- warehouse and mart in one cluster, dblink over TCP 127.0.0.1; settings: ${SETTINGS[*]} (durability defaults)"
    echo "- each run syncs the window over the previous run's copy of it; VACUUM + CHECKPOINT before each run"
    echo "- stale window (the *_stale methods, prepared before timing): $STALE_GONE_PCT % rows gone upstream, $STALE_DELETE_PCT % rows missing, $STALE_UPDATE_PCT % of the rest with a changed column"
    echo "- tuples written = n_tup_ins + n_tup_upd + n_tup_del (ins/upd/del), dead = n_dead_tup delta, over the table's partitions"
    if [[ $DM_ANALYZE == -1 ]]; then
        echo "- with ANALYZE: after every run, outside its time, a separate ANALYZE of the window's partitions ($aparts); \"with ANALYZE s\" = median of run + ANALYZE seconds, \"x bound with ANALYZE\" = that / the bound's median without ANALYZE; the dm methods ran with pg_datamart.analyze_threshold=-1"
    else
        echo "- with ANALYZE: the dm methods ran with pg_datamart.analyze_threshold=$DM_ANALYZE (their ANALYZE is in their own time and peak, no separate one after them); after every other run, outside its time, a separate ANALYZE of the window's partitions ($aparts); \"x bound with ANALYZE\" = median of run + ANALYZE seconds / the bound's median without ANALYZE"
    fi
    echo "- targets (issue 19; ratios to ${LABEL[$bound_method]%% (*} without ANALYZE): dm_sync <= 1.10x; dm_upsert_stale <= 1.20x; dm_upsert_same <= 0.50x, 0 tuples written, WAL < 1 % of dm_sync's; peak private memory of the three dm methods < 100 MiB at every window size; largest size's peak <= 1.3x the smallest's"
    echo
    echo "| table | rows | method | median s | rows/s | x ${LABEL[$bound_method]%% (*} | with ANALYZE s | x bound with ANALYZE | ANALYZE peak MiB | peak private MiB | WAL MiB | tuples written (ins/upd/del) | dead tuples | target | runs (s) |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
    for t in $TABLES; do
        base=$(field methods "$t" "$bound_method" "" 6 | median)
        for m in $METHODS; do
            runs=$(field methods "$t" "$m" "" 6)
            med=$(median <<<"$runs")
            mem=$(field methods "$t" "$m" "" 7 | awk '{ print $1 / 1024 }' | median)
            wal=$(field methods "$t" "$m" "" 8 | awk '{ print $1 / 1048576 }' | median)
            ins=$(field methods "$t" "$m" "" 9 | median) upd=$(field methods "$t" "$m" "" 10 | median)
            del=$(field methods "$t" "$m" "" 11 | median) dead=$(field methods "$t" "$m" "" 12 | median)
            written=$(awk -v a="$ins" -v b="$upd" -v c="$del" 'BEGIN { printf "%.0f", a + b + c }')
            rate=$(awk -v r="${EXPECTED[$t]}" -v s="$med" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
            ratio=$(awk -v s="$med" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", s / b; else print "-" }')
            wa=$(with_analyze methods "$t" "$m" | median)
            wa_ratio=$(awk -v s="$wa" -v b="$base" 'BEGIN { if (b > 0 && s != "") printf "%.2f", s / b; else print "-" }')
            if [[ $m == dm_* && $DM_ANALYZE != -1 ]]; then
                apeak="in the run"   # analyzed within the run: in its peak private memory
            else
                apeak=$(fmt "$(field methods "$t" "$m" "" 14 | awk '{ print $1 / 1024 }' | median)")
            fi
            MED[$t,$m]=$med RATIO[$t,$m]=$ratio WALM[$t,$m]=$wal WRIT[$t,$m]=$written
            tgt=""
            case $m in
            dm_sync) tgt="<= 1.10x: $(mark "$(awk -v x="$ratio" 'BEGIN { print (x != "-" && x <= 1.10) }')")" ;;
            dm_upsert_stale) tgt="<= 1.20x: $(mark "$(awk -v x="$ratio" 'BEGIN { print (x != "-" && x <= 1.20) }')")" ;;
            dm_upsert_same)
                tgt="<= 0.50x: $(mark "$(awk -v x="$ratio" 'BEGIN { print (x != "-" && x <= 0.50) }')"); 0 written: $(mark "$(( written == 0 ))")"
                if has "$METHODS" dm_sync; then
                    tgt+="; WAL < 1 % of dm_sync's ($(fmt "$(awk -v a="$wal" -v b="${WALM[$t,dm_sync]:-0}" 'BEGIN { if (b > 0) print 100 * a / b }')" 2) %): $(mark "$(awk -v a="$wal" -v b="${WALM[$t,dm_sync]:-0}" 'BEGIN { print (b > 0 && a < 0.01 * b) }')")"
                fi ;;
            esac
            echo "| $t | ${EXPECTED[$t]} | ${LABEL[$m]} | $med | $rate | $ratio | $(fmt "$wa" 3) | $wa_ratio | $apeak | $(fmt "$mem") | $(fmt "$wal") | $written ($(fmt "$ins")/$(fmt "$upd")/$(fmt "$del")) | $(fmt "$dead") | $tgt | $(echo $runs | sed 's/ /, /g') |"
        done
    done
    if [[ -s $SIZELIST ]]; then
        echo
        echo "Peak private memory (RssAnon) of the syncing backend by window size (same dates, the first N accounts; largest peak over the runs; target < 100 MiB (104857600 bytes) at every size, not growing much: largest size <= 1.3 x smallest):"
        echo
        echo "| table | window rows | accounts | method | runs | median s | peak private MiB | WAL MiB | tuples written | target |"
        echo "|---|---:|---:|---|---:|---:|---:|---:|---:|---|"
        for t in $TABLES; do
            for m in $SIZE_METHODS; do
                nsz=0 small_rows="" small_peak="" big_rows="" big_peak=""
                while IFS=$'\t' read -r st rows nacc s; do
                    [[ $st == "$t" ]] || continue
                    kind=size
                    (( nacc == ACCOUNTS )) && has "$METHODS" "$m" && kind=methods
                    secs=$(field "$kind" "$t" "$m" "$rows" 6)
                    [[ -n $secs ]] || continue
                    nsz=$((nsz + 1))
                    peak=$(field "$kind" "$t" "$m" "$rows" 7 | sort -g | tail -n 1)
                    wal=$(field "$kind" "$t" "$m" "$rows" 8 | awk '{ print $1 / 1048576 }' | median)
                    written=$(awk -F'\t' -v k="$kind" -v t="$t" -v m="$m" -v n="$rows" '$1 == k && $2 == t && $3 == m && $5 == n { print $9 + $10 + $11 }' "$RUNS" | median)
                    if [[ -z $small_rows ]] || (( rows < small_rows )); then small_rows=$rows small_peak=$peak; fi
                    if [[ -z $big_rows ]] || (( rows > big_rows )); then big_rows=$rows big_peak=$peak; fi
                    echo "| $t | $rows | $nacc | ${LABEL[$m]} | $(wc -l <<<"$secs") | $(median <<<"$secs") | $(fmt "$(awk -v p="$peak" 'BEGIN { print p / 1024 }')") | $(fmt "$wal") | $(fmt "$written") | < 100 MiB: $(mark "$(( peak * 1024 < 104857600 ))") |"
                done <"$SIZELIST"
                if (( nsz > 1 )); then
                    echo "| $t | $small_rows -> $big_rows | | ${LABEL[$m]}: growth | | | $(fmt "$(awk -v a="$small_peak" -v b="$big_peak" 'BEGIN { print (b - a) / 1024 }')" 1) | | | <= 1.3x: $(mark "$(awk -v a="$small_peak" -v b="$big_peak" 'BEGIN { print (b <= 1.3 * a) }')") |"
                fi
            done
        done
    fi
} >"$OUT"
targets=$(grep -o 'PASS\|\*\*FAIL\*\*' "$OUT" | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
echo >>"$OUT"
echo "Targets: ${targets:-none measured}." >>"$OUT"
echo
cat "$OUT"
echo
echo "bench: results in $OUT, raw runs in $RUNS ($(awk -v a="$START" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s)"
