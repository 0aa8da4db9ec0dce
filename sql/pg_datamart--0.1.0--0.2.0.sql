-- pg_datamart 0.1.0 -> 0.2.0 (never edit once released).
-- Tables and their rows are unchanged. Every routine is recreated: private helpers move from
-- the extension's schema to schema dm (revoked from PUBLIC), and every function pins
-- search_path = pg_catalog, pg_temp. Routines are dropped and created again, so privileges
-- granted by hand on the 0.1.0 API functions must be granted again.
\echo Use "ALTER EXTENSION pg_datamart UPDATE TO '0.2.0'" to load this file. \quit

DROP VIEW @extschema@.dm_status;
DROP FUNCTION @extschema@._dm_add_section(section text, account_column text, account_table oid, days integer, mode text, server text, date_column text, storage_parameters text[], vacuum_policy text, vacuum_wait integer);
DROP FUNCTION @extschema@._dm_add_table(section text, mart_table oid, remote_table text, account_column text);
DROP FUNCTION @extschema@._dm_alter_section(section text, account_column text, account_table oid, days integer, mode text, server text, date_column text, storage_parameters text[], vacuum_policy text, vacuum_wait integer);
DROP FUNCTION @extschema@._dm_check_generated(section text, fingerprint text);
DROP FUNCTION @extschema@._dm_discover_columns(section text);
DROP FUNCTION @extschema@._dm_drop_section(section text);
DROP FUNCTION @extschema@._dm_generate_procedures();
DROP FUNCTION @extschema@._dm_map_column(mart_table oid, mart_column text, remote_column text);
DROP FUNCTION @extschema@._dm_pause(section text);
DROP FUNCTION @extschema@._dm_preview(section text, account_ids text, start_date date, end_date date, mode text);
DROP FUNCTION @extschema@._dm_reconcile();
DROP FUNCTION @extschema@._dm_remove_table(section text, mart_table oid);
DROP FUNCTION @extschema@._dm_resume_begin(run_id bigint);
DROP FUNCTION @extschema@._dm_run_begin(section text, account_ids text, start_date date, end_date date, mode text);
DROP FUNCTION @extschema@._dm_run_finish(run_id bigint);
DROP PROCEDURE @extschema@._dm_run_steps(IN p_run bigint);
DROP FUNCTION @extschema@._dm_schedule(section text, schedule text, account_ids text);
DROP FUNCTION @extschema@._dm_scrub(text text);
DROP FUNCTION @extschema@._dm_status_connect(link text, connstr text, how text);
DROP FUNCTION @extschema@._dm_status_rows();
DROP FUNCTION @extschema@._dm_step_cancelled(run_id bigint, "position" integer);
DROP FUNCTION @extschema@._dm_step_done(run_id bigint, "position" integer, result jsonb);
DROP FUNCTION @extschema@._dm_step_failed(run_id bigint, "position" integer, sqlstate text, message text);
DROP FUNCTION @extschema@._dm_sync_step(run_id bigint, "position" integer);
DROP FUNCTION @extschema@._dm_unmap_column(mart_table oid, mart_column text);
DROP FUNCTION @extschema@._dm_unpause(section text);
DROP FUNCTION @extschema@._dm_unschedule(section text);
DROP FUNCTION @extschema@._dm_watchdog();
DROP FUNCTION @extschema@.dm_add_section(section text, account_column text, account_table regclass, days integer, mode text, server text, date_column text, storage_parameters text[], vacuum_policy text, vacuum_wait integer);
DROP FUNCTION @extschema@.dm_add_table(section text, mart_table regclass, remote_table text, account_column text);
DROP FUNCTION @extschema@.dm_alter_section(section text, account_column text, account_table regclass, days integer, mode text, server text, date_column text, storage_parameters text[], vacuum_policy text, vacuum_wait integer);
DROP FUNCTION @extschema@.dm_discover_columns(section text);
DROP FUNCTION @extschema@.dm_drop_section(section text);
DROP FUNCTION @extschema@.dm_generate_procedures();
DROP FUNCTION @extschema@.dm_map_column(mart_table regclass, mart_column text, remote_column text);
DROP FUNCTION @extschema@.dm_pause(section text);
DROP FUNCTION @extschema@.dm_preview(section text, account_ids text, start_date date, end_date date, mode text);
DROP FUNCTION @extschema@.dm_remove_table(section text, mart_table regclass);
DROP PROCEDURE @extschema@.dm_resume(IN run_id bigint);
DROP FUNCTION @extschema@.dm_schedule(section text, schedule text, account_ids text);
DROP PROCEDURE @extschema@.dm_sync(IN section text, IN account_ids text, IN start_date date, IN end_date date, IN mode text);
DROP FUNCTION @extschema@.dm_unmap_column(mart_table regclass, mart_column text);
DROP FUNCTION @extschema@.dm_unpause(section text);
DROP FUNCTION @extschema@.dm_unschedule(section text);
DROP FUNCTION @extschema@.dm_watchdog();

/* <begin connected objects> */
-- src/lib.rs:30
CREATE SCHEMA IF NOT EXISTS dm; /* pg_datamart::dm */
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/schedule.rs:58
-- pg_datamart::api::schedule::_schedule
CREATE  FUNCTION dm."_schedule"(
	"section" TEXT, /* & str */
	"schedule" TEXT, /* & str */
	"account_ids" TEXT /* Option < & str > */
) RETURNS bigint /* Result < i64, ErrorReport > */
 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'schedule_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/status/mod.rs:280
-- pg_datamart::status::_scrub
CREATE  FUNCTION dm."_scrub"(
	"text" TEXT /* Option < & str > */
) RETURNS TEXT /* Option < String > */
 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'scrub_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/schedule.rs:89
-- pg_datamart::api::schedule::_unschedule
CREATE  FUNCTION dm."_unschedule"(
	"section" TEXT /* & str */
) RETURNS bool /* Result < bool, ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'unschedule_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/sync.rs:545
-- pg_datamart::api::sync::_preview
CREATE  FUNCTION dm."_preview"(
	"section" TEXT, /* & str */
	"account_ids" TEXT, /* Option < & str > */
	"start_date" date, /* Option < Date > */
	"end_date" date, /* Option < Date > */
	"mode" TEXT /* Option < & str > */
) RETURNS TABLE (
	"mart_table" oid,  /* pgrx :: pg_sys :: Oid */
	"remote_sql" TEXT,  /* String */
	"column_definitions" TEXT,  /* String */
	"local_sql" TEXT  /* String */
)
 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'preview_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/jobs.rs:9
-- pg_datamart::api::jobs::_pause
CREATE  FUNCTION dm."_pause"(
	"section" TEXT /* Option < & str > */
) RETURNS TEXT /* Result < String, ErrorReport > */
 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'pause_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/config.rs:395
-- pg_datamart::api::config::_add_table
CREATE  FUNCTION dm."_add_table"(
	"section" TEXT, /* & str */
	"mart_table" oid, /* pg_sys :: Oid */
	"remote_table" TEXT, /* Option < & str > */
	"account_column" TEXT /* Option < & str > */
) RETURNS TEXT /* Result < String, pgrx :: pg_sys :: panic :: ErrorReport > */
 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'add_table_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/procedures.rs:153
-- pg_datamart::api::procedures::_check_generated
CREATE  FUNCTION dm."_check_generated"(
	"section" TEXT, /* & str */
	"fingerprint" TEXT /* & str */
) RETURNS VOID /* Result < (), ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'check_generated_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/sync.rs:228
-- pg_datamart::api::sync::_run_begin
CREATE  FUNCTION dm."_run_begin"(
	"section" TEXT, /* & str */
	"account_ids" TEXT, /* Option < & str > */
	"start_date" date, /* Option < Date > */
	"end_date" date, /* Option < Date > */
	"mode" TEXT /* Option < & str > */
) RETURNS bigint /* Result < Option < i64 > , ErrorReport > */
 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'run_begin_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/sync.rs:405
-- pg_datamart::api::sync::_step_done
CREATE  FUNCTION dm."_step_done"(
	"run_id" bigint, /* i64 */
	"position" INT, /* i32 */
	"result" jsonb /* JsonB */
) RETURNS VOID /* Result < (), ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'step_done_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/sync.rs:359
-- pg_datamart::api::sync::_sync_step
CREATE  FUNCTION dm."_sync_step"(
	"run_id" bigint, /* i64 */
	"position" INT /* i32 */
) RETURNS jsonb /* Result < JsonB, ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sync_step_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/config.rs:534
-- pg_datamart::api::config::_unmap_column
CREATE  FUNCTION dm."_unmap_column"(
	"mart_table" oid, /* pg_sys :: Oid */
	"mart_column" TEXT /* & str */
) RETURNS TEXT /* Result < String, pgrx :: pg_sys :: panic :: ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'unmap_column_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/jobs.rs:22
-- pg_datamart::api::jobs::_watchdog
CREATE  FUNCTION dm."_watchdog"() RETURNS TABLE (
	"run_id" bigint,  /* Option < i64 > */
	"section" TEXT,  /* String */
	"action" TEXT,  /* String */
	"detail" TEXT  /* String */
)
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'watchdog_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/config.rs:305
-- pg_datamart::api::config::_alter_section
CREATE  FUNCTION dm."_alter_section"(
	"section" TEXT, /* & str */
	"account_column" TEXT, /* Option < & str > */
	"account_table" oid, /* Option < pg_sys :: Oid > */
	"days" INT, /* Option < i32 > */
	"mode" TEXT, /* Option < & str > */
	"server" TEXT, /* Option < & str > */
	"date_column" TEXT, /* Option < & str > */
	"storage_parameters" TEXT[], /* :: std :: option :: Option < Vec < String > > */
	"vacuum_policy" TEXT, /* Option < & str > */
	"vacuum_wait" INT /* Option < i32 > */
) RETURNS TEXT /* Result < String, pgrx :: pg_sys :: panic :: ErrorReport > */
 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'alter_section_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/config.rs:376
-- pg_datamart::api::config::_drop_section
CREATE  FUNCTION dm."_drop_section"(
	"section" TEXT /* & str */
) RETURNS TEXT /* Result < String, pgrx :: pg_sys :: panic :: ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'drop_section_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/config.rs:240
-- pg_datamart::api::config::_add_section
CREATE  FUNCTION dm."_add_section"(
	"section" TEXT, /* & str */
	"account_column" TEXT, /* & str */
	"account_table" oid, /* pg_sys :: Oid */
	"days" INT, /* i32 */
	"mode" TEXT, /* & str */
	"server" TEXT, /* & str */
	"date_column" TEXT, /* & str */
	"storage_parameters" TEXT[], /* :: std :: option :: Option < Vec < String > > */
	"vacuum_policy" TEXT, /* Option < & str > */
	"vacuum_wait" INT /* Option < i32 > */
) RETURNS TEXT /* Result < String, pgrx :: pg_sys :: panic :: ErrorReport > */
 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'add_section_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/config.rs:508
-- pg_datamart::api::config::_map_column
CREATE  FUNCTION dm."_map_column"(
	"mart_table" oid, /* pg_sys :: Oid */
	"mart_column" TEXT, /* & str */
	"remote_column" TEXT /* & str */
) RETURNS TEXT /* Result < String, pgrx :: pg_sys :: panic :: ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'map_column_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/sync.rs:284
-- pg_datamart::api::sync::_resume_begin
CREATE  FUNCTION dm."_resume_begin"(
	"run_id" bigint /* i64 */
) RETURNS bigint /* Result < Option < i64 > , ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'resume_begin_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/sync.rs:454
-- pg_datamart::api::sync::_step_failed
CREATE  FUNCTION dm."_step_failed"(
	"run_id" bigint, /* i64 */
	"position" INT, /* i32 */
	"sqlstate" TEXT, /* & str */
	"message" TEXT /* & str */
) RETURNS TEXT /* Result < String, ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'step_failed_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/config.rs:461
-- pg_datamart::api::config::_remove_table
CREATE  FUNCTION dm."_remove_table"(
	"section" TEXT, /* & str */
	"mart_table" oid /* pg_sys :: Oid */
) RETURNS TEXT /* Result < String, pgrx :: pg_sys :: panic :: ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'remove_table_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/sync.rs:515
-- pg_datamart::api::sync::_run_finish
CREATE  FUNCTION dm."_run_finish"(
	"run_id" bigint /* i64 */
) RETURNS VOID /* Result < (), ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'run_finish_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/sync.rs:494
-- pg_datamart::api::sync::_step_cancelled
CREATE  FUNCTION dm."_step_cancelled"(
	"run_id" bigint, /* i64 */
	"position" INT /* i32 */
) RETURNS VOID /* Result < (), ErrorReport > */
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'step_cancelled_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/jobs.rs:15
-- pg_datamart::api::jobs::_unpause
CREATE  FUNCTION dm."_unpause"(
	"section" TEXT /* Option < & str > */
) RETURNS TEXT /* Result < String, ErrorReport > */
 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'unpause_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/discover.rs:36
-- pg_datamart::api::discover::_discover_columns
CREATE  FUNCTION dm."_discover_columns"(
	"section" TEXT /* & str */
) RETURNS TABLE (
	"mart_table" oid,  /* pgrx :: pg_sys :: Oid */
	"matched" TEXT[],  /* Vec < String > */
	"mapped" TEXT[],  /* Vec < String > */
	"unmatched_mart" TEXT[],  /* Vec < String > */
	"unmatched_remote" TEXT[],  /* Vec < String > */
	"ambiguous" TEXT[]  /* Vec < String > */
)
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'discover_columns_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/api/procedures.rs:88
-- pg_datamart::api::procedures::_generate_procedures
CREATE  FUNCTION dm."_generate_procedures"() RETURNS TABLE (
	"procedure" TEXT,  /* String */
	"section" TEXT,  /* String */
	"action" TEXT  /* String */
)
STRICT  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'generate_procedures_wrapper';
/* </end connected objects> */

/* <begin connected objects> */
-- src/lib.rs:34
-- finalize
-- pg_datamart public API: thin SQL wrappers (regclass arguments, defaults, comments) over the
-- Rust functions, and the dm_sync driver. Emitted last (finalize).

-- Section configuration ------------------------------------------------------------------

CREATE FUNCTION @extschema@.dm_add_section(
    section text, account_column text, account_table regclass, days int DEFAULT 7,
    mode text DEFAULT 'delete_insert', server text DEFAULT 'redshift_prd',
    date_column text DEFAULT 'collected_at', storage_parameters text[] DEFAULT NULL,
    vacuum_policy text DEFAULT 'wait', vacuum_wait int DEFAULT 60)
RETURNS text LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._add_section($1, $2, $3::pg_catalog.oid, $4, $5, $6, $7, $8, $9, $10) $$;
COMMENT ON FUNCTION @extschema@.dm_add_section(text, text, regclass, int, text, text, text, text[], text, int) IS
'Registers a section: its account column, the mart table listing the accounts served, the default window in days, the load mode (delete_insert or upsert), the foreign server of the warehouse, the date column, and the storage parameters of the monthly partitions it creates (NULL: autovacuum_vacuum_scale_factor=0, autovacuum_vacuum_threshold=200000, autovacuum_analyze_scale_factor=0), and what to do when a VACUUM runs on a table about to be loaded (vacuum_policy wait up to vacuum_wait seconds, skip, or proceed)';

CREATE FUNCTION @extschema@.dm_alter_section(
    section text, account_column text DEFAULT NULL, account_table regclass DEFAULT NULL,
    days int DEFAULT NULL, mode text DEFAULT NULL, server text DEFAULT NULL,
    date_column text DEFAULT NULL, storage_parameters text[] DEFAULT NULL,
    vacuum_policy text DEFAULT NULL, vacuum_wait int DEFAULT NULL)
RETURNS text LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._alter_section($1, $2, $3::pg_catalog.oid, $4, $5, $6, $7, $8, $9, $10) $$;
COMMENT ON FUNCTION @extschema@.dm_alter_section(text, text, regclass, int, text, text, text, text[], text, int) IS
'Changes a section; NULL arguments keep their current value';

CREATE FUNCTION @extschema@.dm_drop_section(section text)
RETURNS text LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._drop_section($1) $$;
COMMENT ON FUNCTION @extschema@.dm_drop_section(text) IS
'Removes a section and its table list; mart tables, column mappings and run history are kept';

CREATE FUNCTION @extschema@.dm_add_table(
    section text, mart_table regclass, remote_table text DEFAULT NULL,
    account_column text DEFAULT NULL)
RETURNS text LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._add_table($1, $2::pg_catalog.oid, $3, $4) $$;
COMMENT ON FUNCTION @extschema@.dm_add_table(text, regclass, text, text) IS
'Appends a mart table to a section (sync order = order added); remote_table defaults to the mart name without _dm in schema public; account_column overrides the section''s for this table';

CREATE FUNCTION @extschema@.dm_remove_table(section text, mart_table regclass)
RETURNS text LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._remove_table($1, $2::pg_catalog.oid) $$;
COMMENT ON FUNCTION @extschema@.dm_remove_table(text, regclass) IS
'Removes a mart table from a section (the table itself is kept)';

CREATE FUNCTION @extschema@.dm_map_column(mart_table regclass, mart_column text, remote_column text)
RETURNS text LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._map_column($1::pg_catalog.oid, $2, $3) $$;
COMMENT ON FUNCTION @extschema@.dm_map_column(regclass, text, text) IS
'Declares that a mart column is fetched from a differently named warehouse column (e.g. campaign_id <- "campaign.id")';

CREATE FUNCTION @extschema@.dm_unmap_column(mart_table regclass, mart_column text)
RETURNS text LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._unmap_column($1::pg_catalog.oid, $2) $$;
COMMENT ON FUNCTION @extschema@.dm_unmap_column(regclass, text) IS
'Removes a column mapping: the mart column is fetched from the same-named warehouse column again';

CREATE FUNCTION @extschema@.dm_discover_columns(section text)
RETURNS TABLE (mart_table regclass, matched text[], mapped text[], unmatched_mart text[],
               unmatched_remote text[], ambiguous text[])
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT d.mart_table::pg_catalog.regclass, d.matched, d.mapped, d.unmatched_mart, d.unmatched_remote, d.ambiguous
        FROM dm._discover_columns($1) d $$;
COMMENT ON FUNCTION @extschema@.dm_discover_columns(text) IS
'Reads the warehouse''s information_schema.columns for each table of the section, matches its columns to the mart columns (exact, case, dots to underscores, camelCase to snake_case, run-together, 63-byte truncation), stores the mappings that are needed (declared ones are kept) and reports per table: matched, mapped, unmatched mart columns (with candidates), unmatched warehouse columns, ambiguous mart columns';

-- Preview ----------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.dm_preview(
    section text, account_ids text DEFAULT '0', start_date date DEFAULT NULL,
    end_date date DEFAULT NULL, mode text DEFAULT NULL)
RETURNS TABLE (mart_table regclass, remote_sql text, column_definitions text, local_sql text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT p.mart_table::pg_catalog.regclass, p.remote_sql, p.column_definitions, p.local_sql
        FROM dm._preview($1, $2, $3, $4, $5) p $$;
COMMENT ON FUNCTION @extschema@.dm_preview(text, text, date, date, text) IS
'Shows, per table in sync order, the exact remote SQL, the dblink column-definition list and the local statements dm_sync would run; executes and writes nothing';

-- Status path (see src/status.rs) ----------------------------------------------------------

-- Opens the loopback status connection; a failure becomes an error that says how to fix it.
CREATE FUNCTION dm._status_connect(link text, connstr text, how text)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_dblink  name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                         JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'dblink'::pg_catalog.name);
    v_message text;
    v_detail  text;
BEGIN
    EXECUTE pg_catalog.format('SELECT %I.dblink_connect($1, $2)', v_dblink) USING link, connstr;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
    RAISE EXCEPTION USING
        ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
        MESSAGE = dm._scrub(pg_catalog.format(
            'pg_datamart: cannot open the status connection %s: %s', how,
            pg_catalog.concat_ws(': '::pg_catalog.text, v_message, NULLIF(v_detail, ''::pg_catalog.text)))),
        DETAIL  = 'dm_sync records its progress through a second session on this server, so that status survives the sync''s errors; no data was touched.',
        HINT    = 'Create a foreign server for this database (CREATE SERVER dm_loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host ''127.0.0.1'', port ''<port>'', dbname ''<database>'')) with a user mapping holding the password (CREATE USER MAPPING FOR CURRENT_USER SERVER dm_loopback OPTIONS (user ''<user>'', password ''<password>'')), and SET pg_datamart.status_server = ''dm_loopback'' (ALTER ROLE ... SET makes it permanent).';
END
$$;

-- Runs still marked running whose backend is gone, or no longer active, become failed.
CREATE FUNCTION dm._reconcile()
RETURNS integer LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
WITH gone AS (
    SELECT r.run_id, r.pid
      FROM dm.run r
     WHERE r.status OPERATOR(pg_catalog.=) 'running'::pg_catalog.text
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a
                        WHERE a.pid OPERATOR(pg_catalog.=) r.pid
                          AND a.backend_start OPERATOR(pg_catalog.<=) r.started_at
                          AND (a.state OPERATOR(pg_catalog.=) 'active'::pg_catalog.text OR a.state IS NULL))
       FOR UPDATE OF r SKIP LOCKED
), steps AS (
    UPDATE dm.run_step s
       SET status = 'failed', finished_at = pg_catalog.clock_timestamp(),
           error = pg_catalog.format('the sync''s backend (pid %s) stopped while this table was loading (terminated, crashed or cancelled); its uncommitted changes were rolled back', g.pid)
      FROM gone g
     WHERE s.run_id OPERATOR(pg_catalog.=) g.run_id AND s.status OPERATOR(pg_catalog.=) 'running'::pg_catalog.text
    RETURNING s.run_id
), runs AS (
    UPDATE dm.run r
       SET status = 'failed', finished_at = pg_catalog.clock_timestamp(),
           error = pg_catalog.format('backend %s is no longer running this sync (terminated, crashed, or stopped between tables); found by pg_datamart at %s', g.pid, pg_catalog.clock_timestamp())
      FROM gone g
     WHERE r.run_id OPERATOR(pg_catalog.=) g.run_id
    RETURNING r.run_id
)
SELECT ((SELECT pg_catalog.count(*) FROM runs) OPERATOR(pg_catalog.+) 0 OPERATOR(pg_catalog.*) (SELECT pg_catalog.count(*) FROM steps))::pg_catalog.int4
$$;
COMMENT ON FUNCTION dm._reconcile() IS
'Marks failed the runs still recorded as running whose backend no longer exists or is no longer active; returns how many';

CREATE FUNCTION dm._status_rows()
RETURNS TABLE (section text, run_id bigint, status text, tables_done integer, tables_total integer,
               current_table text, rows_fetched bigint, started_at timestamptz,
               finished_at timestamptz, duration interval, rows_per_second numeric,
               previous_success_duration interval, last_error text, last_error_at timestamptz,
               pid integer)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.current_setting('transaction_read_only') OPERATOR(pg_catalog.=) 'off'::pg_catalog.text THEN
        PERFORM dm._reconcile();
    END IF;
    RETURN QUERY
    SELECT s.section, r.run_id, r.status,
           st.done::pg_catalog.int4, st.total::pg_catalog.int4, st.current_table, st.rows_fetched,
           r.started_at, r.finished_at,
           COALESCE(r.finished_at, pg_catalog.clock_timestamp()) OPERATOR(pg_catalog.-) r.started_at,
           pg_catalog.round(st.rows_fetched::pg_catalog.numeric OPERATOR(pg_catalog./) NULLIF(pg_catalog.date_part('epoch', COALESCE(r.finished_at, pg_catalog.clock_timestamp()) OPERATOR(pg_catalog.-) r.started_at)::pg_catalog.numeric, 0::pg_catalog.numeric), 1),
           prev.duration, err.error, err.finished_at, r.pid
      FROM dm.section s
      LEFT JOIN LATERAL (SELECT x.* FROM dm.run x WHERE x.section OPERATOR(pg_catalog.=) s.section
                          ORDER BY x.run_id DESC LIMIT 1) r ON true
      LEFT JOIN LATERAL (SELECT pg_catalog.count(*) FILTER (WHERE y.status OPERATOR(pg_catalog.=) 'succeeded'::pg_catalog.text) AS done,
                                pg_catalog.count(*) AS total,
                                pg_catalog.min(y.mart_table) FILTER (WHERE y.status OPERATOR(pg_catalog.=) 'running'::pg_catalog.text) AS current_table,
                                COALESCE(pg_catalog.sum(y.rows_fetched), 0)::pg_catalog.int8 AS rows_fetched
                           FROM dm.run_step y WHERE y.run_id OPERATOR(pg_catalog.=) r.run_id) st ON true
      LEFT JOIN LATERAL (SELECT p.finished_at OPERATOR(pg_catalog.-) p.started_at AS duration FROM dm.run p
                          WHERE p.section OPERATOR(pg_catalog.=) s.section AND p.status OPERATOR(pg_catalog.=) 'succeeded'::pg_catalog.text
                            AND p.run_id OPERATOR(pg_catalog.<) r.run_id
                          ORDER BY p.run_id DESC LIMIT 1) prev ON true
      LEFT JOIN LATERAL (SELECT e.error, e.finished_at FROM dm.run e
                          WHERE e.section OPERATOR(pg_catalog.=) s.section AND e.error IS NOT NULL
                          ORDER BY e.run_id DESC LIMIT 1) err ON true
     ORDER BY s.section;
END
$$;

CREATE VIEW @extschema@.dm_status AS SELECT * FROM dm._status_rows();
COMMENT ON VIEW @extschema@.dm_status IS
'Per section: its latest run, state, progress (tables done / total, the table loading now), rows, duration, rows per second, the previous successful run''s duration and the last error. Reading it first marks failed the runs whose backend is gone';

-- Sync -------------------------------------------------------------------------------------
-- The procedures below COMMIT, so they cannot carry a SET clause: every transaction they run
-- starts with a transaction-local search_path of pg_catalog, pg_temp, and every name in them
-- is qualified besides.

-- Loads the pending steps of a run, one transaction per table (shared by dm_sync and dm_resume).
CREATE PROCEDURE dm._run_steps(p_run bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    v_step     record;
    v_result   jsonb;
    v_state    text;
    v_message  text;
    v_detail   text;
    v_hint     text;
    v_failed   text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOR v_step IN
        SELECT s.position FROM dm.run_step s
         WHERE s.run_id OPERATOR(pg_catalog.=) p_run ORDER BY s.position
    LOOP
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        BEGIN
            v_result := dm._sync_step(p_run, v_step.position);
        EXCEPTION
            WHEN query_canceled THEN
                -- The table is rolled back with this block; record it, then let the cancel through.
                PERFORM dm._step_cancelled(p_run, v_step.position);
                RAISE;
            WHEN OTHERS THEN
                -- The table's changes are rolled back with this block; earlier tables stay committed.
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
                v_failed := dm._step_failed(p_run, v_step.position, v_state,
                                pg_catalog.concat_ws(pg_catalog.chr(10), v_message, NULLIF(v_detail, ''::pg_catalog.text)));
        END;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        EXIT WHEN v_failed IS NOT NULL;
        PERFORM dm._step_done(p_run, v_step.position, v_result);
    END LOOP;

    IF v_failed IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = v_state,
            MESSAGE = v_failed,
            DETAIL  = pg_catalog.format('Tables before it are loaded and committed; it and the tables after it are unchanged. See dm.run_step for run %s.', p_run),
            HINT    = pg_catalog.concat_ws(' '::pg_catalog.text, NULLIF(v_hint, ''::pg_catalog.text),
                                           pg_catalog.format('Fix the cause, then CALL dm_resume(%s) to continue from this table.', p_run));
    END IF;

    PERFORM dm._run_finish(p_run);
END
$$;

CREATE PROCEDURE @extschema@.dm_sync(
    section text, account_ids text DEFAULT '0', start_date date DEFAULT NULL,
    end_date date DEFAULT NULL, mode text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    v_run bigint;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    -- Validates the request, opens the status path and records the run; no mart data is touched.
    v_run := dm._run_begin(section, account_ids, start_date, end_date, mode);
    COMMIT;
    IF v_run IS NULL THEN
        RETURN;  -- skipped (paused, banned or busy): recorded in dm.run, no error
    END IF;
    CALL dm._run_steps(v_run);
END
$$;
COMMENT ON PROCEDURE @extschema@.dm_sync(text, text, date, date, text) IS
'Syncs a section from the warehouse, committing after each table: creates the monthly partitions the window needs, then loads the window''s rows for the accounts by delete_insert (delete, insert all) or upsert (delete rows gone upstream, update changed rows, insert new ones); mode overrides the section''s for this call. account_ids: comma list, or ''0''/''''/NULL for every account of the section; window defaults to today minus the section''s days .. today. Must be CALLed outside a transaction block';

CREATE PROCEDURE @extschema@.dm_resume(run_id bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    v_run bigint;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    v_run := dm._resume_begin(run_id);
    COMMIT;
    IF v_run IS NULL THEN
        RETURN;  -- skipped (paused, banned or busy): recorded in dm.run, no error
    END IF;
    CALL dm._run_steps(v_run);
END
$$;
COMMENT ON PROCEDURE @extschema@.dm_resume(bigint) IS
'Reruns a failed or cancelled run from its first unfinished table, with the same accounts, window and mode, as a new run (dm.run.resumed_from = the old run)';

-- Generated procedures and scheduling ----------------------------------------------------------

CREATE FUNCTION @extschema@.dm_generate_procedures()
RETURNS TABLE (procedure text, section text, action text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT g.procedure, g.section, g.action FROM dm._generate_procedures() g $$;
COMMENT ON FUNCTION @extschema@.dm_generate_procedures() IS
'(Re)creates one procedure per section, dm_sync_<section>(account_ids text DEFAULT ''0'', start_date date DEFAULT NULL, end_date date DEFAULT NULL), whose body shows the statements dm_sync runs for it now and which calls dm_sync; drops those of removed sections (only ones it created); leaves unchanged ones alone. Returns one row per procedure: created, replaced, unchanged or dropped. A generated procedure refuses to run once its section has changed, until regenerated';

CREATE FUNCTION @extschema@.dm_schedule(section text, schedule text, account_ids text DEFAULT '0')
RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._schedule($1, $2, $3) $$;
COMMENT ON FUNCTION @extschema@.dm_schedule(text, text, text) IS
'Creates or updates the pg_cron job pg_datamart:<section> that CALLs dm_sync(section, account_ids) on the cron schedule; one job per section; returns the job id. Needs pg_cron in this database';

CREATE FUNCTION @extschema@.dm_unschedule(section text)
RETURNS boolean
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._unschedule($1) $$;
COMMENT ON FUNCTION @extschema@.dm_unschedule(text) IS
'Removes the pg_cron job pg_datamart:<section>; false when there was none';

-- Job control ----------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.dm_pause(section text DEFAULT NULL)
RETURNS text LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._pause($1) $$;
COMMENT ON FUNCTION @extschema@.dm_pause(text) IS
'Pauses a section (NULL: all sections): new syncs are recorded as skipped (paused); running ones finish';

CREATE FUNCTION @extschema@.dm_unpause(section text DEFAULT NULL)
RETURNS text LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT dm._unpause($1) $$;
COMMENT ON FUNCTION @extschema@.dm_unpause(text) IS
'Unpauses a section (NULL: removes every pause, the all-sections one included)';

CREATE FUNCTION @extschema@.dm_watchdog()
RETURNS TABLE (run_id bigint, section text, action text, detail text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT w.run_id, w.section, w.action, w.detail FROM dm._watchdog() w $$;
COMMENT ON FUNCTION @extschema@.dm_watchdog() IS
'For pg_cron every minute: flags (once) a run longer than pg_datamart.watchdog_warn_factor x the previous successful run of its section, cancels one longer than watchdog_kill_factor x (its warehouse query, else its backend), lists banned sections; runs shorter than watchdog_min_duration are left alone. Returns the actions taken';

-- Private helpers ------------------------------------------------------------------------------
-- Everything in schema dm is pg_datamart's own: no role but the extension's owner (and
-- superusers) may run its helpers directly.
REVOKE ALL ON ALL ROUTINES IN SCHEMA dm FROM PUBLIC;
/* </end connected objects> */

