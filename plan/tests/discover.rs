//! Column discovery: the demo's declared mappings (Google's dotted names, Naver's camelCase)
//! are exactly what discovery finds from the warehouse's column names.

mod common;

use common::*;
use pg_datamart_plan::discover::{explain_missing, match_columns, matches, truncate63, Matched};
use pg_datamart_plan::MappingSource;
use std::collections::BTreeMap;

/// For every fixture table, hiding its declared mappings and showing discovery the warehouse
/// columns (the mapped names, the rest as is) finds every declared mapping again, and
/// nothing is left unmatched or ambiguous.
#[test]
fn discovery_finds_the_fixtures_mappings() {
    for name in [
        "google_metric",
        "naver_metric",
        "facebook_resource",
        "kakao_resource",
    ] {
        let fx = fixture(name);
        for mart in fx.marts() {
            let remote: Vec<String> = mart
                .fetched_columns()
                .unwrap()
                .iter()
                .map(|c| c.remote.clone())
                .collect();
            let mut bare = mart.clone();
            bare.mappings.clear();
            let r = match_columns(&bare, &BTreeMap::new(), &remote).unwrap();
            assert!(
                r.unmatched_mart.is_empty(),
                "{name}: {:?}",
                r.unmatched_mart
            );
            assert!(
                r.ambiguous.is_empty() && r.unmatched_remote.is_empty(),
                "{name}"
            );
            let found: BTreeMap<String, String> = r
                .mapped
                .iter()
                .map(|(m, w, _)| (m.clone(), w.clone()))
                .collect();
            assert_eq!(found, mart.mappings, "{name}.{}", mart.name);
            for (_, _, how) in &r.mapped {
                assert_eq!(how.source(), MappingSource::Discovered);
            }
            // declared mappings are taken as declared
            let r = match_columns(&bare, &mart.mappings, &remote).unwrap();
            assert!(r.mapped.iter().all(|(_, _, how)| *how == Matched::Declared));
        }
    }
}

/// The matching levels, best first: exact, case, dots, camelCase, run-together, truncated.
#[test]
fn matching_levels() {
    assert!(matches(0, "end", "end"));
    assert!(matches(1, "customerid", "CustomerId"));
    assert!(matches(2, "campaign_id", "campaign.id"));
    assert!(matches(3, "ncc_campaign_id", "nccCampaignId"));
    assert!(matches(4, "adgroupid", "ad_group.id"));
    let long = "metrics.".to_string() + &"x".repeat(70);
    assert!(matches(5, truncate63(&long.replace('.', "_")), &long));
    assert!(!matches(0, "a", "b") && !matches(4, "", "."));
    cases("truncate63", 300, |rng| {
        let n = name(rng);
        let t = truncate63(&n);
        assert!(t.len() <= 63 && n.starts_with(t));
        assert!(n.len() <= 63 || t.len() > 59);
    });
}

/// Two warehouse columns matching one mart column at the same level are reported as
/// ambiguous with both candidates; a missing column is explained with its candidates.
#[test]
fn ambiguous_and_missing_columns_are_explained() {
    let fx = fixture("google_metric");
    let mut mart = fx.mart_tables[0].clone();
    mart.mappings.clear();
    let mut remote: Vec<String> = mart
        .fetched_columns()
        .unwrap()
        .iter()
        .map(|c| c.mart.replace("campaign_id", "campaign.id"))
        .collect();
    remote.push("Campaign.Id".into());
    remote.retain(|r| r != "metrics_clicks");
    remote.push("metrics.clicks_total".into());
    let r = match_columns(&mart, &BTreeMap::new(), &remote).unwrap();
    assert_eq!(
        r.ambiguous,
        [(
            "campaign_id".to_string(),
            vec!["campaign.id".to_string(), "Campaign.Id".to_string()]
        )]
    );
    assert_eq!(
        r.unmatched_mart,
        [(
            "metrics_clicks".to_string(),
            vec!["metrics.clicks_total".to_string()]
        )]
    );
    let why = explain_missing(&mart, &fx.section.tables[0], &remote).unwrap();
    assert!(
        why.contains("\"metrics_clicks\" (candidates: metrics.clicks_total)"),
        "{why}"
    );
}

/// Candidates for an unmatched column are computed from its whole name, even when it holds
/// a space.
#[test]
fn candidates_use_the_whole_column_name() {
    let fx = fixture("kakao_resource");
    let mut mart = fx.mart_tables[2].clone();
    mart.columns.retain(|c| c.name != "url");
    mart.columns[3].name = "ad text".into();
    let mut remote: Vec<String> = mart
        .fetched_columns()
        .unwrap()
        .iter()
        .map(|c| c.remote.clone())
        .filter(|r| r != "ad text")
        .collect();
    remote.push("header".into());
    let r = match_columns(&mart, &BTreeMap::new(), &remote).unwrap();
    assert_eq!(r.unmatched_mart, [("ad text".to_string(), vec![])]);
}
