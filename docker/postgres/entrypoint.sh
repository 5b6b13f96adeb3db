#!/usr/bin/env bash
# First start (empty data directory): initdb as supabase_admin, apply /docker-entrypoint-initdb.d
# on a socket-only server so no client sees a half-built database, set the login roles'
# passwords, then run the real server and print READY_LINE once it accepts TCP connections.
# Wait strategies key on that line: PostgreSQL's own "ready to accept connections" says
# nothing about the init, and images that log their temporary init server print it twice.
set -Eeuo pipefail

READY_LINE="supabase-harness: ready"
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_PASSWORD:=postgres}"
: "${POSTGRES_PORT:=5432}"
# A marker written last: a data directory without it was left half-initialised.
MARKER="$PGDATA/supabase-harness.initialised"
# The roles clients log in as; the self-hosted stack's roles.sql gives them POSTGRES_PASSWORD too.
LOGIN_ROLES=(supabase_admin postgres authenticator supabase_auth_admin)

log() { echo "supabase-harness: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Anything other than the server (e.g. `bash`) runs as given.
if [[ $# -gt 0 && $1 != postgres && $1 != -* ]]; then
    exec "$@"
fi
[[ ${1:-} == postgres ]] && shift

# PostgreSQL refuses to run as root: fix ownership of a mounted volume, then drop privileges.
if [[ $(id -u) == 0 ]]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" postgres "$@"
fi

init_cluster() {
    log "initialising $PGDATA (superuser supabase_admin)"
    # --no-sync: a test database need not survive a host crash, and fsync is slow on overlays.
    initdb -D "$PGDATA" -U supabase_admin --encoding=UTF8 --locale=C.UTF-8 --no-sync \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null \
        || die "initdb failed"

    # Inside the container the socket is trusted; over TCP every role needs its password.
    cat >"$PGDATA/pg_hba.conf" <<'HBA'
local all all trust
host  all all 0.0.0.0/0 scram-sha-256
host  all all ::/0      scram-sha-256
HBA
    # A test database: durability is traded for speed.
    cat >>"$PGDATA/postgresql.conf" <<CONF

# supabase-harness
listen_addresses = '*'
port = $POSTGRES_PORT
password_encryption = scram-sha-256
fsync = off
# on: a killed container must not lose commits it acknowledged (fsync=off is safe for that)
synchronous_commit = on
full_page_writes = off
CONF

    # Socket only: nothing outside the container can connect before the init SQL is applied.
    # Its log goes to a file, shown only on failure: its "ready to accept connections" line
    # would mislead anything watching the container's output.
    local init_log=/tmp/supabase-harness-init-server.log
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -l "$init_log" -w -t 60 start >/dev/null \
        || { cat "$init_log" >&2; die "the temporary init server did not start"; }

    local file
    for file in /docker-entrypoint-initdb.d/*; do
        case "$file" in
            *.sql)
                log "applying $file"
                psql -X -q -v ON_ERROR_STOP=1 -U supabase_admin -d postgres -f "$file" \
                    || die "init script $file failed"
                ;;
            *.sh)
                log "running $file"
                bash "$file" || die "init script $file failed"
                ;;
            *) ;;
        esac
    done

    log "setting the passwords of ${LOGIN_ROLES[*]} from POSTGRES_PASSWORD"
    local role
    for role in "${LOGIN_ROLES[@]}"; do
        # psql quotes :'pw' itself, so any password is safe.
        psql -X -q -v ON_ERROR_STOP=1 -U supabase_admin -d postgres -v pw="$POSTGRES_PASSWORD" \
            <<<"alter role $role with password :'pw';" \
            || die "cannot set the password of role $role (does db/init create it?)"
    done

    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null \
        || { cat "$init_log" >&2; die "the temporary init server did not stop"; }
    touch "$MARKER"
    log "init complete"
}

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    init_cluster
elif [[ ! -e $MARKER ]]; then
    die "$PGDATA holds a cluster whose init never finished (an earlier start failed); remove the volume and start again"
else
    log "existing cluster in $PGDATA: skipping init"
fi

postgres -D "$PGDATA" "$@" &
server=$!
# Bash is PID 1 here: pass stop signals on to the server, then wait for it to exit.
trap 'kill -INT "$server" 2>/dev/null' INT
trap 'kill -TERM "$server" 2>/dev/null' TERM
trap 'kill -QUIT "$server" 2>/dev/null' QUIT

until pg_isready -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U supabase_admin -d postgres; do
    if ! kill -0 "$server" 2>/dev/null; then
        wait "$server" || true
        die "postgres exited before accepting connections"
    fi
    sleep 0.1
done
# On both streams, so a wait strategy on either one finds it.
echo "$READY_LINE"
echo "$READY_LINE" >&2

# A trapped signal interrupts `wait` (status > 128) while the server shuts down: wait again.
while :; do
    status=0
    wait "$server" || status=$?
    kill -0 "$server" 2>/dev/null || break
done
if ((status > 128)); then
    again=0
    wait "$server" 2>/dev/null || again=$?
    ((again != 127)) && status=$again
fi
exit "$status"
