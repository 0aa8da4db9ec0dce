-- pg_datamart 0.4.0 -> 0.5.0 (never edit once released).
-- Security, round two (issue 18).
\echo Use "ALTER EXTENSION pg_datamart UPDATE TO '0.5.0'" to load this file. \quit

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
