-- golden: fixture odd_names, mode delete_insert, window 2024-01-31 .. 2024-03-01, accounts A-1, b_2, C_3-x, per_query 2, remote_timeout_ms Some(1)

-- ===== [1] "마트 ""스키마"""."광고_report_dm 📈" <- Ads.Raw.o'brien "quoted" table
-- remote_script:
SELECT "account.id", "collected.at", "SELECT", "E'x'", "a::b", "$$", "--c", "/*x*/", "ANY(1)", "FORMAT", "IS DISTINCT FROM", "back\\slash", "it''s ""really""", "Ünïcödé 한국어 🔥", "a_column_name_of_exactly_sixty_three_bytes_for_the_limit_xxxxxx", "end", "user", "order", "open", "tag" FROM "Ads.Raw"."o'brien ""quoted"" table" WHERE "collected.at" >= '2024-01-31' AND "collected.at" < '2024-03-02' AND "account.id" IN ('A-1', 'b_2');
SELECT "account.id", "collected.at", "SELECT", "E'x'", "a::b", "$$", "--c", "/*x*/", "ANY(1)", "FORMAT", "IS DISTINCT FROM", "back\\slash", "it''s ""really""", "Ünïcödé 한국어 🔥", "a_column_name_of_exactly_sixty_three_bytes_for_the_limit_xxxxxx", "end", "user", "order", "open", "tag" FROM "Ads.Raw"."o'brien ""quoted"" table" WHERE "collected.at" >= '2024-01-31' AND "collected.at" < '2024-03-02' AND "account.id" IN ('C_3-x');
-- column_definitions:
"Account ID" text, "collected.at" date, "select" text, "E'x'" text, "a::b" text, "$$" text, "--c" text, "/*x*/" text, "ANY(1)" text, "FORMAT" text, "IS DISTINCT FROM" text, "back\slash" text, "it's" text, "Ünïcödé 한국어 🔥" text, "a_column_name_of_exactly_sixty_three_bytes_for_the_limit_xxxxxx" numeric(18,2), "end" text, "user" text, "order" integer, "open" boolean, "tag" text
-- local_script:
SELECT pg_catalog.count(*) FROM "마트 ""스키마"""."광고_report_dm 📈" WHERE "collected.at" OPERATOR(pg_catalog.>=) '2024-01-01' AND "collected.at" OPERATOR(pg_catalog.<) '2024-02-01' AND tableoid OPERATOR(pg_catalog.=) '"마트 ""스키마"""."광고_report_dm 📈_default"'::pg_catalog.regclass /* any row refuses the load */;
SELECT pg_catalog.count(*) FROM "마트 ""스키마"""."광고_report_dm 📈" WHERE "collected.at" OPERATOR(pg_catalog.>=) '2024-03-01' AND "collected.at" OPERATOR(pg_catalog.<) '2024-04-01' AND tableoid OPERATOR(pg_catalog.=) '"마트 ""스키마"""."광고_report_dm 📈_default"'::pg_catalog.regclass /* any row refuses the load */;
CREATE TABLE "마트 ""스키마"""."광고_report_dm 📈_p202401" (LIKE "마트 ""스키마"""."광고_report_dm 📈" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION) WITH (fillfactor=90);
ALTER TABLE "마트 ""스키마"""."광고_report_dm 📈" ATTACH PARTITION "마트 ""스키마"""."광고_report_dm 📈_p202401" FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE "마트 ""스키마"""."광고_report_dm 📈_p202403" (LIKE "마트 ""스키마"""."광고_report_dm 📈" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION) WITH (fillfactor=90);
ALTER TABLE "마트 ""스키마"""."광고_report_dm 📈" ATTACH PARTITION "마트 ""스키마"""."광고_report_dm 📈_p202403" FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
DELETE FROM "마트 ""스키마"""."광고_report_dm 📈" WHERE "collected.at" OPERATOR(pg_catalog.>=) '2024-01-31' AND "collected.at" OPERATOR(pg_catalog.<) '2024-03-02' AND "Account ID" OPERATOR(pg_catalog.=) ANY (ARRAY['A-1', 'b_2', 'C_3-x']::text[]);
COPY "마트 ""스키마"""."광고_report_dm 📈" ("Account ID", "collected.at", "select", "E'x'", "a::b", "$$", "--c", "/*x*/", "ANY(1)", "FORMAT", "IS DISTINCT FROM", "back\slash", "it's", "Ünïcödé 한국어 🔥", "a_column_name_of_exactly_sixty_three_bytes_for_the_limit_xxxxxx", "end", "user", "order", "open", "tag", "created_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "마트 ""스키마"""."광고_report_dm 📈_p202401"; ANALYZE "마트 ""스키마"""."광고_report_dm 📈_p202402"; ANALYZE "마트 ""스키마"""."광고_report_dm 📈_p202403";

-- ===== procedures::describe
-- fingerprint: e6011d07b52f86f7
-- Section odd_names: 1 table(s), mode delete_insert, server red'shift\prd, date column collected.at, account column Account ID listed in "마트 ""스키마""".accounts, default window today - 7 days .. today.
-- <account_ids>: the requested accounts present in the account table; the window is <start_date> .. <end_date>.
-- Before each table, the window's monthly partitions are created as needed (see dm_preview).
--
-- [1] "마트 ""스키마"""."광고_report_dm 📈" <- "Ads.Raw"."o'brien ""quoted"" table"
-- remote SQL:
--   SELECT "account.id", "collected.at", "SELECT", "E'x'", "a::b", "$$", "--c", "/*x*/", "ANY(1)", "FORMAT", "IS DISTINCT FROM", "back\\slash", "it''s ""really""", "Ünïcödé 한국어 🔥", "a_column_name_of_exactly_sixty_three_bytes_for_the_limit_xxxxxx", "end", "user", "order", "open", "tag" FROM "Ads.Raw"."o'brien ""quoted"" table" WHERE "collected.at" >= <start_date> AND "collected.at" < <end_date + 1> AND "account.id" IN (<account_ids>)
-- column definitions:
--   "Account ID" text, "collected.at" date, "select" text, "E'x'" text, "a::b" text, "$$" text, "--c" text, "/*x*/" text, "ANY(1)" text, "FORMAT" text, "IS DISTINCT FROM" text, "back\slash" text, "it's" text, "Ünïcödé 한국어 🔥" text, "a_column_name_of_exactly_sixty_three_bytes_for_the_limit_xxxxxx" numeric(18,2), "end" text, "user" text, "order" integer, "open" boolean, "tag" text
-- local statements:
--   DELETE FROM "마트 ""스키마"""."광고_report_dm 📈" WHERE "collected.at" OPERATOR(pg_catalog.>=) <start_date> AND "collected.at" OPERATOR(pg_catalog.<) <end_date + 1> AND "Account ID" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::text[]);
--   COPY "마트 ""스키마"""."광고_report_dm 📈" ("Account ID", "collected.at", "select", "E'x'", "a::b", "$$", "--c", "/*x*/", "ANY(1)", "FORMAT", "IS DISTINCT FROM", "back\slash", "it's", "Ünïcödé 한국어 🔥", "a_column_name_of_exactly_sixty_three_bytes_for_the_limit_xxxxxx", "end", "user", "order", "open", "tag", "created_at", "updated_at") FROM STDIN;
