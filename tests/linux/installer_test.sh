#!/bin/bash
# Boots Debian 12's text-mode installer (scripts/fetch-installer.sh) with
# its console on the serial port, for a bounded number of instructions,
# and checks its first dialog ("Select a language") was drawn.
#
#   installer_test.sh UMBRA SOURCE_DIR [UMBRA OPTIONS...]
#
# Environment: UMBRA_GUEST_CACHE (default SOURCE_DIR/cache/guest),
# INSTALLER_ICOUNT (instructions, default 40000000000).
set -u
umbra=$1 srcdir=$2
shift 2
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
icount=${INSTALLER_ICOUNT:-40000000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

images=$("$srcdir/scripts/fetch-installer.sh" "$guest") ||
    { echo "FAIL: cannot fetch the Debian installer (scripts/fetch-installer.sh)"; exit 1; }

# The installer wants more than 256 MB ("Low memory mode" below 273 MB).
start=$(date +%s)
timeout 300 "$umbra" -clock virtual "$@" -kernel "$images/linux" -initrd "$images/initrd.gz" \
    -append "vga=normal fb=false console=ttyS0" -m 512 -serial file:"$tmp/serial" \
    -display none -no-reboot -icount-limit "$icount" </dev/null >"$tmp/out" 2>&1
status=$?
echo "umbra exited with status $status after $(($(date +%s) - start)) s"
failures=0
[ "$status" -eq 4 ] || { echo "FAIL: umbra exited with status $status, expected 4 (instruction limit)"; failures=1; }
grep -qaF 'Select a language' "$tmp/serial" || { echo "FAIL: no \"Select a language\" dialog"; failures=1; }
grep -qaE 'Kernel panic|Oops|BUG:' "$tmp/serial" && { echo "FAIL: the kernel reported trouble"; failures=1; }
if [ "$failures" -ne 0 ]; then
    echo "--- serial console (last 40 lines):"; tr -d '\r' <"$tmp/serial" | tail -n 40
    cat "$tmp/out"
    exit 1
fi
echo PASS
