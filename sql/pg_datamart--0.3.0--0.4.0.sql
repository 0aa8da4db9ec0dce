-- pg_datamart 0.3.0 -> 0.4.0 (never edit once released).
-- Faults, locks and input: a run is recorded before anything can wait for a lock on its
-- tables, partitions are attached without the parent's ACCESS EXCLUSIVE lock (next month's
-- ahead of time), the warehouse timeout comes from each table's own history, and storage
-- parameters are checked at registration. All of it is in the library: no SQL object changes
-- (the upgrade test checks that an updated install equals a fresh one).
\echo Use "ALTER EXTENSION pg_datamart UPDATE TO '0.4.0'" to load this file. \quit
