-- One run and its steps, as JSON for src/status. $1 = run id.
SELECT pg_catalog.json_build_object(
    'run_id', r.run_id, 'section', r.section, 'account_ids', r.account_ids,
    'accounts', r.accounts, 'missing_accounts', r.missing_accounts,
    'start_date', r.start_date, 'end_date', r.end_date, 'mode', r.mode, 'status', r.status,
    'steps', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
                 'position', s.position, 'mart_oid', s.mart_oid::pg_catalog.oid::pg_catalog.int8, 'mart_table', s.mart_table,
                 'status', s.status) ORDER BY s.position)
             FROM dm.run_step s WHERE s.run_id OPERATOR(pg_catalog.=) r.run_id), '[]'::pg_catalog.json))
FROM dm.run r
WHERE r.run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8
