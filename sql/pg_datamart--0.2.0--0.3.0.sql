-- pg_datamart 0.2.0 -> 0.3.0 (never edit once released).
-- Least privilege: status is written by a per-sync background worker as the extension owner
-- (the loopback status connection is gone), nobody else may write dm.run / dm.run_step,
-- access is given with dm_grant / dm_revoke, and PUBLIC can no longer run anything.
\echo Use "ALTER EXTENSION pg_datamart UPDATE TO '0.3.0'" to load this file. \quit

-- >>> status writer
-- Status is written by a background worker per sync (no loopback session, no password).
DROP FUNCTION dm._status_connect(text, text, text);
-- dm_status reconciles stale runs with the owner's rights, so readers need SELECT only.
ALTER FUNCTION dm._reconcile() SECURITY DEFINER;
-- The watchdog's note on a running run (what it did, and when it warned). SECURITY DEFINER so
-- that an admin running dm_watchdog() needs no write access to the run history; it touches
-- only those two columns (appending to the note: the run may have ended by the time its
-- cancellation is noted).
CREATE FUNCTION dm._watchdog_note(p_run bigint, p_note text, p_warned boolean)
RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
UPDATE dm.run
   SET note = pg_catalog.concat_ws('; '::pg_catalog.text, note, p_note),
       warned_at = CASE WHEN p_warned THEN pg_catalog.clock_timestamp() ELSE warned_at END
 WHERE run_id OPERATOR(pg_catalog.=) p_run
$$;
COMMENT ON FUNCTION dm._watchdog_note(bigint, text, boolean) IS
'Adds the watchdog''s note to a run (and the time it warned)';

REVOKE ALL ON FUNCTION dm._watchdog_note(bigint, text, boolean) FROM PUBLIC;
-- Who ran each run (the watchdog checks it, with the pid and the backend start).
ALTER TABLE dm.run ADD COLUMN run_by name;
COMMENT ON COLUMN dm.run.run_by IS 'the role that ran the sync (recorded by its status writer; NULL for runs before 0.3.0)';
-- <<< status writer

-- >>> access
-- Issue 11: access levels (dm_grant / dm_revoke, recorded in dm.access), the owner of each
-- section, generated procedures owned by the extension's owner, and nothing of pg_datamart
-- executable by PUBLIC but dm_grant / dm_revoke (which check their caller). Sections registered
-- before 0.3.0 get as owner the role that runs this update.

ALTER TABLE dm.section ADD COLUMN owner regrole NOT NULL DEFAULT (CURRENT_USER)::text::regrole;
COMMENT ON COLUMN dm.section.owner IS 'the role that registered the section (dm_add_section); it had, when it registered them, the privileges a sync needs on the section''s tables';

CREATE TABLE dm.access (
    role       regrole PRIMARY KEY,
    access     text NOT NULL CHECK (access IN ('monitor', 'loader', 'admin')),
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL DEFAULT current_user
);
COMMENT ON TABLE dm.access IS 'Who has which pg_datamart access (dm_grant, dm_revoke): monitor, loader (includes monitor) or admin (includes loader). Written only by dm_grant and dm_revoke; dm_generate_procedures grants its procedures to the loaders and admins listed here';

SELECT pg_catalog.pg_extension_config_dump('dm.access', '');

CREATE FUNCTION dm."_grant"(
	"role" oid, /* Option < pg_sys :: Oid > */
	"access" TEXT /* Option < & str > */
) RETURNS SETOF TEXT /* String */
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'access_grant_wrapper';

CREATE FUNCTION dm."_revoke"(
	"role" oid, /* Option < pg_sys :: Oid > */
	"access" TEXT /* Option < & str > */
) RETURNS SETOF TEXT /* String */
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'access_revoke_wrapper';

-- The generated procedures belong to the extension's owner: generated and dropped as the owner.
CREATE FUNCTION dm."_drop_generated"(
	"section" TEXT /* & str */
) RETURNS TEXT /* Result < Option < String > , ErrorReport > */
STRICT SECURITY DEFINER
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'drop_generated_of_removed_wrapper';
ALTER FUNCTION dm._generate_procedures() SECURITY DEFINER;

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

-- Procedures generated by 0.2.0 were executable by PUBLIC; dm_grant gives them to loaders.
DO $$
DECLARE
    v_procedure text;
BEGIN
    FOR v_procedure IN
        SELECT g.procedure FROM dm.generated_procedure g
         WHERE pg_catalog.to_regprocedure(g.procedure) IS NOT NULL
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON PROCEDURE %s FROM PUBLIC', v_procedure);
    END LOOP;
END
$$;

-- Nothing is executable by PUBLIC (as in sql/api.sql) ------------------------------------------
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
-- <<< access

-- >>> unban
-- dm_unban(section) lifts a ban: failures before it no longer count.
ALTER TABLE dm.section ADD COLUMN unbanned_at timestamptz;
COMMENT ON COLUMN dm.section.unbanned_at IS 'when dm_unban last lifted the section''s ban: earlier failures no longer count';
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

REVOKE ALL ON FUNCTION @extschema@.dm_unban(text) FROM PUBLIC;
-- <<< unban

-- >>> status rows
-- dm_status shows every running run of a section (parallel runs for disjoint accounts, a run
-- behind a skipped one) and its latest finished run.
CREATE OR REPLACE FUNCTION dm._status_rows()
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

COMMENT ON VIEW @extschema@.dm_status IS
'Per section: every run running now and its latest finished run, with state, progress (tables done / total, the table loading now), rows, duration, rows per second, the previous successful run''s duration and the last error. Reading it first marks failed the runs whose backend is gone';

-- <<< status rows

-- >>> run_step regclass
-- dm.run_step.mart_oid names its table as regclass, so history survives dump and restore
-- (a plain oid pointed at nothing after a restore, and dm_resume said the table was removed).
ALTER TABLE dm.run_step ALTER COLUMN mart_oid TYPE regclass USING mart_oid::regclass;
COMMENT ON COLUMN dm.run_step.mart_oid IS 'the mart table (regclass, so it survives dump and restore)';
-- <<< run_step regclass
-- >>> adversarial
-- Configuration rows an admin writes directly pass the registration checks (dm._config_guard,
-- as in sql/api.sql), so no admin can point another role's sync at a table it cannot register.
CREATE FUNCTION dm."_check_config_write"(
	"account_table" oid, /* Option < pg_sys :: Oid > */
	"server" TEXT, /* Option < & str > */
	"mart_tables" oid[], /* :: std :: option :: Option < Vec < pg_sys :: Oid > > */
	"mode" TEXT /* Option < & str > */
) RETURNS VOID /* Result < (), pgrx :: pg_sys :: panic :: ErrorReport > */
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'check_config_write_wrapper';

-- Rows of the configuration written by an admin directly (it holds INSERT/UPDATE on these
-- tables) pass the same privilege checks as the registration functions, so no admin can make
-- another role's sync load, delete or read a table it could not register itself; and a
-- section's recorded owner is the role that inserted it (a superuser may set it, for restores).
-- Runs as the writing role (a trigger function needs no EXECUTE; dm._check_config_write does).
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
    ELSIF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'section_table'::pg_catalog.name THEN
        -- Renumbering (dm_remove_table) moves positions only: nothing new is reached.
        IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE'::pg_catalog.text
           AND ROW(NEW.section, NEW.mart_table, NEW.remote_schema, NEW.remote_table, NEW.account_column)
               IS NOT DISTINCT FROM ROW(OLD.section, OLD.mart_table, OLD.remote_schema, OLD.remote_table, OLD.account_column) THEN
            RETURN NEW;
        END IF;
        PERFORM dm._check_config_write(NULL, NULL, ARRAY[NEW.mart_table::pg_catalog.oid],
            (SELECT s.mode FROM dm.section s WHERE s.section OPERATOR(pg_catalog.=) NEW.section));
    ELSE
        PERFORM dm._check_config_write(NULL, NULL, ARRAY[NEW.mart_table::pg_catalog.oid], NULL);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION dm._config_guard() IS
'Trigger: a configuration row written directly passes the privilege checks of the registration functions, as the writing role';
CREATE TRIGGER dm_config_guard BEFORE INSERT OR UPDATE ON dm.section
    FOR EACH ROW EXECUTE FUNCTION dm._config_guard();
CREATE TRIGGER dm_config_guard BEFORE INSERT OR UPDATE ON dm.section_table
    FOR EACH ROW EXECUTE FUNCTION dm._config_guard();
CREATE TRIGGER dm_config_guard BEFORE INSERT OR UPDATE ON dm.column_map
    FOR EACH ROW EXECUTE FUNCTION dm._config_guard();
REVOKE ALL ON FUNCTION dm._check_config_write(oid, text, oid[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION dm._config_guard() FROM PUBLIC;
-- <<< adversarial

-- >>> no circular foreign key
-- dm.run.resumed_from referenced dm.run itself, which pg_dump reports as a circular foreign key;
-- housekeeping now clears references to the runs it prunes instead.
ALTER TABLE dm.run DROP CONSTRAINT run_resumed_from_fkey;
COMMENT ON COLUMN dm.run.resumed_from IS 'the failed or cancelled run this one resumes (dm_resume); set to NULL when that run is pruned (no foreign key: a self-reference makes pg_dump warn of circular constraints)';
-- <<< no circular foreign key

-- >>> remote server
-- The foreign server of a step's warehouse backend, so the watchdog cancels the pid there even
-- when the section's server was changed during the run.
ALTER TABLE dm.run_step ADD COLUMN remote_server text;
COMMENT ON COLUMN dm.run_step.remote_server IS 'the foreign server remote_pid runs on (the watchdog cancels it there)';
-- <<< remote server

-- >>> reconcile finished runs
-- A run whose every table was loaded and committed, but whose backend stopped before it
-- recorded the end (a cancel right after the last COMMIT), is succeeded, not failed.
CREATE OR REPLACE FUNCTION dm._reconcile()
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
-- <<< reconcile finished runs
-- >>> null arguments
-- These took only non-Option arguments in Rust, so pgrx made them STRICT and a NULL argument
-- was a silent no-op (dm_drop_section(NULL) returned NULL). They now refuse a NULL themselves
-- with 22004 naming the argument, which needs them called on NULL input.
ALTER FUNCTION dm._drop_section(text) CALLED ON NULL INPUT;
ALTER FUNCTION dm._remove_table(text, oid) CALLED ON NULL INPUT;
ALTER FUNCTION dm._map_column(oid, text, text) CALLED ON NULL INPUT;
ALTER FUNCTION dm._unmap_column(oid, text) CALLED ON NULL INPUT;
ALTER FUNCTION dm._unschedule(text) CALLED ON NULL INPUT;
ALTER FUNCTION dm._resume_begin(bigint) CALLED ON NULL INPUT;
ALTER FUNCTION dm._discover_columns(text) CALLED ON NULL INPUT;
-- <<< null arguments
