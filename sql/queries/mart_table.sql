-- The catalog model of one mart table, as JSON for src/catalog.rs. $1 = the table's oid.
-- Columns come from pg_attribute/format_type at call time; dropped columns never appear.
SELECT json_build_object(
    'oid',        c.oid::bigint,
    'schema',     n.nspname,
    'name',       c.relname,
    'relkind',    c.relkind,
    'columns', COALESCE((
        SELECT json_agg(json_build_object(
                   'name',      a.attname,
                   'type_sql',  format_type(a.atttypid, a.atttypmod),
                   'generated', a.attgenerated <> '',
                   'identity',  a.attidentity <> '')
               ORDER BY a.attnum)
        FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::json),
    'mappings', COALESCE((
        SELECT json_object_agg(m.mart_column, m.remote_column)
        FROM dm.column_map m
        WHERE m.mart_table = c.oid), '{}'::json))
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = $1
