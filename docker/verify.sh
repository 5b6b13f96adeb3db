#!/usr/bin/env bash
# Proves the images built by build.sh work together, the way the containers provider uses
# them: PostgreSQL and auth on a private network (auth reaches the database by alias), ports
# on 127.0.0.1 only, then the checks the native stack passes. Removes everything it created,
# also on failure. Needs psql, curl and python3 on the host.
#
# usage: docker/verify.sh
set -Eeuo pipefail

LABEL=org.supabase-harness=true
SECRET=super-secret-jwt-token-with-at-least-32-characters-long
PASSWORD=postgres
run=sh-verify-$$
net=$run-net db=$run-db auth=$run-auth

die() { echo "verify.sh: FAILED: $*" >&2; exit 1; }
step() { echo "==> $*"; }
now() { date +%s.%N; }
since() { printf '%.2fs' "$(echo "$(now) - $1" | bc)"; }
cleanup() {
    docker rm -f -v "$auth" "$db" >/dev/null 2>&1 || true
    docker network rm "$net" >/dev/null 2>&1 || true
}
trap cleanup EXIT
for tool in docker psql curl python3 bc; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
for image in supabase-harness/postgres:15 supabase-harness/auth:latest; do
    docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing: run docker/build.sh"
done

# Wait until CHECK succeeds, for at most SECONDS_MAX; on timeout show the container's log.
wait_for() {
    local container=$1 seconds_max=$2; shift 2
    local deadline=$((SECONDS + seconds_max))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS > deadline)) || [[ $(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null) != true ]]; then
            docker logs "$container" >&2 || true
            die "$container was not ready after ${seconds_max}s (log above)"
        fi
        sleep 0.1
    done
}

docker network create --label "$LABEL" "$net" >/dev/null

step "PostgreSQL"
t=$(now)
docker run -d --label "$LABEL" --name "$db" --network "$net" --network-alias db \
    -e POSTGRES_PASSWORD="$PASSWORD" -p 127.0.0.1::5432 supabase-harness/postgres:15 >/dev/null
wait_for "$db" 60 sh -c "docker logs '$db' 2>&1 | grep -q 'supabase-harness: ready'"
echo "start to ready: $(since "$t")"
db_port=$(docker port "$db" 5432/tcp | head -n1 | cut -d: -f2)
sql() { PGPASSWORD=$PASSWORD psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$db_port" -d postgres "$@"; }

for role in supabase_admin postgres authenticator supabase_auth_admin; do
    [[ $(sql -U "$role" -c 'select current_user') == "$role" ]] || die "cannot log in as $role over TCP"
done
PGPASSWORD=wrong psql -X -h 127.0.0.1 -p "$db_port" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1 \
    && die "a wrong password was accepted"
roles=$(sql -U supabase_admin -c "select string_agg(rolname, ',' order by rolname) from pg_roles
    where rolname in ('anon','authenticated','service_role','authenticator','supabase_auth_admin','postgres')")
[[ $roles == anon,authenticated,authenticator,postgres,service_role,supabase_auth_admin ]] \
    || die "db/init roles missing: got $roles"
[[ $(sql -U supabase_admin -c "select nspowner::regrole from pg_namespace where nspname = 'auth'") == supabase_auth_admin ]] \
    || die "schema auth is not owned by supabase_auth_admin"
echo "roles from db/init present; password logins work; wrong password refused"

step "auth"
t=$(now)
docker run -d --label "$LABEL" --name "$auth" --network "$net" -p 127.0.0.1::9999 \
    -e GOTRUE_DB_DRIVER=postgres \
    -e GOTRUE_DB_DATABASE_URL="postgres://supabase_auth_admin:$PASSWORD@db:5432/postgres" \
    -e GOTRUE_JWT_SECRET="$SECRET" -e API_EXTERNAL_URL=http://localhost:9999 \
    -e GOTRUE_SITE_URL=http://localhost:3000 -e GOTRUE_MAILER_AUTOCONFIRM=true \
    -e GOTRUE_JWT_AUD=authenticated -e GOTRUE_JWT_DEFAULT_GROUP_NAME=authenticated \
    -e GOTRUE_JWT_ADMIN_ROLES=service_role supabase-harness/auth:latest >/dev/null
auth_url=http://127.0.0.1:$(docker port "$auth" 9999/tcp | head -n1 | cut -d: -f2)
wait_for "$auth" 60 curl -fsS "$auth_url/health"
echo "start to /health: $(since "$t")"
curl -fsS "$auth_url/health" | grep -q '"name":"GoTrue"' || die "/health did not answer as GoTrue"

step "app migration (as postgres, after auth created auth.users)"
docker exec "$db" sh -c 'for f in /docker-entrypoint-migrations/*.sql; do
    psql -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres --single-transaction -f "$f" || exit 1; done' \
    || die "the app migration failed"

step "signup with autoconfirm, then an RLS insert as the signed-in user"
body=$(curl -sS -w '\n%{http_code}' -X POST "$auth_url/signup" -H 'content-type: application/json' \
    -d '{"email":"verify@example.com","password":"hunter22"}')
[[ ${body##*$'\n'} == 200 ]] || die "signup answered ${body##*$'\n'}: ${body%$'\n'*}"
read -r token user_id claims < <(python3 -c '
import base64, json, sys
s = json.loads(sys.stdin.read())
p = s["access_token"].split(".")[1]
claims = base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode()
assert s["user"]["email_confirmed_at"], "not autoconfirmed"
print(s["access_token"], s["user"]["id"], claims.replace(" ", ""))' <<<"${body%$'\n'*}") \
    || die "signup did not return a confirmed session"
[[ $(curl -sS -o /dev/null -w '%{http_code}' "$auth_url/user" -H "authorization: Bearer $token") == 200 ]] \
    || die "GET /user with the new access token failed"
inserted=$(sql -U authenticator -v claims="$claims" <<'SQL'
begin;
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', :'claims', true) \gset
insert into public.sessions (user_id) values (auth.uid()) returning user_id;
commit;
SQL
)
[[ $inserted == "$user_id" ]] || die "the RLS insert as the signed-in user returned '$inserted'"
sql -U authenticator -c "set role anon; insert into public.sessions (user_id) values ('$user_id')" >/dev/null 2>&1 \
    && die "anon could insert a session: RLS is not in force"
echo "signed-in user inserted their row; anon was refused by RLS"

step "cleanup"
cleanup
trap - EXIT
# By name: a harness run alongside may have containers with the same label.
left=$(docker ps -aq --filter "name=$run"; docker network ls -q --filter "name=$run")
[[ -z $left ]] || die "left behind: $left"
echo "no container or network of ours left. OK"
