//! Registration input is checked before anything is stored.

use pg_datamart_plan::config::{
    check_days, check_section_name, check_storage, check_vacuum, parse_remote_table,
};

#[test]
fn remote_table_names_parse_like_sql_identifiers() {
    let ok = |s: &str, a: &str, b: &str| {
        assert_eq!(
            parse_remote_table(s).unwrap(),
            (a.to_string(), b.to_string()),
            "{s}"
        )
    };
    ok("facebook_ad", "public", "facebook_ad");
    ok("Ads.Facebook_Ad", "ads", "facebook_ad");
    ok("ads.\"Campaign.Report\"", "ads", "Campaign.Report");
    ok("\"we\"\"ird\".t", "we\"ird", "t");
    for bad in ["", "a.b.c", "a..b", "x\"y", "\"open", "a b", "\"a\"b"] {
        let e = parse_remote_table(bad).expect_err(bad);
        assert!(e.message.starts_with("remote_table: "), "{}", e.message);
    }
}

#[test]
fn section_names_storage_days_and_policies_are_checked() {
    assert!(check_section_name("facebook_resource").is_ok());
    for bad in ["", "Facebook", "1x", "a-b", &"a".repeat(49)] {
        assert!(check_section_name(bad).is_err(), "{bad:?}");
    }
    assert!(check_storage(&["autovacuum_vacuum_threshold=200000".into()]).is_ok());
    for bad in ["x", "=1", "a=", "a=1;DROP", "A=1"] {
        assert!(check_storage(&[bad.to_string()]).is_err(), "{bad:?}");
    }
    assert!(check_days(0).is_ok() && check_days(3660).is_ok());
    assert!(check_days(-1).is_err() && check_days(3661).is_err());
    assert!(check_vacuum(Some("skip"), Some(0)).is_ok());
    let e = check_vacuum(Some("later"), None).unwrap_err();
    assert!(
        e.message.contains("vacuum_policy") && e.message.contains("wait, skip, proceed"),
        "{}",
        e.message
    );
    assert!(check_vacuum(None, Some(86_401)).is_err());
}
