-- pg_datamart 0.4.0 -> 0.5.0 (never edit once released).
-- Security, round two (issue 18).
\echo Use "ALTER EXTENSION pg_datamart UPDATE TO '0.5.0'" to load this file. \quit

-- Watchdog and forced columns (issue 18 items 7 and low)
-- The run records the role its backend logged in as, which the watchdog checks (SET ROLE
-- leaves it unchanged; read from PostgreSQL's backend status, no pg_read_all_stats needed).
ALTER TABLE dm.run ADD COLUMN login_role name;
COMMENT ON COLUMN dm.run.login_role IS 'the role the syncing backend logged in as (pg_stat_activity.usename; differs from run_by after SET ROLE), recorded by its status writer; the watchdog checks the backend against it. NULL for runs before 0.5.0';
-- dm._watchdog_note is the owner's: dm_watchdog calls it as the owner; no level executes it.
ALTER FUNCTION dm._watchdog_note(bigint, text, boolean) SECURITY INVOKER;
COMMENT ON FUNCTION dm._watchdog_note(bigint, text, boolean) IS
'Adds the watchdog''s note to a run (and the time it warned); called by dm_watchdog as the extension''s owner, executable by no access level';
DO $$
DECLARE
    v_grantee pg_catalog.regrole;
BEGIN
    FOR v_grantee IN
        SELECT DISTINCT a.grantee::pg_catalog.regrole
          FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid OPERATOR(pg_catalog.=) 'dm._watchdog_note(pg_catalog.int8, pg_catalog.text, pg_catalog.bool)'::pg_catalog.regprocedure
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
           AND a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION dm._watchdog_note(bigint, text, boolean) FROM %s', v_grantee);
    END LOOP;
END
$$;
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
