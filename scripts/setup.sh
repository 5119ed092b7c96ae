#!/bin/bash
# Install what the build, the tests and the demo need on Debian 12 (only
# the packages that are missing), then configure and build into ./build.
# Run as root on a fresh machine; later runs only rebuild what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake gcc make pkg-config libcapstone-dev libffi-dev libsdl2-dev check nasm
          gcc-multilib clang gdb python3 seabios xorriso isolinux syslinux-common
          libpng-dev xvfb xdotool acpica-tools syslinux mtools dosfstools fdisk cpio linux-perf)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: need root to install packages (run as root, or install: ${missing[*]})" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    ok=0
    for attempt in 1 2 3; do
        if apt-get update; then
            ok=1
            break
        fi
        echo "setup: apt-get update failed (attempt $attempt of 3)" >&2
        sleep $((attempt * 5))
    done
    # An index can fail while a mirror syncs: go on if the packages resolve.
    ((ok)) || echo "setup: apt-get update reported errors; trying the install anyway" >&2
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C build -j2
