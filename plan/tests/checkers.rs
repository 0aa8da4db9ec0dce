//! The test tokenizer and statement checks have teeth: they accept the planner's shapes and
//! refuse each violation they exist to catch, inside or outside quotes as appropriate.

mod common;

use common::*;

const REMOTE_OK: &str = r#"SELECT "a::b", "E'x'" FROM "s"."t" WHERE "d" >= '2024-01-01' AND "d" < '2024-01-02' AND "acct" IN ('1', 'it''s')"#;

#[test]
fn tokenizer_reads_literals_identifiers_and_comments() {
    let t = tokenize(r#"SELECT E'a\\b''c\'d', 'x''y', "q""r", $1, $t$ '" $t$ /* c */ -- tail"#)
        .unwrap();
    assert_eq!(
        t,
        vec![
            Tok::Word("SELECT".into()),
            Tok::Str {
                value: "a\\b'c'd".into(),
                escaped: true
            },
            Tok::Punct(","),
            Tok::Str {
                value: "x'y".into(),
                escaped: false
            },
            Tok::Punct(","),
            Tok::Ident("q\"r".into()),
            Tok::Punct(","),
            Tok::Param("$1".into()),
            Tok::Punct(","),
            Tok::Dollar(" '\" ".into()),
            Tok::Comment(" c ".into()),
            Tok::LineComment(" tail".into()),
        ]
    );
    assert!(tokenize("'open").is_err());
    assert!(tokenize("\"open").is_err());
    assert!(tokenize("E'\\q'").is_err());
    assert_eq!(tokenize("a>=b").unwrap()[1], Tok::Op(">=".into()));
    assert_eq!(tokenize("광고").unwrap()[0], Tok::Other('광'));
}

#[test]
fn remote_check_accepts_the_planner_shape_and_refuses_postgres_syntax() {
    let sel = check_remote(REMOTE_OK).unwrap();
    assert_eq!(sel.columns, ["a::b", "E'x'"]);
    assert_eq!(sel.ids, ["1", "it's"]);
    for bad in [
        REMOTE_OK.replace("'2024-01-01'", "'2024-01-01'::date"),
        REMOTE_OK.replace("'2024-01-01'", "E'2024-01-01'"),
        REMOTE_OK.replace("IN ('1', 'it''s')", "= ANY ('{1}')"),
        REMOTE_OK.replace("'2024-01-01'", "$$2024-01-01$$"),
        REMOTE_OK.replace("'2024-01-01'", "FORMAT('%s', 1)"),
        REMOTE_OK.replace(
            "\"d\" >= '2024-01-01' AND ",
            "\"d\" IS DISTINCT FROM '2024-01-01' AND ",
        ),
        format!("{REMOTE_OK}; DROP TABLE x"),
        format!("{REMOTE_OK} -- x"),
        format!("{REMOTE_OK} /* x */"),
        REMOTE_OK.replace("\"acct\"", "acct"),
        REMOTE_OK.replace("'1'", "'1\\'"),
        REMOTE_OK.replace("'1'", "1"),
        REMOTE_OK.replace("\"a::b\"", "\"a\"::text"),
    ] {
        assert!(check_remote(&bad).is_err(), "accepted: {bad}");
    }
}

#[test]
fn local_check_accepts_qualified_calls_and_refuses_unqualified_ones() {
    let words = LOCAL_WORDS;
    for ok in [
        "SELECT pg_catalog.now()",
        r#"SELECT "ext".dblink('l', 'q') AS r("a" character varying(32), "b" numeric(18,2))"#,
        r#"DELETE FROM "s"."t" WHERE "d" OPERATOR(pg_catalog.>=) '1' AND "a" OPERATOR(pg_catalog.=) ANY (ARRAY['1']::bigint[])"#,
        r#"UPDATE "s"."t" AS m SET "a" = s."a", "updated_at" = pg_catalog.now() FROM pg_temp."dm_stage" AS s WHERE s."k" OPERATOR(pg_catalog.=) m."k""#,
        r#"CREATE TABLE "s"."p" PARTITION OF "s"."t" FOR VALUES FROM ('1') TO ('2') WITH (fillfactor=90)"#,
        r#"ALTER TABLE "s"."p" SET (fillfactor=90)"#,
        r#"SELECT pg_catalog.count(*) OVER () FROM pg_temp."dm_stage" /* any row refuses the load */"#,
        r#"CREATE TEMP TABLE "dm_stage" ("a" text) ON COMMIT DROP"#,
    ] {
        check_local(ok, words).unwrap_or_else(|e| panic!("{e}"));
    }
    for bad in [
        "SELECT now()",
        "SELECT count(*) FROM x",
        r#"SELECT "now"()"#,
        r#"SELECT 1 FROM "s"."t" WHERE "a" = '1'"#,
        r#"SELECT 1 FROM "s"."t" WHERE "a" OPERATOR(public.=) '1'"#,
        r#"SELECT 1 FROM "s"."t" WHERE "a" >= '1'"#,
        "SELECT 1; SELECT 2",
        "SELECT 1 -- c",
        "SELECT 1 /* c */",
        "SELECT $$x$$",
        "SELECT evil",
        r#"UPDATE "s"."t" AS m SET "a" = s."a" WHERE "b" = 1"#,
    ] {
        assert!(check_local(bad, words).is_err(), "accepted: {bad}");
    }
}
