#!/bin/sh
# First start of the db volume only (the postgres image runs /docker-entrypoint-initdb.d once):
# the owner role that migrates and owns every table, the service role that web, worker and beat
# connect as (it owns nothing; `manage.py db_roles`, run by `migrate`, grants it), and the
# database, owned by the owner. Neither role is a superuser; the image's superuser is `postgres`.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$MIMAMORI_OWNER_PASSWORD" -v service_password="$MIMAMORI_SERVICE_PASSWORD" <<'SQL'
CREATE ROLE mimamori LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE mimamori_service LOGIN PASSWORD :'service_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE mimamori OWNER mimamori;
SQL
