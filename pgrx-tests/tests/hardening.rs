//! The extension's objects as the catalog shows them: every function pins its search_path,
//! private helpers live in schema dm and cannot be run by PUBLIC, and only the documented API
//! stays in the extension's schema.

use pg_datamart_it::setup;

#[tokio::test]
async fn every_function_pins_its_search_path_and_helpers_are_private() {
    let ctx = setup("it_hardening").await;
    let m = &ctx.mart;
    let routines = "SELECT p.oid, n.nspname, p.proname, p.prokind, p.proconfig, p.proacl
                      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
                      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_datamart'";

    // Functions carry SET search_path; procedures (which COMMIT and cannot) set it per transaction.
    let unpinned = m
        .text(&format!(
            "SELECT string_agg(nspname || '.' || proname, ', ' ORDER BY proname) FROM ({routines}) r
              WHERE prokind <> 'p' AND NOT COALESCE('search_path=pg_catalog, pg_temp' = ANY (proconfig), false)"
        ))
        .await;
    assert_eq!(unpinned, None, "functions without a pinned search_path");
    let procedures_not_pinning = m
        .text(&format!(
            "SELECT string_agg(nspname || '.' || proname, ', ' ORDER BY proname) FROM ({routines}) r
              WHERE prokind = 'p' AND pg_get_functiondef(oid) NOT LIKE '%set_config(''search_path'', ''pg_catalog, pg_temp'', true)%'"
        ))
        .await;
    assert_eq!(
        procedures_not_pinning, None,
        "procedures that do not pin their search_path"
    );

    // Private helpers: in schema dm, not executable by PUBLIC.
    let public_helpers = m
        .text(&format!(
            "SELECT string_agg(nspname || '.' || proname, ', ' ORDER BY proname) FROM ({routines}) r
              WHERE proname LIKE '\\_%' AND (nspname <> 'dm' OR proacl IS NULL
                    OR EXISTS (SELECT 1 FROM aclexplode(proacl) a WHERE a.grantee = 0))"
        ))
        .await;
    assert_eq!(
        public_helpers, None,
        "helpers outside dm or executable by PUBLIC"
    );

    // Only the documented API is in the extension's schema.
    let api = m
        .text(&format!(
            "SELECT string_agg(proname, ',' ORDER BY proname) FROM ({routines}) r WHERE nspname = 'public'"
        ))
        .await
        .unwrap();
    assert_eq!(
        api,
        "dm_add_section,dm_add_table,dm_alter_section,dm_discover_columns,dm_drop_section,\
         dm_generate_procedures,dm_grant,dm_map_column,dm_pause,dm_preview,dm_remove_table,\
         dm_resume,dm_revoke,dm_schedule,dm_sync,dm_unban,dm_unmap_column,dm_unpause,dm_unschedule,\
         dm_watchdog"
    );

    // SECURITY DEFINER only where the work must be the owner's, each with a pinned search_path
    // (checked above) and a narrow purpose: the generated procedures belong to the owner;
    // stale runs are marked failed for readers of dm_status. (The watchdog's note is a status
    // event dm_watchdog records as the owner since 0.5.0; no function writes it.)
    let definers = m
        .text(&format!(
            "SELECT string_agg(nspname || '.' || proname, ',' ORDER BY proname) FROM ({routines}) r
              WHERE (SELECT prosecdef FROM pg_proc WHERE oid = r.oid)"
        ))
        .await;
    assert_eq!(
        definers.as_deref(),
        Some("dm._drop_generated,dm._generate_procedures,dm._reconcile")
    );

    // Generated procedures pin theirs too and call everything by schema.
    m.exec("SELECT * FROM dm_generate_procedures()").await;
    let def = m
        .text("SELECT pg_get_functiondef('dm_sync_fb(text, date, date)'::regprocedure)")
        .await
        .unwrap();
    assert!(
        def.contains("PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);")
            && def.contains("PERFORM dm._check_generated('fb'::pg_catalog.text")
            && def.contains("CALL \"public\".dm_sync('fb'::pg_catalog.text, account_ids"),
        "{def}"
    );
}
