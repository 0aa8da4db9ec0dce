-- pg_datamart 0.4.0 -> 0.5.0 (never edit once released).
-- Security, round two (issue 18).
\echo Use "ALTER EXTENSION pg_datamart UPDATE TO '0.5.0'" to load this file. \quit

-- dm.run's comment said status went through a loopback session, replaced in 0.3.0.
COMMENT ON TABLE dm.run IS 'One row per dm_sync call: what was asked, what was resolved, how it ended. Written by the sync''s status writer (a background worker), outside the loading transaction, so it is visible live and survives the sync''s errors, rollbacks and termination';

-- Bans count only failures of the sync's own work: the run records its error's SQLSTATE.
ALTER TABLE dm.run ADD COLUMN sqlstate text;
COMMENT ON COLUMN dm.run.sqlstate IS 'the SQLSTATE of a failed or cancelled run''s error; only failures of the sync''s own work (not lock waits, busy slots, cancels) count towards a ban';

-- Warehouse credentials: dblink's password rule, configuration checked through the writer's own user mapping (issue 18 items 2 and 3)
-- The password rule (a role that is not a superuser needs a non-empty password in its own
-- connection options, and the warehouse must ask for it) is in the library: no SQL object.
-- A configuration write that changes what syncs read from the warehouse is checked through the
-- writer's own user mapping (dm._check_remote_read, called by dm._config_guard), as in
-- sql/api.sql; admins get EXECUTE on the new check as dm_grant gives it.
CREATE FUNCTION dm."_check_remote_read"(
	"section" TEXT, /* Option < & str > */
	"server" TEXT, /* Option < & str > */
	"account_column" TEXT, /* Option < & str > */
	"date_column" TEXT, /* Option < & str > */
	"mart_table" oid, /* Option < pg_sys :: Oid > */
	"remote_schema" TEXT, /* Option < & str > */
	"remote_table" TEXT, /* Option < & str > */
	"table_account_column" TEXT, /* Option < & str > */
	"mart_column" TEXT, /* Option < & str > */
	"remote_column" TEXT /* Option < & str > */
) RETURNS VOID /* Result < (), pgrx :: pg_sys :: panic :: ErrorReport > */
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'check_remote_read_wrapper';
REVOKE ALL ON FUNCTION dm._check_remote_read(text, text, text, text, oid, text, text, text, text, text) FROM PUBLIC;
DO $$
DECLARE
    v_role pg_catalog.regrole;
BEGIN
    FOR v_role IN SELECT a.role FROM dm.access a WHERE a.access OPERATOR(pg_catalog.=) 'admin'::pg_catalog.text LOOP
        EXECUTE pg_catalog.format(
            'GRANT EXECUTE ON FUNCTION dm._check_remote_read(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text) TO %s',
            v_role);
    END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION dm._config_guard()
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
-- Removing a column mapping changes what syncs read too: checked like adding one.
DROP TRIGGER dm_config_guard ON dm.column_map;
CREATE TRIGGER dm_config_guard BEFORE INSERT OR UPDATE OR DELETE ON dm.column_map
    FOR EACH ROW EXECUTE FUNCTION dm._config_guard();

-- Watchdog and forced columns (issue 18 items 7 and low)
-- The run records the role its backend logged in as, which the watchdog checks (SET ROLE
-- leaves it unchanged; read from PostgreSQL's backend status, no pg_read_all_stats needed).
ALTER TABLE dm.run ADD COLUMN login_role name;
COMMENT ON COLUMN dm.run.login_role IS 'the role the syncing backend logged in as (pg_stat_activity.usename; differs from run_by after SET ROLE), recorded by its status writer; the watchdog checks the backend against it. NULL for runs before 0.5.0';
-- The watchdog's notes are status events its own session records as the owner (src/status/),
-- built by the planner: the helper function that wrote them goes.
DROP FUNCTION dm._watchdog_note(bigint, text, boolean);
-- Columns only their API writes: dm.section.unbanned_at, dm.pause.paused_by / paused_at.
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
REVOKE ALL ON FUNCTION dm._forced_columns() FROM PUBLIC;
