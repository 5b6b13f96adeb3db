#!/bin/sh
# Applies db/migrations (mounted at /migrations) as `postgres`, the role the Supabase CLI uses,
# once the auth server has created auth.users. Versions applied are recorded where the CLI
# keeps them (supabase_migrations.schema_migrations), so a second `up` skips them.
set -eu
export PGHOST="${PGHOST:-db}" PGPORT="${PGPORT:-5432}" PGDATABASE="${PGDATABASE:-postgres}"
export PGPASSWORD="$POSTGRES_PASSWORD"

psql -X -q -v ON_ERROR_STOP=1 -U supabase_admin -c \
    "create schema if not exists supabase_migrations;
     create table if not exists supabase_migrations.schema_migrations (version text primary key, name text);"

for file in /migrations/*.sql; do
    name=$(basename "$file" .sql)
    version=${name%%_*}
    done_already=$(psql -X -At -U supabase_admin \
        -c "select 1 from supabase_migrations.schema_migrations where version = '$version'")
    if [ "$done_already" = 1 ]; then
        echo "migrate: $name already applied"
        continue
    fi
    echo "migrate: applying $name as postgres"
    psql -X -q -v ON_ERROR_STOP=1 -U postgres --single-transaction -f "$file"
    psql -X -q -v ON_ERROR_STOP=1 -U supabase_admin -c \
        "insert into supabase_migrations.schema_migrations (version, name) values ('$version', '$name')"
done
echo "migrate: done"
