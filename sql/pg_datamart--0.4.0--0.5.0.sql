-- pg_datamart 0.4.0 -> 0.5.0 (never edit once released).
-- Security, round two (issue 18).
\echo Use "ALTER EXTENSION pg_datamart UPDATE TO '0.5.0'" to load this file. \quit
