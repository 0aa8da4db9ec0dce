-- The catalog model of one mart table, as JSON for src/catalog.rs. $1 = the table's oid.
-- Read at call time: columns (pg_attribute, format_type; dropped columns never appear), the
-- column mappings, the unique keys usable for upsert, and, for a partitioned table, its
-- partition key and partitions with their bounds and storage parameters, and its tablespace.
SELECT json_build_object(
    'oid',        c.oid::bigint,
    'schema',     n.nspname,
    'name',       c.relname,
    'relkind',    c.relkind,
    'tablespace', (SELECT t.spcname FROM pg_tablespace t WHERE t.oid = c.reltablespace),
    'columns', COALESCE((
        SELECT json_agg(json_build_object(
                   'name',      a.attname,
                   'type_sql',  format_type(a.atttypid, a.atttypmod),
                   'generated', a.attgenerated <> '',
                   'identity',  a.attidentity <> '',
                   'not_null',  a.attnotnull,
                   -- the output function: upsert fingerprints the text it prints
                   'output',    (SELECT json_build_array(pn.nspname, p.proname)
                                   FROM pg_type t
                                   JOIN pg_proc p ON p.oid = t.typoutput
                                   JOIN pg_namespace pn ON pn.oid = p.pronamespace
                                  WHERE t.oid = a.atttypid))
               ORDER BY a.attnum)
        FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::json),
    'mappings', COALESCE((
        SELECT json_object_agg(m.mart_column, m.remote_column)
        FROM dm.column_map m
        WHERE m.mart_table = c.oid), '{}'::json),
    -- unique keys without expressions or predicates, the primary key first
    'keys', COALESCE((
        SELECT json_agg(json_build_object(
                   'name',    ic.relname,
                   'primary', i.indisprimary,
                   'columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum))
               ORDER BY i.indisprimary DESC, i.indnatts, ic.relname)
        FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
          AND NOT (0 = ANY (i.indkey::int2[]))), '[]'::json),
    'partition_strategy', p.partstrat,
    'partition_key', (SELECT json_agg(a.attname ORDER BY k.ord)
                        FROM unnest(p.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum),
    'partitions', COALESCE((
        SELECT json_agg(json_build_object(
                   'schema',     pn.nspname,
                   'name',       pc.relname,
                   'bound',      pg_get_expr(pc.relpartbound, pc.oid),
                   'reloptions', COALESCE(pc.reloptions, '{}'),
                   'partitioned', pc.relkind = 'p')
               ORDER BY pc.relname)
        FROM pg_inherits inh
        JOIN pg_class pc ON pc.oid = inh.inhrelid
        JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE inh.inhparent = c.oid), '[]'::json))
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_partitioned_table p ON p.partrelid = c.oid
WHERE c.oid = $1
