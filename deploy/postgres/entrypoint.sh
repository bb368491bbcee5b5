#!/usr/bin/env bash
# Start PostgreSQL; on an empty PGDATA, first create the cluster, the role and the database.
set -euo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
user="${POSTGRES_USER:-balto}"
db="${POSTGRES_DB:-balto}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "balto-postgres: POSTGRES_PASSWORD is required to create the database" >&2
        exit 1
    fi
    echo "balto-postgres: creating the cluster in $PGDATA (role $user, database $db)"
    initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    {
        echo "listen_addresses = '*'"
        echo "unix_socket_directories = '/var/run/postgresql'"
        echo "password_encryption = 'scram-sha-256'"
    } >>"$PGDATA/postgresql.conf"
    # initdb allows host connections from loopback only; the container's network is the boundary
    # (the compose file keeps it internal and publishes no port).
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }
    sql_ident() { printf '"%s"' "${1//\"/\"\"}"; }
    # single-user mode, -j: a statement ends with a semicolon and an empty line
    postgres --single -j -D "$PGDATA" postgres >/dev/null <<SQL
CREATE ROLE $(sql_ident "$user") LOGIN PASSWORD $(sql_literal "$POSTGRES_PASSWORD");

CREATE DATABASE $(sql_ident "$db") OWNER $(sql_ident "$user");

SQL
fi

exec postgres -D "$PGDATA"
