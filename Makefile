# pg_datamart — the two commands for a newcomer: `make demo` and `make test`.
SHELL := /bin/bash
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
export PATH := $(HOME)/.cargo/bin:$(PATH)
IT_PORT ?= 28817
PGRX_TEST_PGDATA ?= /tmp/pgrx-test-pgdata
# The integration server requires a scram password for role dm_pw and for members of dm_scram
# (the non-superuser tests), over TCP and over the socket, and
# runs pg_cron for database it_cron_mart (the scheduling test's mart) with jobs in background
# workers, so a job runs as its role without a password (as in production with pg_cron), and
# RUST_BACKTRACE=1 in the server's environment (no error may carry a backtrace all the same).
IT_HBA := local all dm_pw scram-sha-256|host all dm_pw 127.0.0.1/32 scram-sha-256|local all +dm_scram scram-sha-256|host all +dm_scram 127.0.0.1/32 scram-sha-256

.PHONY: all deps build install install-release plantest pgtest it soak lint test demo demo-stop bench bless

all: build

deps:
	@bash .ci/deps.sh

build: deps
	cargo pgrx package --pg-config $(PG_CONFIG) >/dev/null

# Debug build installed into the system PostgreSQL 15 (tests, demo).
install: deps
	cargo pgrx install --pg-config $(PG_CONFIG)

# Optimised build (benchmark).
install-release: deps
	cargo pgrx install --release --pg-config $(PG_CONFIG)

# The pure planner's tests: no server, seconds.
plantest:
	cargo test -p pg_datamart_plan

# #[pg_test] suite: pgrx's own throwaway instance, run as the OS user postgres.
pgtest: deps
	install -d -o postgres -g postgres $(PGRX_TEST_PGDATA)
	cargo pgrx test pg15 --runas postgres --pgdata $(PGRX_TEST_PGDATA)

# Client-driven integration tests (pgrx-tests/) against a real server with the extension
# installed: CALL with COMMIT, dblink over TCP loopback to warehouse databases, notices.
it: install
	install -m 644 sql/released/*.sql "$$($(PG_CONFIG) --sharedir)/extension/"
	PG_FRESH=1 PG_HBA_PREPEND="$(IT_HBA)" PG_ENV="RUST_BACKTRACE=1" bash .ci/pg.sh start it $(IT_PORT) \
	  shared_preload_libraries=pg_cron cron.database_name=it_cron_mart cron.host=/tmp/pg_datamart-it \
	  cron.use_background_workers=on max_worker_processes=32
	DM_IT_PORT=$(IT_PORT) DM_IT_BLESS=$(DM_IT_BLESS) cargo test -p pg_datamart_it --no-fail-fast -- --test-threads=2; \
	  rc=$$?; bash .ci/pg.sh stop it; exit $$rc

# Soak test (not part of `make test`): SOAK_SYNCS syncs (default 200) from concurrent sessions
# with random accounts, windows, modes and faults, then every mart table checked against the
# warehouse; against a server started as for `make it`. SOAK_SEED=<n> replays a seed.
SOAK_SYNCS ?= 200
soak: install
	install -m 644 sql/released/*.sql "$$($(PG_CONFIG) --sharedir)/extension/"
	PG_FRESH=1 PG_HBA_PREPEND="$(IT_HBA)" PG_ENV="RUST_BACKTRACE=1" bash .ci/pg.sh start it $(IT_PORT) \
	  shared_preload_libraries=pg_cron cron.database_name=it_cron_mart cron.host=/tmp/pg_datamart-it \
	  cron.use_background_workers=on max_worker_processes=32
	DM_IT_PORT=$(IT_PORT) SOAK_SYNCS=$(SOAK_SYNCS) cargo test -p pg_datamart_it --test soak -- --ignored --nocapture; \
	  rc=$$?; bash .ci/pg.sh stop it; exit $$rc

# Regenerate the golden files of the integration tests (review the diff before committing).
bless:
	$(MAKE) it DM_IT_BLESS=1

lint: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test: plantest pgtest it

demo: install
	bash .ci/demo.sh

demo-stop:
	bash .ci/pg.sh stop demo

# The benchmark's cluster runs the server of PG_CONFIG, the one the extension was installed into.
bench: install-release
	PG_BIN="$$($(PG_CONFIG) --bindir)" bash .ci/bench.sh
