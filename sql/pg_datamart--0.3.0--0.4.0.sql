-- pg_datamart 0.3.0 -> 0.4.0 (never edit once released).
-- Faults, locks and input: a run is recorded before anything can block, partitions are
-- attached without the parent's ACCESS EXCLUSIVE lock, the warehouse timeout comes from each
-- table's own history, and bad configuration is refused at registration.
\echo Use "ALTER EXTENSION pg_datamart UPDATE TO '0.4.0'" to load this file. \quit
