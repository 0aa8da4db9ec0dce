-- Why relation $1 may never be a mart table or an account table, as JSON text (NULL: it may):
-- it, or one of its partitions or inheritance children, is not a plain table (a view, a foreign
-- table, a materialized view), is a system catalog, lies in pg_catalog, information_schema,
-- pg_toast or pg_datamart's schema dm, or is a member of any extension (pg_datamart's own
-- configuration, pg_cron's jobs), directly or through its schema. A sync writes its mart tables
-- (and their partitions) and reads its account tables with the privileges of whoever runs it (a
-- superuser, say): such a relation would let whoever registers it, or owns it, have the sync
-- write or read what only the extension or the system may (a foreign partition writes through
-- the syncing role's user mapping; a view runs its owner's functions). The relation itself
-- first, then its descendants. For src/control/privileges.rs.
WITH RECURSIVE tree(oid, depth) AS (
    SELECT $1::pg_catalog.oid, 0
    UNION ALL
    SELECT i.inhrelid, t.depth OPERATOR(pg_catalog.+) 1
      FROM pg_catalog.pg_inherits i JOIN tree t ON i.inhparent OPERATOR(pg_catalog.=) t.oid
), why AS (
    SELECT t.depth, c.oid,
           CASE
           WHEN c.oid OPERATOR(pg_catalog.<) 16384::pg_catalog.oid
               THEN pg_catalog.format('%s is a system catalog', c.oid::pg_catalog.regclass)
           WHEN n.nspname OPERATOR(pg_catalog.=) ANY ('{pg_catalog,information_schema,pg_toast,dm}'::pg_catalog.name[])
               THEN pg_catalog.format('%s is in schema %s, which belongs to %s', c.oid::pg_catalog.regclass, n.nspname,
                                      CASE WHEN n.nspname OPERATOR(pg_catalog.=) 'dm'::pg_catalog.name THEN 'pg_datamart' ELSE 'the system' END)
           WHEN c.relkind OPERATOR(pg_catalog.<>) ALL ('{r,p}'::pg_catalog.char[])
               THEN pg_catalog.format('%s is a %s, not a table',
                                      CASE WHEN t.depth OPERATOR(pg_catalog.>) 0
                                           THEN pg_catalog.format('%s has a partition or child, %s, which', $1::pg_catalog.regclass, c.oid::pg_catalog.regclass)
                                           ELSE c.oid::pg_catalog.regclass::pg_catalog.text END,
                                      CASE c.relkind WHEN 'v' THEN 'view' WHEN 'f' THEN 'foreign table' WHEN 'm' THEN 'materialized view'
                                                     ELSE 'relation of kind ' OPERATOR(pg_catalog.||) c.relkind::pg_catalog.text END)
           ELSE (SELECT pg_catalog.format('%s belongs to extension %s', c.oid::pg_catalog.regclass, e.extname)
                   FROM pg_catalog.pg_depend d
                   JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                  WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                    AND d.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog.char
                    AND ((d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) c.oid)
                         OR (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) n.oid))
                  LIMIT 1)
           END AS reason
      FROM tree t
      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.oid
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
)
SELECT pg_catalog.to_json((SELECT w.reason FROM why w WHERE w.reason IS NOT NULL ORDER BY w.depth, w.oid LIMIT 1))
