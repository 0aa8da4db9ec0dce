#!/usr/bin/env bash
# `make demo`: pg_datamart end to end on a throwaway PostgreSQL 15 server.
#
#   1. starts the cluster `demo` (.ci/pg.sh) on 127.0.0.1:$DEMO_PORT (default 28816);
#   2. (re)creates two databases on it:
#        warehouse  the stand-in for Amazon Redshift: Redshift-shaped tables of the eight
#                   sections (sql/demo/warehouse.sql), $DEMO_ACCOUNTS advertisers we serve plus
#                   20 we don't, $DEMO_DAYS days of data ending today;
#        mart       CREATE EXTENSION pg_datamart, then sql/demo/mart.sql: foreign server
#                   redshift_prd, account tables, partitioned mart tables, sections, mappings;
#   3. CALLs dm_sync for every section (rows travel warehouse -> dblink over TCP -> mart);
#   4. checks, per table, that the mart received exactly the warehouse rows of the window for
#      the accounts we serve, and prints the run records (dm.run, dm.run_step);
#   5. leaves the server running so you can look around.
# Expects the extension to be installed already (`make demo` runs `cargo pgrx install` first).
# Runs as root (server commands go through sudo -u postgres) or as any user; needs no stdin.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${DEMO_PORT:-28816}
ACCOUNTS=${DEMO_ACCOUNTS:-200}
DAYS=${DEMO_DAYS:-35}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
SECTIONS=(facebook_resource google_metric facebook_metric google_resource
          naver_metric naver_resource kakao_metric kakao_resource)

psql_() { "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# logged WHAT COMMAND...: output to the demo log; on failure show its tail and stop.
logged() {
    local what=$1; shift
    if ! "$@" >>"$log" 2>&1; then
        tail -n 20 "$log" | sed 's/^/   | /' >&2
        echo "demo: $what failed (full output in $log)" >&2
        exit 1
    fi
}

t_all=$(now)
control="$("$PG_BIN/pg_config" --sharedir)/extension/pg_datamart.control"
if [[ ! -f $control ]]; then
    echo "demo: pg_datamart is not installed ($control is missing). Run 'make demo' (it installs first) or 'make install'." >&2
    exit 1
fi

step "1. PostgreSQL 15 cluster 'demo' on 127.0.0.1:$PORT"
bash .ci/pg.sh start demo "$PORT"
dir=$(bash .ci/pg.sh dir demo)
log="$dir/demo.log"
: >"$log"
echo "   data directory $dir/data, server log $dir/server.log, demo log $log"

step "2. warehouse: Redshift-shaped source tables ($ACCOUNTS served + 20 other advertisers, $DAYS days)"
t=$(now)
logged 'recreating the databases' psql_ -d postgres \
    -c 'DROP DATABASE IF EXISTS mart WITH (FORCE)' -c 'DROP DATABASE IF EXISTS warehouse WITH (FORCE)' \
    -c 'CREATE DATABASE warehouse' -c 'CREATE DATABASE mart'
logged sql/demo/warehouse.sql psql_ -d warehouse -v accounts="$ACCOUNTS" -v days="$DAYS" -f sql/demo/warehouse.sql
psql_ -d warehouse -At -c "
    SELECT format('   %s tables, %s rows, %s, collected_at from %s to %s', count(*),
                  sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', relname),
                                                           false, true, '')))[1]::text::bigint),
                  pg_size_pretty(pg_database_size(current_database())),
                  (SELECT min(collected_at) FROM facebook_campaign), (SELECT max(collected_at) FROM facebook_campaign))
    FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
echo "   built in $(since "$t")"

step "3. mart: CREATE EXTENSION pg_datamart, then sql/demo/mart.sql"
t=$(now)
logged 'CREATE EXTENSION pg_datamart' psql_ -d mart -c 'CREATE EXTENSION pg_datamart CASCADE'
logged sql/demo/mart.sql psql_ -d mart -v wh_port="$PORT" -v accounts="$ACCOUNTS" -f sql/demo/mart.sql
psql_ -d mart -At -c "
    SELECT format('   %s sections, %s mart tables (%s monthly partitions), %s column mappings',
                  (SELECT count(*) FROM dm.section), (SELECT count(*) FROM dm.section_table),
                  (SELECT count(*) FROM pg_inherits i JOIN dm.section_table t ON t.mart_table = i.inhparent),
                  (SELECT count(*) FROM dm.column_map))"
echo "   set up in $(since "$t")"
echo
echo "   What dm_sync will send to the warehouse for google_metric's first table and two accounts"
echo "   (SELECT remote_sql FROM dm_preview('google_metric', '5100000001,5100000002')):"
psql_ -d mart -At -c "SELECT remote_sql FROM dm_preview('google_metric', '5100000001,5100000002') LIMIT 1" \
    | sed 's/ FROM /\nFROM /; s/ WHERE /\nWHERE /' | fold -s -w 92 | sed 's/^/     /'

before=$(psql_ -d mart -At -c 'SELECT coalesce(max(run_id), 0) FROM dm.run')

step "4. CALL dm_sync(section) for every section (default window: today - 7 days .. today)"
failed=()
for s in "${SECTIONS[@]}"; do
    t=$(now)
    printf '   CALL dm_sync(%-22s ' "'$s');"
    if out=$(psql_ -d mart -c "CALL dm_sync('$s')" 2>&1); then
        printf 'ok      %s\n' "$(since "$t")"
    else
        printf 'FAILED  %s\n' "$(since "$t")"
        failed+=("$s")
    fi
    printf '%s\n' "$out" >>"$log"
    # Progress notices (pg_datamart: ...) of the first two calls, to show what a sync says.
    if [[ $s == "${SECTIONS[0]}" || $s == "${SECTIONS[1]}" || $out == *ERROR* ]]; then
        printf '%s\n' "$out" | sed 's/^/       /'
    fi
done

echo
echo "   Asking for accounts we do not serve: 250001 is another advertiser's Kakao account; the"
echo "   warehouse has its rows, but it is not in kakao_account_dm, so nothing of it is loaded:"
echo "   CALL dm_sync('kakao_metric', '200001, 200002, 250001');"
psql_ -d mart -c "CALL dm_sync('kakao_metric', '200001, 200002, 250001')" 2>&1 | tee -a "$log" | sed 's/^/       /' || true
psql_ -d mart -At -c "
    SELECT format('       -> run %s: %s, accounts %s, missing_accounts %s', run_id, status, accounts, missing_accounts)
    FROM dm.run WHERE section = 'kakao_metric' ORDER BY run_id DESC LIMIT 1"

step "5. Did every row arrive? Warehouse vs. mart, per table, same window, accounts we serve"
# Counted independently of pg_datamart's configuration: the warehouse side is a plain
# count(*) over dblink on the warehouse table with its own column names; the mart side counts
# the mart table. 'other advertisers' are warehouse rows of the window that must NOT arrive.
check=$(psql_ -d mart <<'SQL'
\pset footer off
CREATE FUNCTION pg_temp.remote(q text) RETURNS text LANGUAGE sql
AS $$ SELECT v FROM dblink('redshift_prd', q) AS t(v text) $$;
CREATE FUNCTION pg_temp.local(q text) RETURNS text LANGUAGE plpgsql
AS $$ DECLARE v text; BEGIN EXECUTE q INTO v; RETURN v; END $$;

CREATE TEMP TABLE demo_check AS
WITH last_run AS (          -- the latest default-window run of each section
    SELECT DISTINCT ON (section) * FROM dm.run
    WHERE account_ids IS NULL OR account_ids IN ('0', '')
    ORDER BY section, run_id DESC
), step AS (
    SELECT r.run_id, r.section, r.start_date, r.end_date, s.position, s.status,
           s.mart_oid::regclass AS mart_table, c.relname::text AS mart_name,
           s.rows_fetched, s.rows_inserted,
           extract(epoch FROM s.finished_at - s.started_at) AS seconds,
           split_part(r.section, '_', 1) AS network,
           (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
            WHERE a.attrelid = s.mart_oid AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname NOT IN ('id', 'created_at', 'updated_at')) AS mart_columns
    FROM last_run r JOIN dm.run_step s USING (run_id) JOIN pg_class c ON c.oid = s.mart_oid
), spec AS (
    SELECT st.*,
           regexp_replace(mart_name, '_dm$', '') AS wh_table,
           CASE WHEN network = 'google' THEN 'customer.id'
                WHEN mart_name LIKE 'naver%master_report_dm' THEN 'customerid'
                WHEN network = 'naver' THEN 'customer_id'
                ELSE 'account_id' END AS wh_account,
           CASE WHEN mart_name LIKE 'naver%master_report_dm' THEN 'customerid'
                WHEN network IN ('google', 'naver') THEN 'customer_id'
                ELSE 'account_id' END AS mart_account,
           (SELECT string_agg(quote_literal(a), ',') FROM (
                SELECT account_id::text AS a FROM facebook_account_dm WHERE network = 'facebook'
                UNION ALL SELECT customer_id::text FROM google_customer_dm WHERE network = 'google'
                UNION ALL SELECT customer_id::text FROM naver_customer_dm WHERE network = 'naver'
                UNION ALL SELECT account_id::text FROM kakao_account_dm WHERE network = 'kakao') x) AS served
    FROM step st
)
SELECT section, position, mart_name, status, rows_fetched, rows_inserted, seconds,
       pg_temp.remote(format(
           'SELECT count(*) FROM public.%I WHERE collected_at BETWEEN %L AND %L AND %I IN (%s)',
           wh_table, start_date, end_date, wh_account, served))::bigint AS wh_ours,
       pg_temp.remote(format(
           'SELECT count(*) FROM public.%I WHERE collected_at BETWEEN %L AND %L AND %I NOT IN (%s)',
           wh_table, start_date, end_date, wh_account, served))::bigint AS wh_others,
       pg_temp.local(format(
           'SELECT count(*) FROM %s WHERE collected_at BETWEEN %L AND %L',
           mart_table, start_date, end_date))::bigint AS mart_rows,
       pg_temp.local(format(
           'SELECT count(*) FROM %s WHERE collected_at BETWEEN %L AND %L AND %I::text NOT IN (%s)',
           mart_table, start_date, end_date, mart_account, served))::bigint AS mart_others,
       -- Content: md5 over every row as text. Mart columns (bookkeeping aside) have the
       -- warehouse's types in the warehouse's order, so equal data gives equal text.
       pg_temp.remote(format(
           'SELECT md5(string_agg(w::text, E''\n'' ORDER BY w::text)) FROM (SELECT * FROM public.%I'
           ' WHERE collected_at BETWEEN %L AND %L AND %I IN (%s)) w',
           wh_table, start_date, end_date, wh_account, served))
       = pg_temp.local(format(
           'SELECT md5(string_agg(m::text, E''\n'' ORDER BY m::text)) FROM (SELECT %s FROM %s'
           ' WHERE collected_at BETWEEN %L AND %L) m',
           mart_columns, mart_table, start_date, end_date)) AS same_content
FROM spec;

ALTER TABLE demo_check ADD COLUMN ok boolean;
UPDATE demo_check SET ok = coalesce(status = 'succeeded' AND wh_ours = mart_rows AND mart_others = 0
                                    AND rows_fetched = wh_ours AND same_content, false);

\pset title 'Rows of the window: warehouse (ours / other advertisers) vs. what arrived in the mart'
SELECT section, mart_name AS "mart table", status,
       wh_ours AS "warehouse (ours)", wh_others AS "warehouse (others)",
       rows_fetched AS fetched, rows_inserted AS inserted, mart_rows AS "in mart",
       CASE WHEN same_content THEN 'identical' ELSE 'DIFFERENT' END AS "content",
       CASE WHEN ok THEN 'yes' ELSE 'NO' END AS "match"
FROM demo_check ORDER BY section, position;

\pset title 'Totals'
SELECT count(*) AS tables,
       count(*) FILTER (WHERE ok) AS "tables matching",
       sum(wh_ours) AS "warehouse rows (ours)", sum(wh_others) AS "other advertisers' rows (skipped)",
       sum(mart_rows) AS "rows in mart", round(sum(seconds)::numeric, 1) AS "load seconds"
FROM demo_check;

\pset title
\pset format unaligned
\pset tuples_only on
SELECT 'mismatching tables: ' || (count(*) FILTER (WHERE NOT ok) + 8 - count(DISTINCT section))
FROM demo_check;
SQL
)
printf '%s\n' "$check" | grep -v '^mismatching tables: '
mismatch=$(printf '%s\n' "$check" | sed -n 's/^mismatching tables: //p')

step "6. The run records (dm.run, dm.run_step)"
psql_ -d mart -v before="$before" <<'SQL'
\pset footer off
\pset title 'dm.run'
SELECT run_id, section, status, start_date || ' .. ' || end_date AS "window",
       CASE WHEN account_ids IS NULL OR account_ids IN ('0', '') THEN 'all' ELSE account_ids END AS requested,
       cardinality(accounts) AS accounts, cardinality(missing_accounts) AS missing,
       round(extract(epoch FROM finished_at - started_at)::numeric, 2) AS seconds, error
FROM dm.run WHERE run_id > :before ORDER BY run_id;

\pset title 'dm.run_step (rows and seconds per table)'
SELECT s.run_id, s.position AS pos, s.mart_table, s.status, s.rows_fetched AS fetched,
       s.rows_deleted AS deleted, s.rows_inserted AS inserted, s.rows_updated AS updated,
       round(extract(epoch FROM s.finished_at - s.started_at)::numeric, 2) AS seconds, s.error
FROM dm.run_step s WHERE s.run_id > :before ORDER BY s.run_id, s.position;
SQL


step "7. Sync facebook_resource again (upsert): nothing changed upstream, so nothing is written"
before=$(psql_ -d mart -Atc "SELECT coalesce(max(run_id), 0) FROM dm.run")
logged "re-sync of facebook_resource" psql_ -d mart -c "CALL dm_sync('facebook_resource')"
psql_ -d mart -v before="$before" <<'SQL'
\pset footer off
\pset title 'dm.run_step of the re-sync (upsert: only changed rows are written)'
SELECT s.mart_table, s.rows_fetched AS fetched, s.rows_deleted AS deleted,
       s.rows_inserted AS inserted, s.rows_updated AS updated
FROM dm.run_step s WHERE s.run_id > :before ORDER BY s.position;
\pset title 'dm_status: the latest run of each section'
SELECT section, run_id, status, tables_done || '/' || tables_total AS tables, rows_fetched,
       round(extract(epoch FROM duration)::numeric, 2) AS seconds, rows_per_second
FROM dm_status;
SQL

step "Done in $(since "$t_all")"
cat <<EOF
   The demo server keeps running. Connect with:
       psql -h 127.0.0.1 -p $PORT -U postgres mart         # the mart (pg_datamart installed)
       psql -h 127.0.0.1 -p $PORT -U postgres warehouse    # the Redshift stand-in
   Things to try in the mart:
       SELECT * FROM dm_preview('facebook_resource', '100000001');   -- SQL a sync would run
       CALL dm_sync('google_metric', '5100000001', current_date - 30, current_date);
       SELECT * FROM dm_status;                                     -- latest run per section
       SELECT * FROM dm_discover_columns('google_metric');          -- column mapping report
       SELECT * FROM dm.run ORDER BY run_id DESC LIMIT 5;           -- run history
       SELECT * FROM dm.run_step WHERE run_id = (SELECT max(run_id) FROM dm.run);
   Stop it with:  bash .ci/pg.sh stop demo      (or: make demo-stop)
   Full output of the SQL scripts and syncs: $log
EOF

if ((${#failed[@]})) || [[ $mismatch != 0 ]]; then
    echo "demo: FAILED. Sections whose sync failed: ${failed[*]:-none}; tables whose rows do not match (or sections without a run): $mismatch" >&2
    exit 1
fi
