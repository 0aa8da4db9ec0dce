-- pg_datamart: configuration and run history. Emitted before every function (bootstrap).
-- Tables are registered with pg_extension_config_dump so pg_dump keeps their rows.
-- Mart tables and their partitions are never members of the extension: user data stays user data.

CREATE SCHEMA dm;
COMMENT ON SCHEMA dm IS 'pg_datamart configuration (sections, tables, column mappings) and run history';

CREATE TABLE dm.section (
    section        text PRIMARY KEY
                   CHECK (section ~ '^[a-z][a-z0-9_]{0,47}$'),
    account_column text NOT NULL CHECK (account_column <> ''),
    account_table  regclass NOT NULL,
    days           integer NOT NULL DEFAULT 7 CHECK (days BETWEEN 0 AND 3660),
    mode           text NOT NULL DEFAULT 'delete_insert' CHECK (mode IN ('delete_insert', 'upsert')),
    server         text NOT NULL DEFAULT 'redshift_prd' CHECK (server <> ''),
    date_column    text NOT NULL DEFAULT 'collected_at' CHECK (date_column <> ''),
    vacuum_policy  text NOT NULL DEFAULT 'wait' CHECK (vacuum_policy IN ('wait', 'skip', 'proceed')),
    vacuum_wait    integer NOT NULL DEFAULT 60 CHECK (vacuum_wait BETWEEN 0 AND 86400),
    storage_parameters text[] NOT NULL
                   DEFAULT '{autovacuum_vacuum_scale_factor=0,autovacuum_vacuum_threshold=200000,autovacuum_analyze_scale_factor=0}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    owner          regrole NOT NULL DEFAULT (CURRENT_USER)::text::regrole,
    unbanned_at    timestamptz
);
COMMENT ON COLUMN dm.section.unbanned_at IS 'when dm_unban last lifted the section''s ban: earlier failures no longer count';
COMMENT ON TABLE dm.section IS 'A named group of mart tables synced together (dm_add_section)';
COMMENT ON COLUMN dm.section.owner IS 'the role that registered the section (dm_add_section); it had, when it registered them, the privileges a sync needs on the section''s tables';
COMMENT ON COLUMN dm.section.storage_parameters IS 'storage parameters of the monthly partitions pg_datamart creates, also applied to the window''s existing partitions';

CREATE TABLE dm.section_table (
    section        text NOT NULL REFERENCES dm.section ON UPDATE CASCADE ON DELETE CASCADE,
    position       integer NOT NULL CHECK (position > 0),
    mart_table     regclass NOT NULL,
    remote_schema  text NOT NULL CHECK (remote_schema <> ''),
    remote_table   text NOT NULL CHECK (remote_table <> ''),
    account_column text CHECK (account_column <> ''),
    PRIMARY KEY (section, mart_table),
    UNIQUE (section, position) DEFERRABLE INITIALLY DEFERRED
);
COMMENT ON TABLE dm.section_table IS 'The mart tables of each section, in sync order (dm_add_table)';

CREATE TABLE dm.column_map (
    mart_table    regclass NOT NULL,
    mart_column   text NOT NULL CHECK (mart_column <> ''),
    remote_column text NOT NULL CHECK (remote_column <> ''),
    source        text NOT NULL DEFAULT 'declared' CHECK (source IN ('declared', 'discovered')),
    PRIMARY KEY (mart_table, mart_column)
);
COMMENT ON TABLE dm.column_map IS 'Mart columns fetched from a differently named warehouse column: declared (dm_map_column) or discovered (dm_discover_columns)';

CREATE TABLE dm.run (
    run_id           bigserial PRIMARY KEY,
    section          text NOT NULL,
    account_ids      text,
    accounts         text[] NOT NULL,
    missing_accounts text[] NOT NULL DEFAULT '{}',
    start_date       date NOT NULL,
    end_date         date NOT NULL,
    mode             text NOT NULL,
    status           text NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'cancelled')),
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    error            text,
    pid              integer NOT NULL,
    resumed_from     bigint,
    note             text,
    warned_at        timestamptz,
    run_by           name,
    sqlstate         text,
    login_role       name,
    CHECK (start_date <= end_date)
);
CREATE INDEX ON dm.run (section, started_at DESC);
COMMENT ON TABLE dm.run IS 'One row per dm_sync call: what was asked, what was resolved, how it ended. Written by the sync''s status writer (a background worker), outside the loading transaction, so it is visible live and survives the sync''s errors, rollbacks and termination';
COMMENT ON COLUMN dm.run.account_ids IS 'account_ids exactly as passed to dm_sync';
COMMENT ON COLUMN dm.run.accounts IS 'the accounts loaded: requested ids present in the section''s account table';
COMMENT ON COLUMN dm.run.missing_accounts IS 'requested ids not in the section''s account table (not loaded)';
COMMENT ON COLUMN dm.run.pid IS 'backend process of the syncing session';
COMMENT ON COLUMN dm.run.run_by IS 'the role that ran the sync (recorded by its status writer; NULL for runs before 0.3.0)';
COMMENT ON COLUMN dm.run.sqlstate IS 'the SQLSTATE of a failed or cancelled run''s error; only failures of the sync''s own work (not lock waits, busy slots, cancels) count towards a ban';
COMMENT ON COLUMN dm.run.login_role IS 'the role the syncing backend logged in as (pg_stat_activity.usename; differs from run_by after SET ROLE), recorded by its status writer; the watchdog checks the backend against it. NULL for runs before 0.5.0';
COMMENT ON COLUMN dm.run.note IS 'why a run was skipped (paused, banned, busy), and what the watchdog did';
COMMENT ON COLUMN dm.run.resumed_from IS 'the failed or cancelled run this one resumes (dm_resume); set to NULL when that run is pruned (no foreign key: a self-reference makes pg_dump warn of circular constraints)';
CREATE INDEX ON dm.run (status) WHERE status = 'running';

CREATE TABLE dm.run_step (
    run_id        bigint NOT NULL REFERENCES dm.run ON DELETE CASCADE,
    position      integer NOT NULL,
    mart_oid      regclass NOT NULL,
    mart_table    text NOT NULL,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
    rows_fetched  bigint,
    rows_deleted  bigint,
    rows_inserted bigint,
    rows_updated  bigint,
    started_at    timestamptz,
    finished_at   timestamptz,
    error         text,
    sqlstate      text,
    note          text,
    remote_pid    integer,
    remote_server text,
    PRIMARY KEY (run_id, position)
);
COMMENT ON COLUMN dm.run_step.remote_server IS 'the foreign server remote_pid runs on (the watchdog cancels it there)';
COMMENT ON COLUMN dm.run_step.mart_oid IS 'the mart table (regclass, so it survives dump and restore)';
COMMENT ON TABLE dm.run_step IS 'One row per table of a run; pending = not started. Written like dm.run, outside the loading transaction';

CREATE TABLE dm.pause (
    section   text PRIMARY KEY,
    paused_at timestamptz NOT NULL DEFAULT now(),
    paused_by text NOT NULL DEFAULT current_user
);
COMMENT ON TABLE dm.pause IS 'Paused sections (dm_pause); section ''*'' pauses all. New syncs of a paused section are skipped';

CREATE TABLE dm.generated_procedure (
    section      text PRIMARY KEY,
    procedure    text NOT NULL,
    fingerprint  text NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE dm.generated_procedure IS 'Procedures created by dm_generate_procedures(), with a fingerprint of the section they describe';

CREATE TABLE dm.access (
    role       regrole PRIMARY KEY,
    access     text NOT NULL CHECK (access IN ('monitor', 'loader', 'admin')),
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL DEFAULT current_user
);
COMMENT ON TABLE dm.access IS 'Who has which pg_datamart access (dm_grant, dm_revoke): monitor, loader (includes monitor) or admin (includes loader). Written only by dm_grant and dm_revoke; dm_generate_procedures grants its procedures to the loaders and admins listed here';

SELECT pg_catalog.pg_extension_config_dump('dm.section', '');
SELECT pg_catalog.pg_extension_config_dump('dm.access', '');
SELECT pg_catalog.pg_extension_config_dump('dm.generated_procedure', '');
SELECT pg_catalog.pg_extension_config_dump('dm.pause', '');
SELECT pg_catalog.pg_extension_config_dump('dm.section_table', '');
SELECT pg_catalog.pg_extension_config_dump('dm.column_map', '');
SELECT pg_catalog.pg_extension_config_dump('dm.run', '');
SELECT pg_catalog.pg_extension_config_dump('dm.run_step', '');
SELECT pg_catalog.pg_extension_config_dump('dm.run_run_id_seq', '');
