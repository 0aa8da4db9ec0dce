-- pg_datamart public API: thin SQL wrappers (regclass arguments, defaults, comments) over the
-- Rust functions, and the dm_sync driver. Emitted last (finalize).

-- Section configuration ------------------------------------------------------------------

CREATE FUNCTION @extschema@.dm_add_section(
    section text, account_column text, account_table regclass, days int DEFAULT 7,
    mode text DEFAULT 'delete_insert', server text DEFAULT 'redshift_prd',
    date_column text DEFAULT 'collected_at')
RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT @extschema@._dm_add_section($1, $2, $3::oid, $4, $5, $6, $7) $$;
COMMENT ON FUNCTION @extschema@.dm_add_section(text, text, regclass, int, text, text, text) IS
'Registers a section: its account column, the mart table listing the accounts served, the default window in days, the load mode, the foreign server of the warehouse and the date column';

CREATE FUNCTION @extschema@.dm_alter_section(
    section text, account_column text DEFAULT NULL, account_table regclass DEFAULT NULL,
    days int DEFAULT NULL, mode text DEFAULT NULL, server text DEFAULT NULL,
    date_column text DEFAULT NULL)
RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT @extschema@._dm_alter_section($1, $2, $3::oid, $4, $5, $6, $7) $$;
COMMENT ON FUNCTION @extschema@.dm_alter_section(text, text, regclass, int, text, text, text) IS
'Changes a section; NULL arguments keep their current value';

CREATE FUNCTION @extschema@.dm_drop_section(section text)
RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT @extschema@._dm_drop_section($1) $$;
COMMENT ON FUNCTION @extschema@.dm_drop_section(text) IS
'Removes a section and its table list; mart tables, column mappings and run history are kept';

CREATE FUNCTION @extschema@.dm_add_table(
    section text, mart_table regclass, remote_table text DEFAULT NULL,
    account_column text DEFAULT NULL)
RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT @extschema@._dm_add_table($1, $2::oid, $3, $4) $$;
COMMENT ON FUNCTION @extschema@.dm_add_table(text, regclass, text, text) IS
'Appends a mart table to a section (sync order = order added); remote_table defaults to the mart name without _dm in schema public; account_column overrides the section''s for this table';

CREATE FUNCTION @extschema@.dm_remove_table(section text, mart_table regclass)
RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT @extschema@._dm_remove_table($1, $2::oid) $$;
COMMENT ON FUNCTION @extschema@.dm_remove_table(text, regclass) IS
'Removes a mart table from a section (the table itself is kept)';

CREATE FUNCTION @extschema@.dm_map_column(mart_table regclass, mart_column text, remote_column text)
RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT @extschema@._dm_map_column($1::oid, $2, $3) $$;
COMMENT ON FUNCTION @extschema@.dm_map_column(regclass, text, text) IS
'Declares that a mart column is fetched from a differently named warehouse column (e.g. campaign_id <- "campaign.id")';

CREATE FUNCTION @extschema@.dm_unmap_column(mart_table regclass, mart_column text)
RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT @extschema@._dm_unmap_column($1::oid, $2) $$;
COMMENT ON FUNCTION @extschema@.dm_unmap_column(regclass, text) IS
'Removes a column mapping: the mart column is fetched from the same-named warehouse column again';

-- Preview ----------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.dm_preview(
    section text, account_ids text DEFAULT '0', start_date date DEFAULT NULL,
    end_date date DEFAULT NULL)
RETURNS TABLE (mart_table regclass, remote_sql text, column_definitions text, local_sql text)
LANGUAGE sql VOLATILE
AS $$ SELECT p.mart_table::regclass, p.remote_sql, p.column_definitions, p.local_sql
        FROM @extschema@._dm_preview($1, $2, $3, $4) p $$;
COMMENT ON FUNCTION @extschema@.dm_preview(text, text, date, date) IS
'Shows, per table in sync order, the exact remote SQL, the dblink column-definition list and the local statements dm_sync would run; executes and writes nothing';

-- Sync -------------------------------------------------------------------------------------

CREATE PROCEDURE @extschema@.dm_sync(
    section text, account_ids text DEFAULT '0', start_date date DEFAULT NULL,
    end_date date DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    v_run      bigint;
    v_step     record;
    v_state    text;
    v_message  text;
    v_detail   text;
    v_hint     text;
    v_failed   text;
BEGIN
    -- Validates the request and records the run; no mart data is touched.
    v_run := @extschema@._dm_run_begin(section, account_ids, start_date, end_date);
    COMMIT;

    FOR v_step IN
        SELECT s.position FROM dm.run_step s WHERE s.run_id = v_run ORDER BY s.position
    LOOP
        BEGIN
            PERFORM @extschema@._dm_sync_step(v_run, v_step.position);
        EXCEPTION WHEN OTHERS THEN
            -- The table's changes are rolled back with this block; earlier tables stay committed.
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
            v_failed := @extschema@._dm_step_failed(v_run, v_step.position, v_state,
                            concat_ws(E'\n', v_message, NULLIF(v_detail, '')));
        END;
        COMMIT;
        EXIT WHEN v_failed IS NOT NULL;
    END LOOP;

    IF v_failed IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = v_state,
            MESSAGE = v_failed,
            DETAIL  = format('Tables before it are loaded and committed; it and the tables after it are unchanged. See dm.run_step for run %s.', v_run),
            HINT    = COALESCE(NULLIF(v_hint, ''), 'Fix the cause and CALL dm_sync again.');
    END IF;

    PERFORM @extschema@._dm_run_finish(v_run);
    COMMIT;
END
$$;
COMMENT ON PROCEDURE @extschema@.dm_sync(text, text, date, date) IS
'Syncs a section from the warehouse: for each table in order, deletes the window''s rows for the accounts and inserts the fetched rows, committing after each table. account_ids: comma list, or ''0''/''''/NULL for every account of the section; window defaults to today minus the section''s days .. today. Must be CALLed outside a transaction block';
