#!/usr/bin/env bash
# Installs what building and testing pg_datamart needs on Debian 12 (as root); idempotent and
# quick when everything is already there. Used by `make` targets and .ci/run.
set -euo pipefail
PGRX_VERSION=0.18.1
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron libclang-dev clang sudo)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) != 0 ]]; then
        echo "deps: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ "$(cargo pgrx --version 2>/dev/null)" != "cargo-pgrx $PGRX_VERSION" ]]; then
    echo "deps: installing cargo-pgrx $PGRX_VERSION (about 4 minutes)"
    cargo install cargo-pgrx --version "=$PGRX_VERSION" --locked
fi

# Re-running init rewrites config.toml and forces a full rebuild: only when needed.
if ! grep -qs "^pg15 = \"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
    cargo pgrx init --pg15 "$PG_CONFIG"
fi
