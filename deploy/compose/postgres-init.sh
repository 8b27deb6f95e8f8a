#!/bin/sh
# Runs once, when the PostgreSQL volume is created: a role for Temporal's own databases
# (temporal, temporal_visibility), which admin-tools creates and migrates.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v pw="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'pw';
SQL
