-- The privileges role $3 holds directly on each object, granted by the object's owner (what
-- dm_grant grants and dm_revoke revokes), for src/api/access.rs. $1: catalog kinds (schema,
-- relation, routine), $2: SQL names, in the same order. One JSON element per object, in order:
-- the privilege names, or null when the object does not exist.
WITH named AS (
    SELECT o.ord, o.kind,
           CASE WHEN o.kind OPERATOR(pg_catalog.=) 'schema'::pg_catalog.text THEN pg_catalog.to_regnamespace(o.name)::pg_catalog.oid
                WHEN o.kind OPERATOR(pg_catalog.=) 'routine'::pg_catalog.text THEN pg_catalog.to_regprocedure(o.name)::pg_catalog.oid
                ELSE pg_catalog.to_regclass(o.name)::pg_catalog.oid END AS oid
      FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.text[])) WITH ORDINALITY AS o(kind, name, ord)
), acls AS (
    SELECT n.ord, n.oid,
           COALESCE(s.nspacl, p.proacl, c.relacl) AS acl,
           COALESCE(s.nspowner, p.proowner, c.relowner) AS owner
      FROM named n
      LEFT JOIN pg_catalog.pg_namespace s ON n.kind OPERATOR(pg_catalog.=) 'schema'::pg_catalog.text AND s.oid OPERATOR(pg_catalog.=) n.oid
      LEFT JOIN pg_catalog.pg_proc p ON n.kind OPERATOR(pg_catalog.=) 'routine'::pg_catalog.text AND p.oid OPERATOR(pg_catalog.=) n.oid
      LEFT JOIN pg_catalog.pg_class c ON n.kind OPERATOR(pg_catalog.=) 'relation'::pg_catalog.text AND c.oid OPERATOR(pg_catalog.=) n.oid
)
SELECT COALESCE(pg_catalog.json_agg(
           CASE WHEN a.oid IS NULL THEN NULL
                ELSE COALESCE((SELECT pg_catalog.json_agg(x.privilege_type ORDER BY x.privilege_type)
                                 FROM pg_catalog.aclexplode(a.acl) x
                                WHERE x.grantee OPERATOR(pg_catalog.=) $3::pg_catalog.oid
                                  AND x.grantor OPERATOR(pg_catalog.=) a.owner), '[]'::pg_catalog.json) END
           ORDER BY a.ord), '[]'::pg_catalog.json)
  FROM acls a
