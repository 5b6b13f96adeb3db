#!/usr/bin/env bash
# Builds the locally made images the containers provider uses when the official ones cannot
# be pulled (no registry needed; only Debian's package mirror and crates.io):
#
#   supabase-harness/debian:bookworm   base, debootstrap + docker import (skipped when present)
#   supabase-harness/postgres:15       PostgreSQL 15 + db/init applied at first start
#   supabase-harness/auth:latest       the auth server (crate auth/), GoTrue-compatible
#   supabase-harness/rest:latest       the data API (crate rest/), PostgREST-compatible
#   supabase-harness/service:latest    the reference service (only with --with-service)
#
# usage: docker/build.sh [--force] [--with-service] [--profile release|dev]
#   --force          rebuild the base image too (and so everything built on it)
#   --with-service   also build the service image (docker/compose.yaml uses it)
#   --profile dev    copy cargo's dev build instead of a release one; builds the whole workspace's
#                    test build, which `cargo test --workspace` then reuses (CI)
# Idempotent: a second run reuses the base, cargo's build and Docker's layer cache.
set -Eeuo pipefail

BASE_TAG=supabase-harness/debian:bookworm
POSTGRES_TAG=supabase-harness/postgres:15
AUTH_TAG=supabase-harness/auth:latest
REST_TAG=supabase-harness/rest:latest
SERVICE_TAG=supabase-harness/service:latest
LABEL=org.supabase-harness=true

force=()
with_service=0
profile=release
while (($#)); do
    arg=$1
    shift
    case "$arg" in
        --force) force=(--force) ;;
        --with-service) with_service=1 ;;
        --profile)
            profile=${1:-}
            shift || true
            [[ $profile == release || $profile == dev ]] \
                || { echo "build.sh: --profile takes release or dev" >&2; exit 2; }
            ;;
        -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
    esac
done

die() { echo "build.sh: ERROR: $*" >&2; exit 1; }
step() { echo; echo "==> [+${SECONDS}s] $*"; }
trap 'die "failed at line $LINENO: $BASH_COMMAND"' ERR

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
SECONDS=0

step "checking the Docker engine"
command -v docker >/dev/null || die "the docker CLI is not installed"
server=$(docker version --format '{{.Server.Version}}' 2>&1) \
    || die "the Docker engine does not answer (is dockerd running, may this user use it?): $server"
echo "Docker engine $server"
command -v cargo >/dev/null || die "cargo is not installed (the binaries are built on the host)"

step "base image $BASE_TAG"
"$repo/docker/base/mkimage.sh" "${force[@]}" "$BASE_TAG"

if [[ $profile == dev ]]; then
    # Every target of the workspace, so with the features `cargo test --workspace` resolves
    # (dev-dependencies included): CI's test run after this compiles nothing again (`-p rest`
    # alone rebuilt its dependencies for 21 min here).
    step "cargo build --profile dev --workspace --all-targets"
    cargo build --profile dev --locked --workspace --all-targets \
        || die "cargo build --workspace --all-targets failed"
else
    # One package per cargo run: built together, their features would be unified and each would
    # differ from (and rebuild) the binary a separate `cargo build -p auth` leaves behind.
    packages=(auth rest)
    ((with_service)) && packages+=(service)
    for package in "${packages[@]}"; do
        step "cargo build --profile $profile -p $package"
        cargo build --profile "$profile" --locked -p "$package" || die "cargo build -p $package failed"
    done
fi
# cargo puts the dev profile in target/debug.
out_dir=target/$([[ $profile == dev ]] && echo debug || echo release)

# A context of just the files the Dockerfiles copy: the repository root holds target/, which
# is gigabytes, and the legacy builder would send all of it.
context=$(mktemp -d /tmp/supabase-harness-context.XXXXXX)
trap 'rm -rf "$context"' EXIT
stage() {
    local path
    for path in "$@"; do
        [[ -e $path ]] || die "missing $path (run from a full checkout)"
        mkdir -p "$context/$(dirname "$path")"
        cp -a "$path" "$context/$path"
    done
}
stage docker/postgres db/init db/migrations docker/auth docker/rest docker/service
# The Dockerfiles copy bin/NAME, whichever profile built it.
mkdir -p "$context/bin"
cp "$out_dir/auth" "$context/bin/auth"
cp "$out_dir/rest" "$context/bin/rest"
((with_service)) && cp "$out_dir/service" "$context/bin/service"

build() {
    local tag=$1 dockerfile=$2
    step "image $tag"
    docker build --pull=false --build-arg "BASE=$BASE_TAG" --label "$LABEL" \
        -f "$context/$dockerfile" -t "$tag" "$context" \
        || die "docker build of $tag failed"
}
# The binary links glibc dynamically: prove the image's glibc can load it.
check_links() {
    local tag=$1 binary=$2 out
    out=$(docker run --rm --label "$LABEL" --entrypoint ldd "$tag" "$binary" 2>&1) \
        || die "ldd $binary in $tag failed: $out"
    if grep -q 'not found' <<<"$out"; then
        die "$binary cannot run in $tag (built against a newer glibc than bookworm's?):"$'\n'"$out"
    fi
}

build "$POSTGRES_TAG" docker/postgres/Dockerfile
build "$AUTH_TAG" docker/auth/Dockerfile
check_links "$AUTH_TAG" /usr/local/bin/auth
build "$REST_TAG" docker/rest/Dockerfile
check_links "$REST_TAG" /bin/postgrest
if ((with_service)); then
    build "$SERVICE_TAG" docker/service/Dockerfile
    check_links "$SERVICE_TAG" /usr/local/bin/service
fi

# The images these tags pointed to before a rebuild: ours (by label), unused, untagged.
docker image prune --force --filter "label=$LABEL" >/dev/null

echo; echo "==> done in ${SECONDS}s"
docker image ls --filter "label=$LABEL" --format '{{.Repository}}:{{.Tag}}  {{.Size}}'
