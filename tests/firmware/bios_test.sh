#!/bin/sh
# Boots through Debian's SeaBIOS, one case per ctest test.
#   bios_test.sh UMBRA SOURCE_DIR BUILD_DIR CASE [EXTRA-FLAGS]
# Every run uses the deterministic clock, -no-reboot and an instruction
# bound, and sends the firmware's log (port 0x402) and port 0xE9 to a file.
set -u
umbra=$1 srcdir=$2 builddir=$3 case=$4 extra=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fw=/usr/share/seabios/bios-256k.bin

fail() { echo "FAIL ($case): $*"; echo "--- debug console:"; cat "$tmp/con"; echo "--- stderr:"
         cat "$tmp/err"; exit 1; }
[ -f "$fw" ] || { echo "FAIL ($case): $fw missing (scripts/setup.sh installs seabios)"; exit 1; }

# run STATUS LIMIT ARGS...: umbra with no -kernel, so it powers on into the
# default firmware; the exit status must be STATUS.
run() {
    want=$1 limit=$2
    shift 2
    # shellcheck disable=SC2086
    (cd "$tmp" && timeout 300 "$umbra" -clock virtual -m 64 -display none -no-reboot \
        -debugcon file:"$tmp/con" -icount-limit "$limit" "$@" $extra) \
        >"$tmp/out" 2>"$tmp/err" </dev/null
    got=$?
    [ "$got" -eq "$want" ] || fail "umbra $* exited $got, expected $want"
}

has() { grep -qF -- "$1" "$tmp/con" || fail "no '$1' on the debug console"; }

case $case in
banner)
    # No disks: the firmware finds nothing to boot, waits its 60 s (idle
    # time, skipped by the virtual clock) and reboots, which -no-reboot
    # turns into the end of the run (status 0).
    run 0 8000000000
    has "SeaBIOS (version "
    has "Found QEMU fw_cfg"
    # The firmware took the memory map from fw_cfg's etc/e820 ...
    has "qemu/e820: addr 0x0000000000000000 len 0x0000000004000000 [RAM]"
    # ... found the i440FX and the PIIX3 on PCI bus 0 ...
    has "PCI: init bdf=00:00.0 id=8086:1237"
    has "PCI: init bdf=00:01.0 id=8086:7000"
    # ... ran from its shadow copy in RAM (its init code moved itself out
    # of the BIOS area, which needs the PAM registers) ...
    has "Relocating init from 0x000"
    has "No bootable device."
    has "Attempting a hard reboot" ;;
*)
    fail "unknown case" ;;
esac
echo "PASS ($case)"
