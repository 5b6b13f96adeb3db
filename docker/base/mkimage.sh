#!/usr/bin/env bash
# Builds the Debian bookworm base image without any registry: debootstrap (minbase) into a
# root filesystem, then `docker import`. Every other local image starts FROM this one.
#
# usage: docker/base/mkimage.sh [--force] [TAG]     (TAG defaults to supabase-harness/debian:bookworm)
set -euo pipefail

force=0
tag=supabase-harness/debian:bookworm
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -*) echo "mkimage.sh: unknown option $arg" >&2; exit 2 ;;
        *) tag=$arg ;;
    esac
done
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

die() { echo "mkimage.sh: $*" >&2; exit 1; }

if [[ $force == 0 ]] && docker image inspect "$tag" >/dev/null 2>&1; then
    echo "base image $tag already present (use --force to rebuild)"
    exit 0
fi
[[ $(id -u) == 0 ]] || die "debootstrap needs root (it creates device nodes and chroots); run as root or with sudo"
command -v debootstrap >/dev/null || die "debootstrap is not installed: apt-get install -y debootstrap"

rootfs=$(mktemp -d /tmp/supabase-harness-rootfs.XXXXXX)
# The rootfs is owned by root and holds device nodes: remove it even on failure.
trap 'rm -rf --one-file-system "$rootfs"' EXIT

echo "debootstrap bookworm (minbase) from $mirror into $rootfs"
debootstrap --variant=minbase --merged-usr bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 30 "$rootfs.log" >&2; die "debootstrap failed (full log: $rootfs.log)"; }
rm -f "$rootfs.log"

# Updates and security too, so images built FROM this get the current point releases.
cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
SOURCES
# Keep images small: no recommends, no docs or man pages, no apt caches.
cat >"$rootfs/etc/apt/apt.conf.d/90supabase-harness" <<'APTCONF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APTCONF
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/90supabase-harness" <<'DPKGCFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKGCFG
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
# Container images carry no kernel-facing state: no machine id, no hostname.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/etc/hostname"

echo "docker import as $tag"
tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'LABEL org.supabase-harness=true' \
    --change 'CMD ["bash"]' \
    --message "debootstrap --variant=minbase bookworm $mirror" \
    - "$tag" >/dev/null \
    || die "docker import failed"
echo "base image $tag built ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
