-- Why relation $1 may never be a mart table or an account table, as JSON text (NULL: it may):
-- a system catalog, a table in pg_catalog, information_schema, pg_toast or pg_datamart's schema
-- dm, or a member of any extension (pg_datamart's own configuration, pg_cron's jobs), directly
-- or through its schema. A sync writes its mart tables and reads its account tables with the
-- privileges of whoever runs it (a superuser, say): such a table would let whoever registers it
-- write or read what only the extension or the system may. For src/control/privileges.rs.
SELECT pg_catalog.to_json(CASE
           WHEN c.oid OPERATOR(pg_catalog.<) 16384::pg_catalog.oid
               THEN pg_catalog.format('%s is a system catalog', c.oid::pg_catalog.regclass)
           WHEN n.nspname OPERATOR(pg_catalog.=) ANY ('{pg_catalog,information_schema,pg_toast,dm}'::pg_catalog.name[])
               THEN pg_catalog.format('%s is in schema %s, which belongs to %s', c.oid::pg_catalog.regclass, n.nspname,
                                      CASE WHEN n.nspname OPERATOR(pg_catalog.=) 'dm'::pg_catalog.name THEN 'pg_datamart' ELSE 'the system' END)
           ELSE (SELECT pg_catalog.format('%s belongs to extension %s', c.oid::pg_catalog.regclass, e.extname)
                   FROM pg_catalog.pg_depend d
                   JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                  WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                    AND d.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog.char
                    AND ((d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) c.oid)
                         OR (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) n.oid))
                  LIMIT 1)
       END)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
 WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid
