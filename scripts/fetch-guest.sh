#!/bin/bash
# Fetch the Linux test guest: Debian 12's i386 kernel (the package the
# linux-image-686 metapackage depends on today) and busybox-static, and
# build an initramfs around scripts/initramfs/init.
#
#   scripts/fetch-guest.sh [CACHE_DIR]      (default: cache/guest in the repository)
#
# Produces CACHE_DIR/vmlinuz (a bzImage) and CACHE_DIR/initrd.img (a
# gzip-compressed newc cpio archive), ready for
#   umbra -kernel CACHE_DIR/vmlinuz -initrd CACHE_DIR/initrd.img -append console=ttyS0
# Needs root on Debian 12 (it adds the i386 architecture to dpkg and may
# install cpio).  Running it again only redoes what is missing or stale.
set -euo pipefail
shopt -s inherit_errexit
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-${UMBRA_GUEST_CACHE:-$repo/cache/guest}}
init_src=$repo/scripts/initramfs/init
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

say() { echo "fetch-guest: $*" >&2; }
die() { echo "fetch-guest: $*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "need root to $1 (run as root)"
}

export DEBIAN_FRONTEND=noninteractive

# The packages resolve once the i386 index is in place.
packages_resolve() {
    apt-cache show linux-image-686:i386 >/dev/null 2>&1 &&
        apt-cache show busybox-static:i386 >/dev/null 2>&1
}

prepare_apt() {
    if ! dpkg --print-foreign-architectures | grep -qx i386; then
        need_root "add the i386 architecture"
        say "adding the i386 architecture to dpkg"
        dpkg --add-architecture i386
    fi
    if packages_resolve; then
        return 0
    fi
    need_root "run apt-get update"
    # An index can fail to download while a mirror syncs; what matters is
    # whether the packages resolve afterwards.
    for attempt in 1 2 3; do
        say "apt-get update (attempt $attempt)"
        apt-get update -q || true
        if packages_resolve; then
            return 0
        fi
        sleep 5
    done
    die "linux-image-686:i386 or busybox-static:i386 does not resolve after 3 apt-get updates"
}

# linux-image-686 depends on linux-image-6.1.0-NN-686; never assume NN.
kernel_package() {
    apt-cache depends linux-image-686:i386 |
        sed -n 's/^ *Depends: *\(linux-image-[0-9][^ :]*\).*/\1/p' | head -n 1
}

# Download a package's .deb into the cache unless that version is there.
fetch_deb() {
    local pkg=$1 ver file
    ver=$(apt-cache policy "$pkg:i386" | sed -n 's/^ *Candidate: *//p')
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no candidate version for $pkg:i386"
    file=$(ls "$cache/debs/${pkg}_${ver//:/%3a}_i386.deb" 2>/dev/null || true)
    if [ -z "$file" ]; then
        say "downloading $pkg:i386 $ver"
        (cd "$cache/debs" && apt-get download -q "$pkg:i386=$ver") >&2 ||
            die "apt-get download $pkg:i386 failed"
        file=$(ls "$cache/debs/${pkg}_${ver//:/%3a}_i386.deb" 2>/dev/null || true)
        [ -n "$file" ] || die "apt-get download did not produce ${pkg}_${ver}_i386.deb"
    fi
    echo "$file"
}

ensure_cpio() {
    command -v cpio >/dev/null && return 0
    need_root "install cpio"
    say "installing cpio"
    apt-get install -y -q cpio >/dev/null || die "cannot install cpio"
}

build_initrd() {
    local busybox=$1 out=$cache/initrd.img stage
    if [ -s "$out" ] && [ "$out" -nt "$init_src" ] && [ "$out" -nt "$busybox" ]; then
        say "initrd.img is up to date"
        return 0
    fi
    ensure_cpio
    stage=$(mktemp -d)
    mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc}
    cp "$busybox" "$stage/bin/busybox"
    chmod 755 "$stage/bin/busybox"
    ln -s busybox "$stage/bin/sh"
    install -m 755 "$init_src" "$stage/init"
    chmod 1777 "$stage/tmp"
    # The kernel opens /dev/console before /init runs, and a Debian kernel's
    # built-in initramfs provides it; include it anyway where we may.
    if [ "$(id -u)" -eq 0 ]; then
        mknod -m 600 "$stage/dev/console" c 5 1
        mknod -m 666 "$stage/dev/null" c 1 3
    else
        say "not root: /dev/console left to the kernel's built-in initramfs"
    fi
    (cd "$stage" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0) | gzip -9 >"$out.tmp"
    rm -rf "$stage"
    mv "$out.tmp" "$out"
    say "built initrd.img ($(stat -c %s "$out") bytes)"
}

prepare_apt
kpkg=$(kernel_package)
[ -n "$kpkg" ] || die "cannot find the kernel package linux-image-686:i386 depends on"
say "kernel package: $kpkg"
kdeb=$(fetch_deb "$kpkg")
bdeb=$(fetch_deb busybox-static)

# Extract each package once per version.
extract() {
    local deb=$1 dir
    dir=$cache/root/$(basename "$deb" .deb)
    if [ ! -d "$dir" ]; then
        rm -rf "$dir.tmp"
        mkdir -p "$dir.tmp"
        dpkg-deb -x "$deb" "$dir.tmp" || die "cannot extract $deb"
        mv "$dir.tmp" "$dir"
    fi
    echo "$dir"
}
kroot=$(extract "$kdeb")
broot=$(extract "$bdeb")

vmlinuz=$(ls "$kroot"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || die "$kdeb holds no /boot/vmlinuz-*"
if ! cmp -s "$vmlinuz" "$cache/vmlinuz"; then
    cp "$vmlinuz" "$cache/vmlinuz.tmp"
    mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
    say "copied $(basename "$vmlinuz") to vmlinuz"
fi
[ -x "$broot/bin/busybox" ] || die "$bdeb holds no /bin/busybox"
build_initrd "$broot/bin/busybox"

echo "$cache/vmlinuz"
echo "$cache/initrd.img"
