#!/bin/bash
# Boots Debian 12's text-mode installer (scripts/fetch-installer.sh) for a
# bounded number of instructions and checks its first dialog ("Select a
# language") was drawn:
#   direct (default): -kernel/-initrd with the console on the serial port,
#           the dialog read from the serial output;
#   cd:     an installer CD built here (make_cd_iso.sh: isolinux with the
#           installer's kernel and initrd) booted by SeaBIOS from the
#           ATAPI drive, the console on the VGA in text mode (nomodeset
#           keeps the kernel off the Bochs framebuffer), the dialog read
#           from VGA text memory at the end (-textdump-at-exit).
#
#   installer_test.sh UMBRA SOURCE_DIR direct|cd [UMBRA OPTIONS...]
#
# Environment: UMBRA_GUEST_CACHE (default SOURCE_DIR/cache/guest),
# INSTALLER_ICOUNT (instructions, default 40000000000).
set -u
umbra=$1 srcdir=$2 via=$3
shift 3
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
icount=${INSTALLER_ICOUNT:-40000000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

images=$("$srcdir/scripts/fetch-installer.sh" "$guest") ||
    { echo "FAIL: cannot fetch the Debian installer (scripts/fetch-installer.sh)"; exit 1; }

# The installer wants more than 256 MB ("Low memory mode" below 273 MB).
start=$(date +%s)
case $via in
direct)
    timeout 300 "$umbra" -clock virtual "$@" -kernel "$images/linux" -initrd "$images/initrd.gz" \
        -append "vga=normal fb=false console=ttyS0" -m 512 -serial file:"$tmp/serial" \
        -display none -no-reboot -icount-limit "$icount" </dev/null >"$tmp/out" 2>&1
    status=$?
    screen=$tmp/serial
    ;;
cd)
    "$srcdir/tests/linux/make_cd_iso.sh" "$tmp/inst.iso" "$guest" "vga=normal nomodeset fb=false" \
        "$images/linux" "$images/initrd.gz" || { echo "FAIL: no installer ISO"; exit 1; }
    timeout 300 "$umbra" -clock virtual "$@" -cdrom "$tmp/inst.iso" -boot d -m 512 \
        -serial file:"$tmp/serial" -debugcon file:"$tmp/con" -display none -no-reboot \
        -icount-limit "$icount" -textdump-at-exit "$tmp/screen.txt" </dev/null >"$tmp/out" 2>&1
    status=$?
    screen=$tmp/screen.txt
    ;;
*)
    echo "FAIL: unknown boot '$via' (direct or cd)"
    exit 2
    ;;
esac
echo "umbra exited with status $status after $(($(date +%s) - start)) s"
failures=0
[ "$status" -eq 4 ] || { echo "FAIL: umbra exited with status $status, expected 4 (instruction limit)"; failures=1; }
grep -qaF 'Select a language' "$screen" || { echo "FAIL: no \"Select a language\" dialog"; failures=1; }
grep -qaE 'Kernel panic|Oops|BUG:' "$tmp/serial" "$screen" && { echo "FAIL: the kernel reported trouble"; failures=1; }
if [ "$via" = cd ]; then
    grep -qF "Booting from DVD/CD..." "$tmp/con" || { echo "FAIL: the firmware did not boot the CD"; failures=1; }
    # the dialog's frame and its first choices, as the screen holds them
    grep -qE '^ +\. +C +- +No localization' "$screen" || { echo "FAIL: no language list on the screen"; failures=1; }
fi
if [ "$failures" -ne 0 ]; then
    echo "--- screen or serial console (last 40 lines):"; tr -d '\r' <"$screen" | tail -n 40
    cat "$tmp/out"
    exit 1
fi
echo PASS
