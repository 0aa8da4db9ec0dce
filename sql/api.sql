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

-- Runs still marked running whose backend is gone, or no longer active, become failed.
-- SECURITY DEFINER, so that reading dm_status (which reconciles first) needs SELECT rights
-- only; it writes nothing but that verdict, which any reader could see for itself.
CREATE FUNCTION dm._reconcile()
RETURNS integer LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
WITH gone AS (
    SELECT r.run_id, r.pid,
           -- every table loaded and committed: only the end was not recorded (a cancel or a
           -- stop right after the last COMMIT)
           EXISTS (SELECT 1 FROM dm.run_step d WHERE d.run_id OPERATOR(pg_catalog.=) r.run_id)
           AND NOT EXISTS (SELECT 1 FROM dm.run_step d
                            WHERE d.run_id OPERATOR(pg_catalog.=) r.run_id
                              AND d.status OPERATOR(pg_catalog.<>) ALL ('{succeeded,skipped}'::pg_catalog.text[])) AS done
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
       SET status = CASE WHEN g.done THEN 'succeeded' ELSE 'failed' END,
           finished_at = pg_catalog.clock_timestamp(),
           error = CASE WHEN g.done THEN NULL
                        ELSE pg_catalog.format('backend %s is no longer running this sync (terminated, crashed, or stopped between tables); found by pg_datamart at %s', g.pid, pg_catalog.clock_timestamp()) END,
           note = CASE WHEN g.done
                       THEN pg_catalog.concat_ws('; '::pg_catalog.text, r.note, pg_catalog.format('every table was loaded and committed; backend %s stopped before it recorded the end (found by pg_datamart at %s)', g.pid, pg_catalog.clock_timestamp()))
                       ELSE r.note END
      FROM gone g
     WHERE r.run_id OPERATOR(pg_catalog.=) g.run_id
    RETURNING r.run_id
)
SELECT ((SELECT pg_catalog.count(*) FROM runs) OPERATOR(pg_catalog.+) 0 OPERATOR(pg_catalog.*) (SELECT pg_catalog.count(*) FROM steps))::pg_catalog.int4
$$;
COMMENT ON FUNCTION dm._reconcile() IS
'Marks failed the runs still recorded as running whose backend no longer exists or is no longer active; returns how many';

-- The watchdog's note on a running run (what it did, and when it warned). Executable by the
-- extension's owner only: dm_watchdog (admin) calls it as the owner, in a security-restricted
-- operation, with the note it made itself, so no admin writes the run history or chooses a
-- note. It touches only those two columns (appending to the note: the run may have ended by
-- the time its cancellation is noted).
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
      LEFT JOIN LATERAL (SELECT x.* FROM dm.run x
                          WHERE x.section OPERATOR(pg_catalog.=) s.section AND x.status OPERATOR(pg_catalog.=) 'running'::pg_catalog.text
                         UNION ALL
                         (SELECT y.* FROM dm.run y
                           WHERE y.section OPERATOR(pg_catalog.=) s.section AND y.status OPERATOR(pg_catalog.<>) 'running'::pg_catalog.text
                           ORDER BY y.run_id DESC LIMIT 1)) r ON true
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
     ORDER BY s.section, r.run_id;
END
$$;

CREATE VIEW @extschema@.dm_status AS SELECT * FROM dm._status_rows();
COMMENT ON VIEW @extschema@.dm_status IS
'Per section: every run running now and its latest finished run, with state, progress (tables done / total, the table loading now), rows, duration, rows per second, the previous successful run''s duration and the last error. Reading it first marks failed the runs whose backend is gone';

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

CREATE FUNCTION @extschema@.dm_unban(section text)
RETURNS text LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'pg_datamart: section must not be NULL',
            HINT = 'Pass the banned section: SELECT dm_unban(''facebook_resource'');';
    END IF;
    UPDATE dm.section s SET unbanned_at = pg_catalog.clock_timestamp()
     WHERE s.section OPERATOR(pg_catalog.=) $1;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = pg_catalog.format('pg_datamart: section %s does not exist', $1),
            HINT = 'See dm.section for the registered sections.';
    END IF;
    RETURN pg_catalog.format('section %s unbanned: its failures before now no longer count towards a ban', $1);
END
$$;
COMMENT ON FUNCTION @extschema@.dm_unban(text) IS
'Lifts the ban of a section now (failures before this moment no longer count towards pg_datamart.max_failures)';

CREATE FUNCTION @extschema@.dm_watchdog()
RETURNS TABLE (run_id bigint, section text, action text, detail text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT w.run_id, w.section, w.action, w.detail FROM dm._watchdog() w $$;
COMMENT ON FUNCTION @extschema@.dm_watchdog() IS
'For pg_cron every minute: flags (once) a run longer than pg_datamart.watchdog_warn_factor x the previous successful run of its section, cancels one longer than watchdog_kill_factor x (its warehouse query, else its backend), lists banned sections; runs shorter than watchdog_min_duration are left alone. Returns the actions taken';

-- Access -----------------------------------------------------------------------------------------
-- dm_grant / dm_revoke give and take pg_datamart's own privileges by level (the levels are data:
-- plan/src/access.rs). Every role may call them; they refuse anyone but a superuser or the
-- extension's owner before anything else, with a hint, so that the refusal is not PostgreSQL's
-- bare "permission denied for schema dm".

CREATE FUNCTION @extschema@.dm_grant(role regrole, access text)
RETURNS SETOF text LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_owner name := (SELECT r.rolname FROM pg_catalog.pg_extension e
                       JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) e.extowner
                      WHERE e.extname OPERATOR(pg_catalog.=) 'pg_datamart'::pg_catalog.name);
BEGIN
    IF NOT pg_catalog.pg_has_role(v_owner, 'USAGE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('pg_datamart: role %s may not grant pg_datamart access: only a superuser or the owner of extension pg_datamart (%s) may', CURRENT_USER, v_owner),
            HINT    = pg_catalog.format('Ask %s or a superuser to run SELECT dm_grant(%L, %L);', v_owner, role, access);
    END IF;
    RETURN QUERY SELECT g FROM dm._grant(role::pg_catalog.oid, access) g;
END
$$;
COMMENT ON FUNCTION @extschema@.dm_grant(regrole, text) IS
'Gives a role pg_datamart access: monitor (reads dm_status, dm.run, dm.run_step and the configuration), loader (monitor, plus dm_sync, dm_resume, dm_preview and the generated procedures) or admin (loader, plus the configuration functions). Grants only pg_datamart''s own objects; the mart tables, the account tables, the foreign server and the user mapping are granted the usual way. Idempotent; returns one line per GRANT it ran. Superusers and the extension''s owner only';

CREATE FUNCTION @extschema@.dm_revoke(role regrole, access text DEFAULT NULL)
RETURNS SETOF text LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_owner name := (SELECT r.rolname FROM pg_catalog.pg_extension e
                       JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) e.extowner
                      WHERE e.extname OPERATOR(pg_catalog.=) 'pg_datamart'::pg_catalog.name);
BEGIN
    IF NOT pg_catalog.pg_has_role(v_owner, 'USAGE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('pg_datamart: role %s may not revoke pg_datamart access: only a superuser or the owner of extension pg_datamart (%s) may', CURRENT_USER, v_owner),
            HINT    = pg_catalog.format('Ask %s or a superuser to run SELECT dm_revoke(%L, %L);', v_owner, role, access);
    END IF;
    RETURN QUERY SELECT g FROM dm._revoke(role::pg_catalog.oid, access) g;
END
$$;
COMMENT ON FUNCTION @extschema@.dm_revoke(regrole, text) IS
'Takes pg_datamart access back: the level named and the levels that include it (revoking loader from an admin leaves a monitor; revoking admin leaves a loader); NULL: every level. Idempotent; returns one line per REVOKE it ran. Superusers and the extension''s owner only';

-- Configuration written directly ----------------------------------------------------------------
-- Rows of the configuration written by an admin directly (it holds INSERT/UPDATE on these
-- tables) pass the same privilege checks as the registration functions, so no admin can make
-- another role's sync load, delete or read a table it could not register itself; and a
-- section's recorded owner is the role that inserted it (a superuser may set it, for restores).
-- A write that changes what syncs read from the warehouse (a table registered or pointed
-- elsewhere, a section's server or filter columns changed, a column mapped) is also checked
-- against the warehouse through the writer's own user mapping (dm._check_remote_read): a sync
-- reads with the syncing role's credentials, so no admin can point another role's sync at
-- warehouse data it cannot read itself. The registration functions write through these
-- tables, so this trigger checks them too.
-- Runs as the writing role (a trigger function needs no EXECUTE; the checks it calls do).
CREATE FUNCTION dm._config_guard()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'section'::pg_catalog.name THEN
        IF NOT COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r
                          WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER), false) THEN
            IF TG_OP OPERATOR(pg_catalog.=) 'INSERT'::pg_catalog.text THEN
                NEW.owner := CURRENT_USER::pg_catalog.text::pg_catalog.regrole;
            ELSE
                NEW.owner := OLD.owner;
            END IF;
        END IF;
        PERFORM dm._check_config_write(
            NEW.account_table::pg_catalog.oid,
            CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'INSERT'::pg_catalog.text
                      OR NEW.server IS DISTINCT FROM OLD.server THEN NEW.server END,
            CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'UPDATE'::pg_catalog.text THEN
                 ARRAY(SELECT t.mart_table::pg_catalog.oid FROM dm.section_table t
                        WHERE t.section OPERATOR(pg_catalog.=) OLD.section) END,
            NEW.mode);
        -- A new section has no tables yet; its tables are checked as they are registered.
        IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE'::pg_catalog.text
           AND ROW(NEW.server, NEW.account_column, NEW.date_column)
               IS DISTINCT FROM ROW(OLD.server, OLD.account_column, OLD.date_column) THEN
            PERFORM dm._check_remote_read(OLD.section, NEW.server, NEW.account_column, NEW.date_column,
                                          NULL, NULL, NULL, NULL, NULL, NULL);
        END IF;
    ELSIF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'section_table'::pg_catalog.name THEN
        -- Renumbering (dm_remove_table) moves positions only: nothing new is reached.
        IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE'::pg_catalog.text
           AND ROW(NEW.section, NEW.mart_table, NEW.remote_schema, NEW.remote_table, NEW.account_column)
               IS NOT DISTINCT FROM ROW(OLD.section, OLD.mart_table, OLD.remote_schema, OLD.remote_table, OLD.account_column) THEN
            RETURN NEW;
        END IF;
        PERFORM dm._check_config_write(NULL, NULL, ARRAY[NEW.mart_table::pg_catalog.oid],
            (SELECT s.mode FROM dm.section s WHERE s.section OPERATOR(pg_catalog.=) NEW.section));
        PERFORM dm._check_remote_read(NEW.section, NULL, NULL, NULL, NEW.mart_table::pg_catalog.oid,
                                      NEW.remote_schema, NEW.remote_table, NEW.account_column, NULL, NULL);
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE'::pg_catalog.text THEN
        -- A mapping removed: the mart column is read from the same-named warehouse column,
        -- which the writer must be able to read too.
        PERFORM dm._check_remote_read(NULL, NULL, NULL, NULL, OLD.mart_table::pg_catalog.oid,
                                      NULL, NULL, NULL, OLD.mart_column, NULL);
        RETURN OLD;
    ELSE
        PERFORM dm._check_config_write(NULL, NULL, ARRAY[NEW.mart_table::pg_catalog.oid], NULL);
        IF TG_OP OPERATOR(pg_catalog.=) 'INSERT'::pg_catalog.text
           OR ROW(NEW.mart_table, NEW.mart_column, NEW.remote_column)
              IS DISTINCT FROM ROW(OLD.mart_table, OLD.mart_column, OLD.remote_column) THEN
            PERFORM dm._check_remote_read(NULL, NULL, NULL, NULL, NEW.mart_table::pg_catalog.oid,
                                          NULL, NULL, NULL, NEW.mart_column, NEW.remote_column);
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION dm._config_guard() IS
'Trigger: a configuration row written directly passes the privilege checks of the registration functions, and a write that changes what syncs read from the warehouse is checked through the writer''s own user mapping; as the writing role';
CREATE TRIGGER dm_config_guard BEFORE INSERT OR UPDATE ON dm.section
    FOR EACH ROW EXECUTE FUNCTION dm._config_guard();
CREATE TRIGGER dm_config_guard BEFORE INSERT OR UPDATE ON dm.section_table
    FOR EACH ROW EXECUTE FUNCTION dm._config_guard();
CREATE TRIGGER dm_config_guard BEFORE INSERT OR UPDATE OR DELETE ON dm.column_map
    FOR EACH ROW EXECUTE FUNCTION dm._config_guard();

-- Columns only their API writes -----------------------------------------------------------------
-- Admins hold INSERT/UPDATE on dm.section and dm.pause; the columns below get the value their
-- API would write, whatever the statement says: dm.section.unbanned_at is NULL for a new
-- section and the time of the change when changed (an admin may lift a ban now, as dm_unban
-- does, never disable bans with a time to come); dm.pause.paused_by / paused_at are the role
-- that paused and when (kept when an UPDATE does not change the paused section). A
-- superuser's values are kept (restores). Runs as the writing role; it only sets NEW's columns.
CREATE FUNCTION dm._forced_columns()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r
                  WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER), false) THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'section'::pg_catalog.name THEN
        IF TG_OP OPERATOR(pg_catalog.=) 'INSERT'::pg_catalog.text THEN
            NEW.unbanned_at := NULL;
        ELSIF NEW.unbanned_at IS DISTINCT FROM OLD.unbanned_at THEN
            NEW.unbanned_at := pg_catalog.clock_timestamp();
        END IF;
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'INSERT'::pg_catalog.text
          OR NEW.section IS DISTINCT FROM OLD.section THEN
        NEW.paused_by := CURRENT_USER::pg_catalog.text;
        NEW.paused_at := pg_catalog.now();
    ELSE
        NEW.paused_by := OLD.paused_by;
        NEW.paused_at := OLD.paused_at;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION dm._forced_columns() IS
'Trigger: dm.section.unbanned_at and dm.pause.paused_by / paused_at get the values dm_unban and dm_pause write, whoever writes the row (a superuser''s values are kept)';
CREATE TRIGGER dm_forced_columns BEFORE INSERT OR UPDATE ON dm.section
    FOR EACH ROW EXECUTE FUNCTION dm._forced_columns();
CREATE TRIGGER dm_forced_columns BEFORE INSERT OR UPDATE ON dm.pause
    FOR EACH ROW EXECUTE FUNCTION dm._forced_columns();

-- Nothing is executable by PUBLIC ---------------------------------------------------------------
-- Everything in schema dm is pg_datamart's own, and so is the API: no role but the extension's
-- owner (and superusers) may run any of it until dm_grant gives it a level. dm_grant and
-- dm_revoke stay executable by every role: they check their caller themselves.
REVOKE ALL ON ALL ROUTINES IN SCHEMA dm FROM PUBLIC;
DO $$
DECLARE
    v_routine pg_catalog.regprocedure;
BEGIN
    FOR v_routine IN
        SELECT d.objid::pg_catalog.regprocedure
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
         WHERE e.extname OPERATOR(pg_catalog.=) 'pg_datamart'::pg_catalog.name
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND d.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog.char
           AND d.objid OPERATOR(pg_catalog.<>) ALL (ARRAY['@extschema@.dm_grant(pg_catalog.regrole, pg_catalog.text)'::pg_catalog.regprocedure,
                                                          '@extschema@.dm_revoke(pg_catalog.regrole, pg_catalog.text)'::pg_catalog.regprocedure]::pg_catalog.oid[])
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', v_routine);
    END LOOP;
END
$$;
