#!/usr/bin/env bash
# pg_datamart benchmark (`make bench`): load one window of a wide and a narrow Facebook table
# from a warehouse database into the mart, several ways, and compare wall-clock times, the
# syncing backend's peak private memory and the WAL each run writes.
#
#   dm_sync    CALL dm_sync('bench_<table>', '0', start, end)          pg_datamart
#   insel      DELETE ...; INSERT ... SELECT * FROM dblink(...) AS t(...)  what a user writes by hand
#   rowloop    CALL rs_bench_<table>_dumps('0', start, end)             the old generated procedures:
#                                                                       dblink + one INSERT per row
#   copy       DELETE ...; psql COPY TO STDOUT | psql COPY FROM STDIN   a COPY pipe
#   localcopy  DELETE ...; COPY ... FROM '<file already on disk>'       the bound: a local COPY
#
# Ratios are to the local-COPY bound measured in the same run (to dm_sync when localcopy is
# not among METHODS). Memory is the peak RssAnon (private anonymous memory, shared buffers not
# included) of the backend that runs the method, sampled every 50 ms from /proc (needs root or
# the postgres user); WAL is pg_current_wal_lsn() after minus before.
#
# Assumes the extension is installed (`cargo pgrx install --release`). Runs a throwaway cluster
# (.ci/pg.sh) holding two databases: `warehouse` (sql/bench/warehouse.sql, built once and reused
# while its row counts match) and `mart` (sql/bench/mart.sql, recreated every run). dblink
# reaches the warehouse over TCP 127.0.0.1, the way it reaches Redshift.
#
# Every method loads the same window for all accounts into the same mart table, which holds
# the previous run's copy of the window: each run deletes it and loads it again. Before each
# timed run: VACUUM (ANALYZE) the table and CHECKPOINT, so all start from the same state.
# Methods are interleaved and their order rotates each repetition. After each run the mart
# table must hold exactly the expected rows, with the same content as the warehouse window
# (count + checksum), or the benchmark fails.
#
# Knobs (environment):
#   ROWS_WIDE=1000000 ROWS_NARROW=1000000  rows in the window (per table)
#   ACCOUNTS=200                           accounts served by the mart
#   REPS=3                                 repetitions per method
#   TABLES="wide narrow"  METHODS="dm_sync insel rowloop localcopy" (copy: also the pipe)
#   VERIFY=full|count                      full: also compare a content checksum
#   BENCH_CLUSTER=bench BENCH_PORT=28818   cluster name / port for .ci/pg.sh
#   KEEP_CLUSTER=1                         leave the cluster running at the end
# Quick smoke run: ROWS_WIDE=20000 ROWS_NARROW=20000 REPS=1 bash .ci/bench.sh
# After the method comparison, each table's window is synced once more by upsert and once by
# delete_insert, unchanged, and the tuples each wrote are read from pg_stat_user_tables.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS_WIDE=${ROWS_WIDE:-1000000}
ROWS_NARROW=${ROWS_NARROW:-1000000}
ACCOUNTS=${ACCOUNTS:-200}
REPS=${REPS:-3}
TABLES=${TABLES:-wide narrow}
METHODS=${METHODS:-dm_sync insel rowloop localcopy}
VERIFY=${VERIFY:-full}
CLUSTER=${BENCH_CLUSTER:-bench}
PORT=${BENCH_PORT:-28818}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

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

die() { echo "bench: $*" >&2; exit 1; }
for v in ROWS_WIDE ROWS_NARROW ACCOUNTS REPS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
(( ROWS_WIDE >= 140 && ROWS_NARROW >= 140 )) || die "ROWS_WIDE and ROWS_NARROW must be >= 140"
for m in $METHODS; do [[ $m =~ ^(dm_sync|insel|rowloop|copy|localcopy)$ ]] || die "unknown method $m (dm_sync insel rowloop copy localcopy)"; done
for t in $TABLES; do [[ $t =~ ^(wide|narrow)$ ]] || die "unknown table $t (wide narrow)"; done
use_ext=0
[[ " $METHODS " == *" dm_sync "* ]] && use_ext=1
if (( use_ext )) && [[ ! -f $("$PG_BIN/pg_config" --sharedir)/extension/pg_datamart.control ]]; then
    die "pg_datamart is not installed (run: cargo pgrx install --release), or set METHODS=\"rowloop copy\""
fi

DIR=$(.ci/pg.sh dir "$CLUSTER")
PSQL=(psql -h 127.0.0.1 -p "$PORT" -U postgres -X -q -v ON_ERROR_STOP=1)
q() { local db=$1; shift; "${PSQL[@]}" -d "$db" -At -c "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

echo "bench: starting cluster $CLUSTER on port $PORT ($DIR)"
.ci/pg.sh start "$CLUSTER" "$PORT" "${SETTINGS[@]}"
if [[ ${KEEP_CLUSTER:-0} != 1 ]]; then trap '.ci/pg.sh stop "$CLUSTER"' EXIT; fi
LOG=$DIR/bench.log
RUNS=$DIR/runs.tsv
OUT=$DIR/results.md
: >"$LOG"
: >"$RUNS"
echo "bench: log in $LOG"

avail_gb=$(df -P --block-size=1G "$DIR" | awk 'NR == 2 { print $4 }')
need_gb=$(( (ROWS_WIDE * 1800 * 6 + ROWS_NARROW * 220 * 6) / 1000000000 + 10 ))
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
declare -A LABEL=([dm_sync]="dm_sync (pg_datamart)" [insel]="INSERT ... SELECT FROM dblink (by hand)"
                  [rowloop]="row-by-row procedure (old)" [copy]="COPY pipe" [localcopy]="local COPY FROM file (bound)")
dm_ok=0   # succeeded dm.run rows expected so far

# Run a step, its output to the log; on failure show the log's tail and stop.
logged() { "$@" >>"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "failed: ${*: -1}"; }; }

settle() {   # same starting state for every run: no dead tuples, fresh statistics, no dirty WAL
    logged q mart "VACUUM (ANALYZE) $1"
    logged q mart "CHECKPOINT"
}

copy_load() {   # table cols: delete the window, then COPY through a pipe
    local mt=${REMOTE[$1]}_dm wt=${REMOTE[$1]} cols=$2
    q mart "DELETE FROM $mt WHERE $WINDOW_SQL" \
        && "${PSQL[@]}" -d warehouse -c "COPY (SELECT $cols FROM public.$wt WHERE collected_at >= '$WS' AND collected_at <= '$WE' AND account_id IN ($ACCLIST)) TO STDOUT" \
            | PGAPPNAME=bench_run "${PSQL[@]}" -d mart -c "COPY $mt ($cols) FROM STDIN"
}

WINDOW_SQL="collected_at BETWEEN '$WS' AND '$WE' AND account_id IN (SELECT account_id FROM facebook_account_dm)"

localcopy_load() {   # table cols: delete the window, then COPY from the file written beforehand
    local mt=${REMOTE[$1]}_dm
    PGAPPNAME=bench_run q mart "DELETE FROM $mt WHERE $WINDOW_SQL; COPY $mt ($2) FROM '$DIR/$1.copy'"
}

insel_load() {   # table cols coldefs: delete the window, then INSERT ... SELECT FROM dblink
    local mt=${REMOTE[$1]}_dm wt=${REMOTE[$1]} remote
    remote="SELECT $2 FROM public.$wt WHERE collected_at >= '$WS' AND collected_at <= '$WE' AND account_id IN ($ACCLIST)"
    PGAPPNAME=bench_run q mart "DELETE FROM $mt WHERE $WINDOW_SQL;
        INSERT INTO $mt ($2) SELECT * FROM dblink('redshift_prd', $(q mart "SELECT quote_literal(\$\$$remote\$\$)")) AS t($3)"
}

# Peak RssAnon (kB) of the backend whose application_name is bench_run, until it exits.
sample_memory() {
    local out=$1 pid="" max=0 v
    for _ in $(seq 1 400); do
        pid=$(q postgres "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench_run' LIMIT 1" 2>/dev/null || true)
        [[ -n $pid ]] && break
        sleep 0.02
    done
    while [[ -n $pid && -r /proc/$pid/status ]]; do
        v=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        [[ -n $v ]] && (( v > max )) && max=$v
        sleep 0.05
    done
    echo "$max" >"$out"
}

checksum_sql() {   # table cols where: count and content checksum of the rows
    if [[ $VERIFY == full ]]; then
        echo "SELECT count(*) || '|' || coalesce(sum(hashtext(ROW($2)::text)::bigint), 0) FROM $1 WHERE $3"
    else
        echo "SELECT count(*) || '|-' FROM $1 WHERE $3"
    fi
}

verify() {   # table method cols expected_checksum
    local t=$1 m=$2 mt=${REMOTE[$1]}_dm got window
    window=$(q mart "SELECT count(*) FROM $mt WHERE collected_at BETWEEN '$WS' AND '$WE' AND account_id IN (SELECT account_id FROM facebook_account_dm)")
    got=$(q mart "$(checksum_sql "$mt" "$3" true)")
    if [[ $window != "${EXPECTED[$t]}" || $got != "$4" ]]; then
        die "$m left $t wrong: window rows $window (expected ${EXPECTED[$t]}), table count|checksum $got (warehouse $4)"
    fi
    if [[ $m == dm_sync ]]; then
        dm_ok=$((dm_ok + 1))
        local ok
        ok=$(q mart "SELECT count(*) FROM dm.run WHERE status = 'succeeded'")
        [[ $ok == "$dm_ok" ]] || die "dm.run shows $ok succeeded runs, expected $dm_ok"
    fi
}

for t in $TABLES; do
    wt=${REMOTE[$t]}
    mt=${wt}_dm
    cols=$(q warehouse "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
                        FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$wt'")
    want=$(q warehouse "$(checksum_sql "public.$wt" "$cols" "collected_at BETWEEN '$WS' AND '$WE' AND account_id IN ($ACCLIST)")")
    [[ ${want%%|*} == "${EXPECTED[$t]}" ]] || die "warehouse window of $wt holds ${want%%|*} rows, expected ${EXPECTED[$t]}"
    coldefs=$(q mart "SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY array_position(string_to_array(replace('$cols', '\"', ''), ', '), a.attname::text))
                        FROM pg_attribute a WHERE a.attrelid = '$mt'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                         AND a.attname::text = ANY (string_to_array(replace('$cols', '\"', ''), ', '))")
    if [[ " $METHODS " == *" localcopy "* ]]; then   # the bound's input, on disk before any timing
        logged q warehouse "COPY (SELECT $cols FROM public.$wt WHERE collected_at >= '$WS' AND collected_at <= '$WE' AND account_id IN ($ACCLIST)) TO '$DIR/$t.copy'"
    fi

    # Warm-up (untimed): two loads, so the table, its index and free space are in the steady
    # state every timed run sees (previous copy of the window present, its old space free).
    echo "bench: $t: warm-up"
    for _ in 1 2; do
        logged copy_load "$t" "$cols"
        settle "$mt"
    done
    verify "$t" warmup "$cols" "$want"

    read -r -a ms <<<"$METHODS"
    n=${#ms[@]}
    for ((r = 1; r <= REPS; r++)); do
        for ((i = 0; i < n; i++)); do
            m=${ms[$(((r - 1 + i) % n))]}
            settle "$mt"
            echo "== $t rep $r $m" >>"$LOG"
            lsn0=$(q mart "SELECT pg_current_wal_lsn()")
            sample_memory "$DIR/mem" &
            sampler=$!
            t0=$(now)
            case $m in
            dm_sync) PGAPPNAME=bench_run logged q mart "CALL dm_sync('bench_$t', '0', '$WS', '$WE')" ;;
            insel) logged insel_load "$t" "$cols" "$coldefs" ;;
            rowloop) PGAPPNAME=bench_run logged q mart "CALL rs_bench_${t}_dumps('0', '$WS', '$WE')" ;;
            copy) logged copy_load "$t" "$cols" ;;
            localcopy) logged localcopy_load "$t" "$cols" ;;
            esac
            secs=$(elapsed "$t0" "$(now)")
            wait "$sampler" || true
            mem_kb=$(cat "$DIR/mem" 2>/dev/null || echo 0)
            wal=$(q mart "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')::bigint")
            verify "$t" "$m" "$cols" "$want"
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$m" "$r" "$secs" "$mem_kb" "$wal" >>"$RUNS"
            printf 'bench: %-6s rep %d/%d  %-9s %9s s  %6s MiB  WAL %s MiB\n' "$t" "$r" "$REPS" "$m" "$secs" \
                "$((mem_kb / 1024))" "$((wal / 1048576))"
        done
    done
done

# ---------------------------------------------------------------------------------------------
# Load modes on unchanged data: each table holds the window already; sync it again by upsert
# (writes only what changed: nothing) and by delete_insert (rewrites every row), and read what
# each wrote from the statistics of the table's partitions.
# ---------------------------------------------------------------------------------------------
MODES_OUT=$DIR/modes.tsv
: >"$MODES_OUT"
stats() {   # table: inserted|updated|deleted|dead tuples of its partitions
    sleep 1   # the previous session's statistics are flushed when its backend exits
    q mart "SELECT sum(n_tup_ins)::bigint || '|' || sum(n_tup_upd)::bigint || '|' || sum(n_tup_del)::bigint || '|' || sum(n_dead_tup)::bigint
              FROM pg_stat_user_tables s JOIN pg_partition_tree('$1') p ON p.relid = s.relid"
}
for t in $TABLES; do
    mt=${REMOTE[$t]}_dm
    for mode in upsert delete_insert; do
        settle "$mt"
        IFS='|' read -r i0 u0 d0 x0 < <(stats "$mt")
        t0=$(now)
        logged q mart "CALL dm_sync('bench_$t', '0', '$WS', '$WE', mode => '$mode')"
        secs=$(elapsed "$t0" "$(now)")
        IFS='|' read -r i1 u1 d1 x1 < <(stats "$mt")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$mode" "$secs" $((i1 - i0)) $((u1 - u0)) $((d1 - d0)) $((x1 - x0)) >>"$MODES_OUT"
        printf 'bench: %-6s unchanged re-sync  %-13s %9s s, dead tuples +%s\n' "$t" "$mode" "$secs" $((x1 - x0))
    done
done

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wide_bytes=$(q warehouse "SELECT (pg_table_size('facebook_ad_creative') / greatest(reltuples, 1))::int FROM pg_class WHERE oid = 'facebook_ad_creative'::regclass")
narrow_bytes=$(q warehouse "SELECT (pg_table_size('facebook_ad_seg_daily_report') / greatest(reltuples, 1))::int FROM pg_class WHERE oid = 'facebook_ad_seg_daily_report'::regclass")
{
    echo "## pg_datamart benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); CPUs (nproc): $(nproc); memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- $PGVERSION"
    echo "- pg_datamart $EXTVERSION; window $WS .. $WE (7 days), $ACCOUNTS accounts, $REPS repetitions (median shown), methods interleaved"
    echo "- wide = facebook_ad_creative (36 columns, ~$wide_bytes bytes/row on disk); narrow = facebook_ad_seg_daily_report (15 columns, ~$narrow_bytes bytes/row)"
    echo "- warehouse and mart in one cluster, dblink over TCP 127.0.0.1; settings: ${SETTINGS[*]} (durability defaults)"
    echo "- each run deletes the previous copy of the window and loads it again; VACUUM + CHECKPOINT before each run"
    echo
    bound_method=dm_sync
    [[ " $METHODS " == *" localcopy "* ]] && bound_method=localcopy
    echo "| table | rows | method | median s | rows/s | x ${LABEL[$bound_method]%% (*} | peak private MiB | WAL MiB | runs (s) |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---|"
    for t in $TABLES; do
        base=""
        if [[ " $METHODS " == *" $bound_method "* ]]; then
            base=$(awk -F'\t' -v t="$t" -v m="$bound_method" '$1 == t && $2 == m { print $4 }' "$RUNS" | median)
        fi
        for m in $METHODS; do
            runs=$(awk -F'\t' -v t="$t" -v m="$m" '$1 == t && $2 == m { print $4 }' "$RUNS")
            med=$(median <<<"$runs")
            mem=$(awk -F'\t' -v t="$t" -v m="$m" '$1 == t && $2 == m { print $5 / 1024 }' "$RUNS" | median)
            wal=$(awk -F'\t' -v t="$t" -v m="$m" '$1 == t && $2 == m { print $6 / 1048576 }' "$RUNS" | median)
            rate=$(awk -v r="${EXPECTED[$t]}" -v s="$med" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
            ratio=-
            [[ -n $base ]] && ratio=$(awk -v s="$med" -v b="$base" 'BEGIN { printf "%.2f", (b > 0 ? s / b : 0) }')
            echo "| $t | ${EXPECTED[$t]} | ${LABEL[$m]} | $med | $rate | $ratio | ${mem%.*} | ${wal%.*} | $(echo $runs | tr ' ' ',' | sed 's/,/, /g') |"
        done
    done
    echo
    echo "Re-syncing an unchanged window (the table already holds it), by mode; tuples written to the table's partitions:"
    echo
    echo "| table | rows | mode | seconds | inserted | updated | deleted | new dead tuples |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|"
    while IFS=$'\t' read -r t mode secs ins upd del dead; do
        echo "| $t | ${EXPECTED[$t]} | $mode | $secs | $ins | $upd | $del | $dead |"
    done <"$MODES_OUT"
} >"$OUT"
echo
cat "$OUT"
echo
echo "bench: results in $OUT, raw runs in $RUNS"
