//! `quote`: every name and value reads back exactly, through the inverse parsers of the
//! test tokenizer, whatever characters it holds.

mod common;

use common::*;
use pg_datamart_plan::quote;

/// `ident` quotes every name, doubles embedded quotes, and reads back as the same name.
#[test]
fn ident_round_trips_random_names() {
    cases("ident", 500, |rng| {
        let n = name(rng);
        let q = quote::ident(&n);
        assert!(q.starts_with('"') && q.ends_with('"'), "{q}");
        assert_eq!(parse_ident(&q).unwrap(), n);
        let t = text(rng, 40);
        if !t.is_empty() {
            assert_eq!(parse_ident(&quote::ident(&t)).unwrap(), t);
        }
    });
}

/// `qualified` is exactly two quoted identifiers joined by a dot.
#[test]
fn qualified_is_two_identifiers() {
    cases("qualified", 300, |rng| {
        let (s, t) = (name(rng), name(rng));
        let toks = tokenize(&quote::qualified(&s, &t)).unwrap();
        assert_eq!(
            toks,
            vec![
                Tok::Ident(s.clone()),
                Tok::Punct("."),
                Tok::Ident(t.clone())
            ]
        );
    });
}

/// `local_literal` reads back as the value; it is an `E''` string exactly when the value
/// holds a backslash (so it means the same whatever standard_conforming_strings says).
#[test]
fn local_literal_round_trips_random_text() {
    cases("local_literal", 600, |rng| {
        let v = text(rng, 60);
        let lit = quote::local_literal(&v);
        assert_eq!(parse_local_literal(&lit).unwrap(), v, "{lit}");
        assert_eq!(lit.starts_with("E'"), v.contains('\\'), "{lit}");
        match tokenize(&lit).unwrap().as_slice() {
            [Tok::Str { escaped, .. }] => assert_eq!(*escaped, v.contains('\\')),
            other => panic!("{other:?}"),
        }
    });
    assert_eq!(quote::local_literal(""), "''");
    assert_eq!(quote::local_literal("it's"), "'it''s'");
    assert_eq!(quote::local_literal("a\\b"), "E'a\\\\b'");
    assert_eq!(quote::local_literal_opt(None), "NULL");
    assert_eq!(quote::local_literal_opt(Some("x")), "'x'");
}

/// `remote_literal` refuses exactly the values holding a backslash or a control character
/// (naming the argument "value"); every other value reads back from a plain `'...'` literal
/// without a backslash.
#[test]
fn remote_literal_round_trips_or_refuses() {
    cases("remote_literal", 600, |rng| {
        let v = text(rng, 40);
        let refused = v.chars().any(|c| c == '\\' || c.is_control());
        match quote::remote_literal(&v) {
            Ok(lit) => {
                assert!(!refused, "{v:?} should be refused");
                assert!(!lit.contains('\\') && !lit.starts_with('E'), "{lit}");
                assert_eq!(parse_remote_literal(&lit).unwrap(), v);
            }
            Err(e) => {
                assert!(refused, "{v:?} refused: {}", e.message);
                assert!(e.message.starts_with("value: "), "{}", e.message);
                assert_eq!(e.code.sqlstate(), "22023");
            }
        }
    });
    for bad in ["\\", "a\\'b", "\n", "x\u{0}", "\u{7f}", "\u{9b}", "\r\n"] {
        assert!(quote::remote_literal(bad).is_err(), "{bad:?}");
    }
}

/// `remote_literal_list` is a parenthesized list of the values' literals, in order, and
/// refuses the list when any value is refused.
#[test]
fn remote_literal_list_keeps_order() {
    cases("remote_literal_list", 200, |rng| {
        let ids = account_ids(rng, 12, false);
        let list = quote::remote_literal_list(&ids).unwrap();
        let toks = tokenize(&list).unwrap();
        assert_eq!(toks.first(), Some(&Tok::Punct("(")));
        assert_eq!(toks.last(), Some(&Tok::Punct(")")));
        assert_eq!(literals(&toks), ids);
    });
    assert!(quote::remote_literal_list(&["1".into(), "a\\b".into()]).is_err());
}

/// `local_text_array` is `ARRAY[...]::pg_catalog.text[]` (or `'{}'`) of literals that read
/// back in order.
#[test]
fn local_text_array_round_trips() {
    cases("local_text_array", 200, |rng| {
        let n = rng.below(6);
        let vals: Vec<String> = (0..n).map(|_| text(rng, 20)).collect();
        let sql = quote::local_text_array(&vals);
        assert!(sql.ends_with("::pg_catalog.text[]"), "{sql}");
        let toks = tokenize(&sql).unwrap();
        if vals.is_empty() {
            assert_eq!(literals(&toks), vec!["{}".to_string()]);
        } else {
            assert!(sql.starts_with("ARRAY["));
            assert_eq!(literals(&toks), vals);
        }
    });
}

/// `display_ident` leaves plain lowercase names bare and quotes everything else.
#[test]
fn display_ident_is_bare_only_for_plain_names() {
    for plain in ["facebook_ad_dm", "_x1", "a"] {
        assert_eq!(quote::display_ident(plain), plain);
    }
    for odd in ["Ads", "1d_click", "campaign.id", "a b", "광고", "end\""] {
        assert_eq!(quote::display_ident(odd), quote::ident(odd));
    }
    assert_eq!(quote::display("public", "Odd Name"), "public.\"Odd Name\"");
}

/// `conninfo_value` reads back through libpq's quoting rules (`\\` and `\'` inside '...').
#[test]
fn conninfo_value_round_trips() {
    cases("conninfo_value", 400, |rng| {
        let v = text(rng, 40);
        assert_eq!(parse_conninfo_value(&quote::conninfo_value(&v)).unwrap(), v);
    });
}

/// Secrets are masked whatever their ASCII case in the text.
#[test]
fn secrets_are_masked_case_insensitively() {
    use pg_datamart_plan::error::mask_secrets;
    let secrets = vec!["Hunter2-Secret".to_string()];
    let text =
        "FATAL: password for user \"x\" was HUNTER2-SECRET, hunter2-secret or Hunter2-Secret  ";
    let masked = mask_secrets(&secrets, text);
    assert_eq!(
        masked,
        "FATAL: password for user \"x\" was ********, ******** or ********"
    );
    assert_eq!(mask_secrets(&[String::new()], "abc"), "abc");
    // Non-ASCII text around a secret keeps its characters.
    assert_eq!(
        mask_secrets(&secrets, "광고 hunter2-SECRET 📈"),
        "광고 ******** 📈"
    );
}
