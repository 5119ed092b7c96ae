#!/bin/bash
# Fetch Debian 12's text-mode installer for i386 (the netboot kernel and
# initrd from debian-installer-12-netboot-i386, architecture all).
#
#   scripts/fetch-installer.sh [CACHE_DIR]   (default: cache/guest in the repository)
#
# Downloads the package into CACHE_DIR/debs, extracts it once per version
# into CACHE_DIR/installer/VERSION and prints the directory holding
# `linux` and `initrd.gz`.  Running it again only redoes what is missing.
set -euo pipefail
shopt -s inherit_errexit
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-${UMBRA_GUEST_CACHE:-$repo/cache/guest}}
pkg=debian-installer-12-netboot-i386
mkdir -p "$cache/debs" "$cache/installer"
cache=$(cd "$cache" && pwd)
say() { echo "fetch-installer: $*" >&2; }
die() { echo "fetch-installer: $*" >&2; exit 1; }

ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    [ "$(id -u)" -eq 0 ] || die "$pkg does not resolve (run apt-get update as root)"
    apt-get update -q >&2 || true
    ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: *//p')
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no candidate version for $pkg"
fi
deb=$cache/debs/${pkg}_${ver//:/%3a}_all.deb
if [ ! -s "$deb" ]; then
    say "downloading $pkg $ver"
    (cd "$cache/debs" && apt-get download -q "$pkg=$ver") >&2 || die "apt-get download $pkg failed"
    [ -s "$deb" ] || die "apt-get download did not produce $(basename "$deb")"
fi
dir=$cache/installer/$ver
if [ ! -d "$dir" ]; then
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    dpkg-deb -x "$deb" "$dir.tmp" || die "cannot extract $deb"
    mv "$dir.tmp" "$dir"
fi
images=$dir/usr/lib/debian-installer/images/12/i386/text/debian-installer/i386
[ -s "$images/linux" ] && [ -s "$images/initrd.gz" ] || die "$deb holds no text-mode linux and initrd.gz"
echo "$images"
