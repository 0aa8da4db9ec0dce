-- One section and its tables, in sync order, as JSON for src/catalog.rs. $1 = section name.
SELECT json_build_object(
    'name',           s.section,
    'account_column', s.account_column,
    'account_table',  s.account_table::oid::bigint,
    'account_table_name', COALESCE((SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                                     JOIN pg_namespace n ON n.oid = c.relnamespace
                                    WHERE c.oid = s.account_table), s.account_table::text),
    'days',           s.days,
    'mode',           s.mode,
    'server',         s.server,
    'date_column',    s.date_column,
    'storage_parameters', s.storage_parameters,
    'vacuum_policy',  s.vacuum_policy,
    'vacuum_wait',    s.vacuum_wait,
    'tables', COALESCE((
        SELECT json_agg(json_build_object(
                   'position',       t.position,
                   'mart_table',     t.mart_table::oid::bigint,
                   'mart_table_name', COALESCE((SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                                                  JOIN pg_namespace n ON n.oid = c.relnamespace
                                                 WHERE c.oid = t.mart_table), t.mart_table::text),
                   'remote_schema',  t.remote_schema,
                   'remote_table',   t.remote_table,
                   'account_column', t.account_column)
               ORDER BY t.position)
        FROM dm.section_table t
        WHERE t.section = s.section), '[]'::json))
FROM dm.section s
WHERE s.section = $1
