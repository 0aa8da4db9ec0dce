-- pg_datamart 0.4.0 -> 0.5.0 (never edit once released).
-- Security, round two (issue 18).
\echo Use "ALTER EXTENSION pg_datamart UPDATE TO '0.5.0'" to load this file. \quit

-- Bans count only failures of the sync's own work: the run records its error's SQLSTATE.
ALTER TABLE dm.run ADD COLUMN sqlstate text;
COMMENT ON COLUMN dm.run.sqlstate IS 'the SQLSTATE of a failed or cancelled run''s error; only failures of the sync''s own work (not lock waits, busy slots, cancels) count towards a ban';
