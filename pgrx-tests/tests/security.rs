//! Search-path hijacks (CVE-2018-1058): an unprivileged role that may create objects in schema
//! public plants look-alikes of built-in functions, aggregates and operators there, with
//! argument types that match exactly where pg_catalog's candidate is variadic, polymorphic or
//! needs an implicit cast. Each look-alike logs (its signature, current_user, the API step) to
//! public.hijack_log, warns the caller (which survives a rollback), and returns what the
//! built-in returns, so a hijack never breaks the flow, it only shows up. After a positive
//! control (every look-alike is hit by a naive query), the whole public API runs as the
//! superuser with the default search_path, in fresh sessions, and must never call one of them.

use pg_datamart_it::{assert_error, describe, setup, wait_until, Ctx, Session};
use tokio_postgres::error::{DbError, SqlState};

const EVIL: &str = "dm_evil";

/// Run as the superuser before planting: the log, the step marker that says which API call is
/// running (read by the look-alikes, also in the loopback status session), the evil role.
const LOG_SETUP: &str = "
    CREATE TABLE public.hijack_log (what text, by_role text, during text,
                                    at timestamptz DEFAULT clock_timestamp());
    CREATE TABLE public.hijack_step (step text);
    INSERT INTO public.hijack_step VALUES ('setup');
    GRANT SELECT, INSERT ON public.hijack_log TO PUBLIC;
    GRANT SELECT ON public.hijack_step TO PUBLIC;
    DO $$ BEGIN CREATE ROLE dm_evil NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
    GRANT CREATE, USAGE ON SCHEMA public TO dm_evil;";

/// The logger every look-alike calls: a row in public.hijack_log (once per signature and API
/// step), and a WARNING to the calling client, which survives when the calling transaction
/// rolls back (error paths). Everything in the look-alikes is schema-qualified, so they never
/// call each other.
const EVIL_NOTE: &str = "
    CREATE FUNCTION public.evil_note(sig text) RETURNS void LANGUAGE plpgsql AS $p$
    DECLARE
        n bigint;
    BEGIN
        INSERT INTO public.hijack_log (what, by_role, during)
        SELECT sig, current_user, (SELECT h.step FROM public.hijack_step h)
         WHERE NOT EXISTS (
               SELECT 1 FROM public.hijack_log l
                WHERE l.what OPERATOR(pg_catalog.=) sig
                  AND COALESCE(l.during, '') OPERATOR(pg_catalog.=)
                      COALESCE((SELECT h.step FROM public.hijack_step h), ''));
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n OPERATOR(pg_catalog.>) 0 THEN
            RAISE WARNING 'hijack: % ran as %', sig, current_user;
        END IF;
    END
    $p$;";

/// Look-alike functions, one a line: `name(args) -> returns; the pg_catalog call it returns;
/// a naive query that hits it`. Each beats pg_catalog's candidate for its exact argument types
/// (pg_catalog is searched first, so exact pg_catalog signatures such as quote_literal(text),
/// now(), make_interval(mins => int), = (name, text) or = (bigint, integer) cannot be shadowed).
const FUNCTIONS: &str = "
    format(text, name, name) -> text; pg_catalog.format($1, $2, $3); SELECT format('%I.%I', 'a'::name, 'b'::name)
    format(text, text) -> text; pg_catalog.format($1, $2); SELECT format('%s', 'a'::text)
    format(text, text, text) -> text; pg_catalog.format($1, $2, $3); SELECT format('%s %s', 'a'::text, 'b'::text)
    format(text, text, text, text) -> text; pg_catalog.format($1, $2, $3, $4); SELECT format('%s %s %s', 'a'::text, 'b'::text, 'c'::text)
    format(text, bigint) -> text; pg_catalog.format($1, $2); SELECT format('%s', 1::bigint)
    format(text, integer) -> text; pg_catalog.format($1, $2); SELECT format('%s', 1)
    format(text, text, bigint) -> text; pg_catalog.format($1, $2, $3); SELECT format('%s %s', 'a'::text, 1::bigint)
    format(text, text, bigint, text) -> text; pg_catalog.format($1, $2, $3, $4); SELECT format('%s %s %s', 'a'::text, 1::bigint, 'b'::text)
    format(text, bigint, text, integer, text) -> text; pg_catalog.format($1, $2, $3, $4, $5); SELECT format('%s %s %s %s', 1::bigint, 'a'::text, 1, 'b'::text)
    format(text, integer, timestamptz) -> text; pg_catalog.format($1, $2, $3); SELECT format('%s %s', 1, now())
    concat_ws(text, text, text) -> text; pg_catalog.concat_ws($1, $2, $3); SELECT concat_ws(', ', 'a'::text, 'b'::text)
    concat_ws(text, text) -> text; pg_catalog.concat_ws($1, $2); SELECT concat_ws(', ', 'a'::text)
    jsonb_build_object(text, timestamptz) -> jsonb; pg_catalog.jsonb_build_object($1, $2); SELECT jsonb_build_object('at', now())
    jsonb_build_object(text, text) -> jsonb; pg_catalog.jsonb_build_object($1, $2); SELECT jsonb_build_object('a', 'b'::text)
    json_build_object(text, text) -> json; pg_catalog.json_build_object($1, $2); SELECT json_build_object('a', 'b'::text)
    json_build_object(text, timestamptz) -> json; pg_catalog.json_build_object($1, $2); SELECT json_build_object('at', now())
    json_build_object(text, name, text, text, text, boolean, text, boolean, text, boolean, text, boolean) -> json; pg_catalog.json_build_object($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12); SELECT json_build_object('name', 'a'::name, 'type', 'b'::text, 'g', true, 'i', true, 'n', true, 'c', true)
    json_build_object(text, name, text, boolean, text, json) -> json; pg_catalog.json_build_object($1, $2, $3, $4, $5, $6); SELECT json_build_object('name', 'a'::name, 'primary', true, 'columns', '[]'::json)
    json_build_object(text, name, text, name, text, text, text, text[]) -> json; pg_catalog.json_build_object($1, $2, $3, $4, $5, $6, $7, $8); SELECT json_build_object('schema', 'a'::name, 'name', 'b'::name, 'bound', 'c'::text, 'o', '{}'::text[])
    to_json(text) -> json; pg_catalog.to_json($1); SELECT to_json('a'::text)
    to_char(timestamptz, varchar) -> text; pg_catalog.to_char($1, $2::text); SELECT to_char(now(), 'HH24'::varchar)
    left(text, bigint) -> text; pg_catalog.left($1, $2::integer); SELECT left('abc', 2::bigint)
    split_part(varchar, text, integer) -> text; pg_catalog.split_part($1::text, $2, $3); SELECT split_part('a,b'::varchar, ',', 1)
    replace(varchar, text, text) -> text; pg_catalog.replace($1::text, $2, $3); SELECT replace('a b'::varchar, ' ', '')
    current_setting(varchar) -> text; pg_catalog.current_setting($1::text); SELECT current_setting('port'::varchar)
    quote_ident(name) -> text; pg_catalog.quote_ident($1::text); SELECT quote_ident('a'::name)
    hashtext(varchar) -> integer; pg_catalog.hashtext($1::text); SELECT hashtext('a'::varchar)
    pg_notify(text, varchar) -> void; pg_catalog.pg_notify($1, $2::text); SELECT pg_notify('hijack_probe', 'a'::varchar)
    pg_try_advisory_lock(bigint, integer) -> boolean; pg_catalog.pg_try_advisory_lock($1::integer, $2); SELECT pg_try_advisory_lock(1::bigint, 1)
    pg_try_advisory_lock(integer, bigint) -> boolean; pg_catalog.pg_try_advisory_lock($1, $2::integer); SELECT pg_try_advisory_lock(1, 1::bigint)
    pg_try_advisory_lock_shared(bigint, integer) -> boolean; pg_catalog.pg_try_advisory_lock_shared($1::integer, $2); SELECT pg_try_advisory_lock_shared(1::bigint, 1)
    pg_advisory_unlock(bigint, integer) -> boolean; pg_catalog.pg_advisory_unlock($1::integer, $2); SELECT pg_advisory_unlock(1::bigint, 1)
    pg_advisory_unlock_shared(bigint, integer) -> boolean; pg_catalog.pg_advisory_unlock_shared($1::integer, $2); SELECT pg_advisory_unlock_shared(1::bigint, 1)
    unnest(smallint[]) -> SETOF smallint; pg_catalog.unnest($1); SELECT count(*) FROM unnest('{1,2}'::int2[]) WITH ORDINALITY k(a, o)
    unnest(text[]) -> SETOF text; pg_catalog.unnest($1); SELECT count(*) FROM unnest('{a,b}'::text[])";

/// Look-alike aggregates (pg_catalog's are polymorphic): `name(arg) -> returns; probe`. Each
/// collects its input in order and hands it to the pg_catalog aggregate of the same name.
const AGGREGATES: &str = "
    json_agg(name) -> json; SELECT json_agg(relname ORDER BY relname) FROM pg_class WHERE relname LIKE 'pg_am%'
    json_agg(text) -> json; SELECT json_agg(v) FROM (VALUES ('a'::text)) t(v)
    json_agg(json) -> json; SELECT json_agg(v) FROM (VALUES ('1'::json)) t(v)
    json_agg(integer) -> json; SELECT json_agg(v) FROM (VALUES (1)) t(v)
    array_agg(text) -> text[]; SELECT array_agg(v) FROM (VALUES ('a'::text)) t(v)
    array_agg(name) -> name[]; SELECT array_agg(relname) FROM pg_class WHERE relname = 'pg_am'";

/// Look-alike operators (pg_catalog's need an implicit cast, or are polymorphic):
/// `op (left, right) -> returns; what it computes; probe`.
const OPERATORS: &str = "
    = (varchar, varchar) -> boolean; $1::text OPERATOR(pg_catalog.=) $2::text; SELECT 'a'::varchar = 'b'::varchar
    <> (varchar, varchar) -> boolean; $1::text OPERATOR(pg_catalog.<>) $2::text; SELECT 'a'::varchar <> 'b'::varchar
    = (varchar, text) -> boolean; $1::text OPERATOR(pg_catalog.=) $2; SELECT 'a'::varchar = 'b'::text
    = (text, varchar) -> boolean; $1 OPERATOR(pg_catalog.=) $2::text; SELECT 'a'::text = 'b'::varchar
    = (regclass, oid) -> boolean; $1::oid OPERATOR(pg_catalog.=) $2; SELECT 'pg_am'::regclass = 2601::oid
    = (oid, regclass) -> boolean; $1 OPERATOR(pg_catalog.=) $2::oid; SELECT 2601::oid = 'pg_am'::regclass
    = (regclass, regclass) -> boolean; $1::oid OPERATOR(pg_catalog.=) $2::oid; SELECT 'pg_am'::regclass = 'pg_am'::regclass
    = (text[], text[]) -> boolean; $1 OPERATOR(pg_catalog.=) $2; SELECT '{a}'::text[] = '{a}'::text[]
    || (text, varchar) -> text; $1 OPERATOR(pg_catalog.||) $2::text; SELECT 'a'::text || 'b'::varchar
    || (text[], text[]) -> text[]; $1 OPERATOR(pg_catalog.||) $2; SELECT '{a}'::text[] || '{b}'::text[]
    || (text[], text) -> text[]; $1 OPERATOR(pg_catalog.||) $2; SELECT '{a}'::text[] || 'b'::text
    ~ (text, varchar) -> boolean; $1 OPERATOR(pg_catalog.~) $2::text; SELECT 'a'::text ~ 'b'::varchar
    / (bigint, numeric) -> numeric; $1::numeric OPERATOR(pg_catalog./) $2; SELECT 10::bigint / 4::numeric";

/// One look-alike: the signature it logs, the DDL that plants it, a naive query that hits it.
struct Plant {
    what: String,
    ddl: String,
    probe: String,
}

/// The lines of a table above, split at `;` (no field holds one) after ` -> `:
/// (signature, returns, the other fields).
fn table(spec: &str) -> Vec<(&str, &str, Vec<&str>)> {
    spec.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (sig, rest) = l.split_once(" -> ").expect("signature -> returns");
            let mut fields = rest.split(';').map(str::trim);
            let ret = fields.next().unwrap();
            (sig, ret, fields.collect())
        })
        .collect()
}

/// `name(a, b)` -> ("name", "a, b").
fn split_signature(sig: &str) -> (&str, &str) {
    let (name, args) = sig.split_once('(').unwrap();
    (name.trim(), args.strip_suffix(')').unwrap())
}

/// A function whose body logs, then returns `real`.
fn sql_function(name: &str, args: &str, ret: &str, what: &str, real: &str) -> String {
    format!(
        "CREATE FUNCTION {name}({args}) RETURNS {ret} LANGUAGE sql AS $p$
             SELECT public.evil_note('{what}'); SELECT {real} $p$;"
    )
}

fn plants() -> Vec<Plant> {
    let mut plants = Vec::new();
    for (sig, ret, f) in table(FUNCTIONS) {
        let (name, args) = split_signature(sig);
        let ddl = sql_function(&format!("public.{name}"), args, ret, sig, f[0]);
        plants.push(Plant {
            what: sig.into(),
            ddl,
            probe: f[1].into(),
        });
    }
    for (n, (sig, ret, f)) in table(AGGREGATES).into_iter().enumerate() {
        let (name, arg) = split_signature(sig);
        let real = format!(
            "pg_catalog.{name}(u.x ORDER BY u.o) FROM pg_catalog.unnest($1) WITH ORDINALITY u(x, o)"
        );
        let ddl = format!(
            "CREATE FUNCTION public.evil_agg_acc_{n}({arg}[], {arg}) RETURNS {arg}[] LANGUAGE sql
                 AS $p$ SELECT pg_catalog.array_append($1, $2) $p$;
             {}
             CREATE AGGREGATE public.{name}({arg}) (sfunc = public.evil_agg_acc_{n}, stype = {arg}[],
                                                    finalfunc = public.evil_agg_fin_{n});",
            sql_function(&format!("public.evil_agg_fin_{n}"), &format!("{arg}[]"), ret, sig, &real)
        );
        plants.push(Plant {
            what: sig.into(),
            ddl,
            probe: f[0].into(),
        });
    }
    plants.extend(special_aggregates());
    for (n, (sig, ret, f)) in table(OPERATORS).into_iter().enumerate() {
        let (op, args) = split_signature(sig);
        let (left, right) = args.split_once(", ").unwrap();
        let function = format!("public.evil_op_{n}");
        let ddl = format!(
            "{}
             CREATE OPERATOR public.{op} (leftarg = {left}, rightarg = {right}, function = {function});",
            sql_function(&function, args, ret, sig, f[0])
        );
        plants.push(Plant {
            what: sig.into(),
            ddl,
            probe: f[1].into(),
        });
    }
    plants
}

/// string_agg(name, text) (pg_catalog has only (text, text)) and json_object_agg(text, text)
/// (pg_catalog's takes ("any", "any")), whose states are not an array of their input.
fn special_aggregates() -> Vec<Plant> {
    let string_agg = "string_agg(name, text)";
    let object_agg = "json_object_agg(text, text)";
    vec![
        Plant {
            what: string_agg.into(),
            ddl: format!(
                "CREATE FUNCTION public.evil_sagg_acc(text, name, text) RETURNS text LANGUAGE sql AS $p$
                     SELECT CASE WHEN $2 IS NULL THEN $1
                                 WHEN $1 IS NULL THEN $2::text
                                 ELSE $1 OPERATOR(pg_catalog.||) COALESCE($3, '')
                                         OPERATOR(pg_catalog.||) $2::text END $p$;
                 {}
                 CREATE AGGREGATE public.string_agg(name, text) (sfunc = public.evil_sagg_acc,
                     stype = text, finalfunc = public.evil_sagg_fin);",
                sql_function("public.evil_sagg_fin", "text", "text", string_agg, "$1")
            ),
            probe: "SELECT string_agg(relname, ', ') FROM pg_class WHERE relname LIKE 'pg_am%'"
                .into(),
        },
        Plant {
            what: object_agg.into(),
            ddl: format!(
                "CREATE FUNCTION public.evil_oagg_acc(text[], text, text) RETURNS text[] LANGUAGE sql
                     AS $p$ SELECT pg_catalog.array_cat($1, ARRAY[$2, $3]) $p$;
                 {}
                 CREATE AGGREGATE public.json_object_agg(text, text) (sfunc = public.evil_oagg_acc,
                     stype = text[], finalfunc = public.evil_oagg_fin);",
                sql_function(
                    "public.evil_oagg_fin",
                    "text[]",
                    "json",
                    object_agg,
                    "pg_catalog.json_object_agg($1[2 * i - 1], $1[2 * i] ORDER BY i)
                       FROM pg_catalog.generate_series(1, pg_catalog.array_length($1, 1) / 2) i"
                )
            ),
            probe: "SELECT json_object_agg(k, v) FROM (VALUES ('a'::text, 'b'::text)) t(k, v)"
                .into(),
        },
    ]
}

/// Plants every look-alike as dm_evil, then proves each one is hit by a naive query run as the
/// superuser with the default search_path.
async fn plant(ctx: &Ctx) -> Vec<Plant> {
    ctx.mart.exec(LOG_SETUP).await;
    let plants = plants();
    let evil = Session::connect(&ctx.mart_db).await;
    evil.exec(&format!("SET ROLE {EVIL}")).await;
    evil.exec(EVIL_NOTE).await;
    for p in &plants {
        evil.exec(&p.ddl).await;
    }
    evil.exec("RESET ROLE").await;

    // Positive control: a fresh session, nothing cached.
    ctx.mart
        .exec("UPDATE public.hijack_step SET step = 'probe'")
        .await;
    let naive = Session::connect(&ctx.mart_db).await;
    for p in &plants {
        naive.exec(&p.probe).await;
    }
    let logged = strings(
        &ctx.mart,
        "SELECT what FROM public.hijack_log WHERE by_role = current_user",
    )
    .await;
    let missed: Vec<&str> = plants
        .iter()
        .map(|p| p.what.as_str())
        .filter(|w| !logged.iter().any(|l| l == w))
        .collect();
    assert!(
        missed.is_empty(),
        "these look-alikes are not hit by their probe, so they prove nothing: {missed:?}"
    );
    ctx.mart.exec("TRUNCATE public.hijack_log").await;
    plants
}

async fn strings(s: &Session, sql: &str) -> Vec<String> {
    s.client
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Runs API calls in fresh sessions (clean plan caches), each after marking the step it is,
/// and keeps the hijack WARNINGs those sessions receive.
struct Api<'a> {
    ctx: &'a Ctx,
    warnings: std::sync::Mutex<Vec<String>>,
}

impl Api<'_> {
    async fn session(&self, step: &str) -> Session {
        self.ctx
            .mart
            .client
            .execute("UPDATE public.hijack_step SET step = $1", &[&step])
            .await
            .unwrap();
        Session::connect(&self.ctx.mart_db).await
    }

    fn keep_warnings(&self, step: &str, notices: Vec<String>) {
        let mut w = self.warnings.lock().unwrap();
        w.extend(
            notices
                .into_iter()
                .filter_map(|n| n.strip_prefix("hijack: ").map(|n| format!("{step}: {n}"))),
        );
    }

    /// Runs `statements` one by one in one session (a CALL must be alone in its query string).
    async fn run_all(&self, step: &str, statements: &[&str]) {
        let s = self.session(step).await;
        for sql in statements {
            s.exec(sql).await;
        }
        self.keep_warnings(step, s.take_notices());
    }

    async fn run(&self, step: &str, sql: &str) {
        self.run_all(step, &[sql]).await;
    }

    /// Runs a query; returns its row count.
    async fn rows(&self, step: &str, sql: &str) -> usize {
        let s = self.session(step).await;
        let n = s
            .client
            .query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)))
            .len();
        self.keep_warnings(step, s.take_notices());
        n
    }

    async fn fails(&self, step: &str, sql: &str) -> DbError {
        let s = self.session(step).await;
        let e = s.fails(sql).await;
        self.keep_warnings(step, s.take_notices());
        e
    }
}

/// A session that cannot see schema public's look-alikes, for the test's own checks.
async fn clean(ctx: &Ctx) -> Session {
    let s = Session::connect(&ctx.mart_db).await;
    s.exec("SET search_path = pg_catalog, pg_temp").await;
    s
}

/// Warehouse rows == mart rows of a table; `cols` and `filter` in (warehouse, mart) spelling.
async fn assert_same(
    ctx: &Ctx,
    check: &Session,
    (wh, mart): (&str, &str),
    cols: (&str, &str),
    filter: (&str, &str),
) {
    let w = ctx
        .wh
        .checksum(&format!("SELECT {} FROM {wh} WHERE {}", cols.0, filter.0))
        .await;
    let m = check
        .checksum(&format!(
            "SELECT {} FROM public.{mart} WHERE {}",
            cols.1, filter.1
        ))
        .await;
    assert!(w.0 > 0, "the fixture has rows of {wh} for {}", filter.0);
    assert_eq!(
        m, w,
        "{mart} holds the warehouse rows of {wh} ({})",
        filter.0
    );
}

const FB_CAMPAIGN: &str =
    "account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at";
const FB_AD: &str =
    "account_id, ad_id, \"user\", \"order\", \"open\", tag, shown_at, ratio, collected_at";

/// Sections up (upsert into fb_up_dm, which has no partitions yet) and slow (its second table
/// is pulled through a warehouse view that sleeps); a scratch section that is taken apart.
async fn register(api: &Api<'_>) {
    api.run_all(
        "dm_add_section",
        &[
            "SELECT dm_add_section('up', 'account_id', 'fb_account_dm', days => 3, mode => 'upsert')",
            "SELECT dm_add_section('slow', 'account_id', 'fb_account_dm')",
            "SELECT dm_add_section('scratch', 'customer_id', 'google_customer_dm')",
        ],
    )
    .await;
    api.run_all(
        "dm_add_table",
        &[
            "SELECT dm_add_table('up', 'fb_up_dm', 'fb_campaign')",
            "SELECT dm_add_table('slow', 'fb_campaign_dm')",
            "SELECT dm_add_table('slow', 'fb_ad_dm', 'fb_ad_slow')",
            "SELECT dm_add_table('scratch', 'google_campaign_report_dm')",
            "SELECT dm_add_table('scratch', 'naver_keyword_master_report_dm',
                                 'public.naver_keyword_master_report', 'customerid')",
        ],
    )
    .await;
    api.run(
        "dm_map_column",
        "SELECT dm_map_column('fb_up_dm', 'spec', 'spec')",
    )
    .await;
    api.run(
        "dm_unmap_column",
        "SELECT dm_unmap_column('fb_up_dm', 'spec')",
    )
    .await;
    api.run_all(
        "dm_alter_section",
        &[
            "SELECT dm_alter_section('up', days => 5)",
            "SELECT dm_alter_section('scratch', vacuum_policy => 'proceed',
                                     storage_parameters => '{fillfactor=90}')",
        ],
    )
    .await;
    for section in ["google", "naver", "up"] {
        let sql = format!("SELECT * FROM dm_discover_columns('{section}')");
        assert_eq!(api.rows("dm_discover_columns", &sql).await, 1, "{section}");
    }
    api.run(
        "dm_remove_table",
        "SELECT dm_remove_table('scratch', 'google_campaign_report_dm')",
    )
    .await;
    api.run("dm_drop_section", "SELECT dm_drop_section('scratch')")
        .await;
}

/// Previews in both modes; syncs by delete_insert (a partitioned and a plain table, bigint and
/// mapped account columns, a default window that creates monthly partitions) and by upsert,
/// before and after changes upstream, and a mode override.
async fn preview_and_sync(api: &Api<'_>) {
    let sql = "SELECT * FROM dm_preview('fb', '1001,1002', '2026-01-10', '2026-01-14')";
    assert_eq!(api.rows("dm_preview (section mode)", sql).await, 2);
    for mode in ["upsert", "delete_insert"] {
        let sql = format!(
            "SELECT * FROM dm_preview('up', '1001,1002', '2026-01-10', '2026-01-12', mode => '{mode}')"
        );
        assert_eq!(api.rows(&format!("dm_preview {mode}"), &sql).await, 1);
    }
    for sql in [
        "CALL dm_sync('fb', '1001,1002', '2026-01-10', '2026-01-12')",
        "CALL dm_sync('fb', '1001,1002', '2026-01-10', '2026-01-12')", // deletes what it loaded
        "CALL dm_sync('google', '0', '2026-01-10', '2026-01-14')",
        "CALL dm_sync('naver', NULL, '2026-01-10', '2026-01-14')",
    ] {
        api.run("dm_sync delete_insert", sql).await;
    }
    api.run("dm_sync default window", "CALL dm_sync('fb', '1003')")
        .await;
    let upsert = "CALL dm_sync('up', '1001,1002', '2026-01-10', '2026-01-12', mode => 'upsert')";
    api.run("dm_sync upsert", upsert).await;
    api.ctx
        .wh
        .exec(
            "UPDATE fb_campaign SET status = 'REMOVED', name = name || ' (renamed)'
              WHERE account_id = '1001' AND collected_at = '2026-01-11';
             DELETE FROM fb_campaign
              WHERE account_id = '1002' AND collected_at = '2026-01-12' AND campaign_id LIKE '%2';",
        )
        .await;
    api.run(
        "dm_sync upsert",
        "CALL dm_sync('up', '1001,1002', '2026-01-10', '2026-01-12')",
    )
    .await;
    api.run("dm_sync upsert", upsert).await;
    api.run(
        "dm_sync mode => delete_insert",
        "CALL dm_sync('up', '1003', '2026-01-10', '2026-01-12', mode => 'delete_insert')",
    )
    .await;
}

/// Status, watchdog, pause (syncs of paused sections are skipped), generated procedures,
/// scheduling's error path (pg_cron runs only for database it_cron_mart).
async fn control_and_procedures(api: &Api<'_>) {
    assert!(api.rows("dm_status", "SELECT * FROM dm_status").await >= 4);
    api.rows("dm_watchdog", "SELECT * FROM dm_watchdog()").await;
    api.run("dm_pause", "SELECT dm_pause('fb')").await;
    api.run(
        "dm_sync paused",
        "CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')",
    )
    .await;
    api.run("dm_pause", "SELECT dm_pause()").await;
    api.run(
        "dm_sync paused",
        "CALL dm_sync('google', '1001', '2026-01-10', '2026-01-10')",
    )
    .await;
    api.run_all(
        "dm_unpause",
        &["SELECT dm_unpause('fb')", "SELECT dm_unpause()"],
    )
    .await;

    let generate = "SELECT * FROM dm_generate_procedures()";
    assert_eq!(api.rows("dm_generate_procedures", generate).await, 5);
    api.run(
        "CALL dm_sync_fb",
        "CALL dm_sync_fb('1001,1002', '2026-01-13', '2026-01-14')",
    )
    .await;
    api.run(
        "dm_alter_section",
        "SELECT dm_alter_section('up', mode => 'delete_insert')",
    )
    .await;
    assert_eq!(api.rows("dm_generate_procedures", generate).await, 5);
    api.run(
        "CALL dm_sync_up",
        "CALL dm_sync_up('1004', '2026-01-10', '2026-01-12')",
    )
    .await;

    for sql in [
        "SELECT dm_schedule('fb', '5 * * * *')",
        "SELECT dm_unschedule('fb')",
    ] {
        let e = api.fails("dm_schedule", sql).await;
        let code = e.code();
        assert_eq!(
            code,
            &SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
            "{sql}: {}",
            e.message()
        );
    }
}

/// A run that fails at its second table (a warehouse column renamed) and is resumed once the
/// column is back; returns the failed run's id.
async fn fail_and_resume(api: &Api<'_>, check: &Session) -> i64 {
    let wh = &api.ctx.wh;
    wh.exec("ALTER TABLE fb_ad RENAME COLUMN tag TO tag_renamed")
        .await;
    let e = api
        .fails(
            "dm_sync failing",
            "CALL dm_sync('fb', '1001,1002', '2026-01-15', '2026-01-16')",
        )
        .await;
    assert_error(
        &e,
        SqlState::UNDEFINED_COLUMN,
        &["public.fb_ad_dm (2 of 2)"],
    );
    wh.exec("ALTER TABLE fb_ad RENAME COLUMN tag_renamed TO tag")
        .await;
    let failed = check
        .i64("SELECT max(run_id) FROM dm.run WHERE status = 'failed'")
        .await;
    api.run("dm_resume", &format!("CALL dm_resume({failed})"))
        .await;
    failed
}

/// While a slow sync runs: dm_status, dm_watchdog, and an overlapping sync that is skipped
/// because the locks are taken. (The running sync's look-alike calls, if any, are logged under
/// whichever of these steps is current.)
async fn while_a_sync_runs(api: &Api<'_>, check: &Session) {
    let slow = api.session("lock skip: the running sync").await;
    let running = tokio::spawn(async move {
        let r = slow
            .client
            .batch_execute("CALL dm_sync('slow', '1001,1002', '2026-01-10', '2026-01-12')")
            .await
            .map_err(|e| describe(&e));
        (r, slow.take_notices())
    });
    wait_until(
        check,
        "SELECT EXISTS (SELECT 1 FROM dm.run r JOIN dm.run_step s USING (run_id)
                         WHERE r.section = 'slow' AND s.position = 2 AND s.status = 'running')",
        20,
    )
    .await;
    assert!(
        api.rows("lock skip: dm_status", "SELECT * FROM dm_status")
            .await
            >= 4
    );
    api.rows("lock skip: dm_watchdog", "SELECT * FROM dm_watchdog()")
        .await;
    api.run_all(
        "lock skip: dm_sync busy",
        &[
            "SET pg_datamart.lock_wait = '200ms'",
            "CALL dm_sync('slow', '1002', '2026-01-10', '2026-01-12')",
        ],
    )
    .await;
    let (result, notices) = running.await.unwrap();
    result.expect("the slow sync succeeds");
    api.keep_warnings("lock skip: the running sync", notices);
    api.run("dm_drop_section", "SELECT dm_drop_section('slow')")
        .await;
}

/// The flow really ran: every run ended as planned, and the mart holds the warehouse's rows.
async fn assert_loaded(ctx: &Ctx, check: &Session, failed: i64) {
    let runs = check
        .text("SELECT string_agg(section || ':' || status, ',' ORDER BY run_id) FROM dm.run")
        .await
        .unwrap();
    assert_eq!(
        runs,
        "fb:succeeded,fb:succeeded,google:succeeded,naver:succeeded,fb:succeeded,\
         up:succeeded,up:succeeded,up:succeeded,up:succeeded,fb:skipped,google:skipped,\
         fb:succeeded,up:succeeded,fb:failed,fb:succeeded,slow:succeeded,slow:skipped"
    );
    let busy = check
        .text("SELECT note FROM dm.run WHERE section = 'slow' AND status = 'skipped'")
        .await
        .unwrap();
    assert!(busy.starts_with("busy: "), "{busy}");
    let resumed = format!(
        "SELECT resumed_from FROM dm.run WHERE run_id = {}",
        failed + 1
    );
    assert_eq!(check.i64(&resumed).await, failed);

    let fb =
        "account_id IN ('1001', '1002') AND collected_at BETWEEN '2026-01-10' AND '2026-01-16'";
    let up = "account_id IN ('1001', '1002', '1003', '1004')
              AND collected_at BETWEEN '2026-01-10' AND '2026-01-12'";
    for (wh, mart, cols, filter) in [
        ("fb_campaign", "fb_campaign_dm", FB_CAMPAIGN, fb),
        ("fb_ad", "fb_ad_dm", FB_AD, fb),
        ("fb_campaign", "fb_up_dm", FB_CAMPAIGN, up),
    ] {
        assert_same(ctx, check, (wh, mart), (cols, cols), (filter, filter)).await;
    }
    let changed = "SELECT count(*) FROM public.fb_up_dm WHERE status = 'REMOVED'";
    assert_eq!(
        check.i64(changed).await,
        2,
        "upsert applied the upstream change"
    );
    let days = "collected_at BETWEEN '2026-01-10' AND '2026-01-14'";
    assert_same(
        ctx,
        check,
        ("google_campaign_report", "google_campaign_report_dm"),
        (
            "\"customer.id\", \"campaign.id\", \"campaign.name\", \"metrics.clicks\", collected_at",
            "customer_id, campaign_id, campaign_name, metrics_clicks, collected_at",
        ),
        (
            &format!("\"customer.id\" <= 1004 AND {days}"),
            &format!("customer_id <= 1004 AND {days}"),
        ),
    )
    .await;
    let naver = format!("customerid IN ('1001', '1002') AND {days}");
    assert_same(
        ctx,
        check,
        (
            "naver_keyword_master_report",
            "naver_keyword_master_report_dm",
        ),
        (
            "customerid, \"nccKeywordId\", keyword, bid_amt, collected_at",
            "customerid, ncc_keyword_id, keyword, bid_amt, collected_at",
        ),
        (&naver, &naver),
    )
    .await;
}

#[tokio::test]
async fn no_api_call_runs_code_planted_in_schema_public() {
    let ctx = setup("sec").await;
    // Test objects, made before the plants: an upsert table without partitions (the sync
    // creates them), a warehouse view that sleeps (so that a second sync finds the locks taken).
    ctx.mart
        .exec(
            "CREATE TABLE fb_up_dm (LIKE fb_campaign_dm INCLUDING DEFAULTS INCLUDING GENERATED
                                    INCLUDING IDENTITY, PRIMARY KEY (account_id, campaign_id, collected_at))
                 PARTITION BY RANGE (collected_at)",
        )
        .await;
    ctx.wh
        .exec(
            "CREATE VIEW fb_ad_slow AS
                 WITH s AS MATERIALIZED (SELECT pg_sleep(1.5)) SELECT f.* FROM fb_ad f, s",
        )
        .await;
    let plants = plant(&ctx).await;

    let api = Api {
        ctx: &ctx,
        warnings: Default::default(),
    };
    let check = clean(&ctx).await;
    register(&api).await;
    preview_and_sync(&api).await;
    control_and_procedures(&api).await;
    let failed = fail_and_resume(&api, &check).await;
    while_a_sync_runs(&api, &check).await;
    assert_loaded(&ctx, &check, failed).await;

    // The look-alikes were there all along, owned by a role that is no superuser.
    let evil = format!("SELECT rolsuper::text FROM pg_roles WHERE rolname = '{EVIL}'");
    assert_eq!(check.text(&evil).await.as_deref(), Some("false"));
    let owned = check
        .i64(&format!(
            "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
                AND proowner = '{EVIL}'::regrole AND proname NOT LIKE 'evil%'"
        ))
        .await;
    let functions = plants
        .iter()
        .filter(|p| p.what.starts_with(|c: char| c.is_ascii_alphabetic()))
        .count();
    assert_eq!(
        owned as usize, functions,
        "every look-alike is still in place"
    );

    // And none of them ever ran: nothing logged (committed), nothing warned (also on paths
    // whose transaction rolled back).
    let rows = check
        .client
        .query(
            "SELECT what, during, by_role FROM public.hijack_log ORDER BY at",
            &[],
        )
        .await
        .unwrap();
    let logged: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let seen: Vec<String> = logged
        .iter()
        .map(|(what, during, role)| format!("{during}: {what} ran as {role}"))
        .collect();
    let warned_only: Vec<String> = api
        .warnings
        .lock()
        .unwrap()
        .iter()
        .filter(|w| !seen.contains(w))
        .cloned()
        .collect();
    let mut by_signature: Vec<(String, Vec<&str>)> = Vec::new();
    for (what, during, role) in &logged {
        let key = format!("{what} as {role}");
        match by_signature.iter_mut().find(|(k, _)| *k == key) {
            Some((_, steps)) => steps.push(during),
            None => by_signature.push((key, vec![during])),
        }
    }
    let logged_report: Vec<String> = by_signature
        .iter()
        .map(|(key, steps)| format!("{key} <- {}", steps.join(", ")))
        .collect();
    assert!(
        logged.is_empty() && warned_only.is_empty(),
        "look-alikes planted by {EVIL} in schema public ran during the API flow.\n\
         {} signature(s) logged (signature as role <- API steps):\n  {}\n\
         only warned, their transaction rolled back (step: signature ran as role):\n  {}",
        by_signature.len(),
        logged_report.join("\n  "),
        warned_only.join("\n  ")
    );
}
