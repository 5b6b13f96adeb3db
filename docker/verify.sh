#!/usr/bin/env bash
# Proves the images built by build.sh work together, the way the containers provider uses
# them: PostgreSQL, auth and the data API on a private network (both reach the database by
# alias), ports on 127.0.0.1 only, then the checks the native stack passes. Removes everything
# it created, also on failure or Ctrl-C. Needs psql, curl and python3 on the host.
#
# usage: docker/verify.sh
set -Eeuo pipefail

LABEL=org.supabase-harness=true
SECRET=super-secret-jwt-token-with-at-least-32-characters-long
PASSWORD=postgres
run=sh-verify-$$
net=$run-net db=$run-db auth=$run-auth rest=$run-rest

die() { echo "verify.sh: FAILED: $*" >&2; exit 1; }
step() { echo "==> $*"; }
now() { date +%s.%N; }
since() { printf '%.2fs' "$(echo "$(now) - $1" | bc)"; }
cleanup() {
    docker rm -f -v "$rest" "$auth" "$db" >/dev/null 2>&1 || true
    docker network rm "$net" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# Ctrl-C or a kill: exit, so the EXIT trap removes what was made.
trap 'exit 130' INT
trap 'exit 143' TERM
for tool in docker psql curl python3 bc; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
for image in supabase-harness/postgres:15 supabase-harness/auth:latest supabase-harness/rest:latest; do
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

# After the migration, so the first schema cache already has public.sessions.
step "data API (PostgREST's env, the database by alias)"
t=$(now)
docker run -d --label "$LABEL" --name "$rest" --network "$net" -p 127.0.0.1::3000 -p 127.0.0.1::3001 \
    -e PGRST_DB_URI="postgres://authenticator:$PASSWORD@db:5432/postgres" \
    -e PGRST_DB_SCHEMAS=public,graphql_public -e PGRST_DB_ANON_ROLE=anon \
    -e PGRST_JWT_SECRET="$SECRET" -e PGRST_DB_USE_LEGACY_GUCS=false \
    -e PGRST_ADMIN_SERVER_PORT=3001 supabase-harness/rest:latest >/dev/null
rest_url=http://127.0.0.1:$(docker port "$rest" 3000/tcp | head -n1 | cut -d: -f2)
admin_url=http://127.0.0.1:$(docker port "$rest" 3001/tcp | head -n1 | cut -d: -f2)
wait_for "$rest" 60 curl -fsS "$admin_url/ready"
echo "start to /ready: $(since "$t")"
[[ $(docker inspect -f '{{.Config.User}} {{json .Config.Cmd}}' "$rest") == '1000 ["/bin/postgrest"]' ]] \
    || die "the rest image does not run /bin/postgrest as user 1000, as postgrest/postgrest does"

# The Supabase CLI's anon key, signed with $SECRET.
anon_key=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0
# METHOD PATH TOKEN [BODY]: prints the status, a tab, the Server header, a newline, the body.
api() {
    local args=(-sS -X "$1" "$rest_url$2" -H "authorization: Bearer $3" -w '\n%{http_code}\t%header{server}')
    [[ -n ${4:-} ]] && args+=(-H 'content-type: application/json' -d "$4")
    local out; out=$(curl "${args[@]}") || die "$1 $2: no answer from the data API"
    printf '%s\n%s\n' "${out##*$'\n'}" "${out%$'\n'*}"
}
answered() {
    local what=$1 status=$2 body=$3 got; got=$(cat)
    [[ ${got%%$'\n'*} == "$status"$'\t'postgrest/14.5 ]] \
        || die "$what: wanted $status from postgrest/14.5, got: $got"
    python3 -c "$body" "${got#*$'\n'}" || die "$what: unexpected body: ${got#*$'\n'}"
}
api GET /sessions "$anon_key" | answered "anon read" 200 \
    'import json, sys; assert json.loads(sys.argv[1]) == [], "RLS hides every row from anon"'
api GET "/sessions?select=user_id" "$token" | answered "the user's read" 200 \
    "import json, sys; assert json.loads(sys.argv[1]) == [{'user_id': '$user_id'}]"
# PostgREST answers 42501 with 401 under the anon role; its error body has exactly four keys.
api POST /sessions "$anon_key" "{\"user_id\":\"$user_id\"}" | answered "anon insert" 401 \
    'import json, sys; e = json.loads(sys.argv[1]); assert sorted(e) == ["code", "details", "hint", "message"] and e["code"] == "42501", e'
api GET /no_such_table "$anon_key" | answered "unknown table" 404 \
    'import json, sys; e = json.loads(sys.argv[1]); assert sorted(e) == ["code", "details", "hint", "message"] and e["code"] == "PGRST205", e'
[[ $(sql -U supabase_admin -c "select count(*) from public.sessions") == 1 ]] \
    || die "the refused insert wrote a row"
echo "anon read [] and the user read their row; RLS refusal 401 42501 and 404 PGRST205 in PostgREST's error shape"

step "cleanup"
cleanup
trap - EXIT
# By name: a harness run alongside may have containers with the same label.
left=$(docker ps -aq --filter "name=$run"; docker network ls -q --filter "name=$run")
[[ -z $left ]] || die "left behind: $left"
echo "no container or network of ours left. OK"
