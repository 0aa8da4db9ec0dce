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
-- only those two columns of a run that is still running.
CREATE FUNCTION dm._watchdog_note(p_run bigint, p_note text, p_warned boolean)
RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
UPDATE dm.run
   SET note = pg_catalog.concat_ws('; '::pg_catalog.text, note, p_note),
       warned_at = CASE WHEN p_warned THEN pg_catalog.clock_timestamp() ELSE warned_at END
 WHERE run_id OPERATOR(pg_catalog.=) p_run AND status OPERATOR(pg_catalog.=) 'running'::pg_catalog.text
$$;
COMMENT ON FUNCTION dm._watchdog_note(bigint, text, boolean) IS
'Adds the watchdog''s note to a running run (and the time it warned)';

REVOKE ALL ON FUNCTION dm._watchdog_note(bigint, text, boolean) FROM PUBLIC;
-- Who ran each run (the watchdog checks it, with the pid and the backend start).
ALTER TABLE dm.run ADD COLUMN run_by name;
COMMENT ON COLUMN dm.run.run_by IS 'the role that ran the sync (recorded by its status writer; NULL for runs before 0.3.0)';
-- <<< status writer
