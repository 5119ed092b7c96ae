#!/bin/bash
# Boots Debian 12's i386 kernel with ACPI (no acpi=off) on the tables umbra
# writes for a directly loaded kernel, and checks from the kernel's own log
# that it found them (RSDP, FADT, DSDT, MADT), used the PM timer, the SCI
# and the PCI root bridge, and reported no ACPI error; then how the run
# ends:
#
#   acpi_test.sh UMBRA SOURCE_DIR poweroff   the workload ends with
#       poweroff -f (umbra.end=poweroff): ACPI S5 ends the run, status 0,
#       without -no-reboot (a reset would start the machine again)
#   acpi_test.sh UMBRA SOURCE_DIR reboot     reboot -f with -no-reboot and
#       -no-apic (no MADT; the SCI on the 8259A): the reset ends the run
#
# Environment: UMBRA_GUEST_CACHE (default SOURCE_DIR/cache/guest),
# LINUX_BOOT_TIMEOUT (seconds, default 840).  The tree's
# scripts/initramfs/init is laid over the cached initrd (an uncompressed
# cpio archive as a second initrd part), as boot_test.sh does.
set -u
umbra=$1 srcdir=$2 mode=$3
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
limit=${LINUX_BOOT_TIMEOUT:-840}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL ($mode): $*"; failures=$((failures + 1)); }

for f in "$guest/vmlinuz" "$guest/initrd.img"; do
    [ -s "$f" ] || { echo "FAIL: $f is missing: run scripts/fetch-guest.sh"; exit 1; }
done
command -v cpio >/dev/null || { echo "FAIL: cpio missing"; exit 1; }
mkdir -p "$tmp/stage"
install -m 755 "$srcdir/scripts/initramfs/init" "$tmp/stage/init"
(cd "$tmp/stage" && echo init | cpio --quiet -o -H newc -R 0:0) >"$tmp/init.cpio"

case $mode in
poweroff) append="umbra.end=poweroff" flags=() ;;
reboot) append="" flags=(-no-reboot -no-apic) ;;
*) echo "FAIL: unknown mode $mode"; exit 1 ;;
esac

echo "umbra -clock virtual ${flags[*]} -kernel vmlinuz -append \"console=ttyS0 panic=-1 $append\""
start=$(date +%s)
timeout "$limit" "$umbra" -clock virtual "${flags[@]}" -kernel "$guest/vmlinuz" \
    -initrd "$guest/initrd.img,$tmp/init.cpio" -append "console=ttyS0 panic=-1 $append" \
    -serial stdio -m 256 -display none </dev/null 2>"$tmp/err" | tr -d '\r' >"$tmp/log"
status=${PIPESTATUS[0]}
log=$tmp/log
echo "umbra exited with status $status after $(($(date +%s) - start)) s"

[ "$status" -eq 0 ] || fail "umbra exited with status $status, expected 0"
grep -qF "CPU halted" "$tmp/err" && fail "the run ended in HLT, not through ACPI or a reset"
grep -qx 'UMBRA-WORKLOAD-DONE' "$log" || fail "no UMBRA-WORKLOAD-DONE line"
has() { grep -qE -- "$1" "$log" || fail "the kernel never logged /$1/"; }

# The tables, as the kernel lists them.
has '^\[ *[0-9.]+\] ACPI: RSDP 0x00000000000F0000 000024 \(v02 UMBRA \)'
has 'ACPI: XSDT 0x[0-9A-F]+ 0000(34|2C) \(v01 UMBRA '
has 'ACPI: FACP 0x[0-9A-F]+ 0000F4 \(v03 UMBRA '
has 'ACPI: DSDT 0x[0-9A-F]+ '
has 'ACPI: FACS 0x[0-9A-F]+ 000040'
# What it made of them.
has 'ACPI: PM-Timer IO Port: 0x608'
has 'ACPI: 1 ACPI AML tables successfully acquired and loaded'
has 'ACPI: Interpreter enabled'
has 'ACPI: PM: \(supports S0 S5\)'
has 'ACPI: PCI Root Bridge \[PCI0\] \(domain 0000 \[bus 00-ff\]\)'
has 'clocksource: acpi_pm: mask: 0xffffff'
has 'i8042: PNP: PS/2 Controller \[PNP0303:KBD,PNP0f13:MOU\]'
has 'pci 0000:00:01.1: \[8086:7010\]'
if [ "$mode" = reboot ]; then
    grep -qF 'ACPI: APIC' "$log" && fail "-no-apic: the kernel found a MADT"
    has '^ *9: +[0-9]+ +XT-PIC +acpi'
    has 'reboot: Restarting system'
else
    has 'ACPI: APIC 0x[0-9A-F]+ '
    has 'ACPI: INT_SRC_OVR \(bus 0 bus_irq 0 global_irq 2 dfl dfl\)'
    has 'ACPI: INT_SRC_OVR \(bus 0 bus_irq 9 global_irq 9 high level\)'
    has '^ *9: +[0-9]+ +IO-APIC +9-fasteoi +acpi'
    has 'ACPI: PM: Preparing to enter system sleep state S5'
    has 'reboot: Power down'
fi
# No complaint about the tables or the AML.
grep -nE 'ACPI (BIOS )?(Error|Warning)|ACPI Exception|\[Firmware (Bug|Warn)\]|AE_[A-Z_]+' "$log" \
    >"$tmp/bad" && { fail "the kernel complains about ACPI:"; head -n 20 "$tmp/bad"; }
grep -nE 'Oops|Kernel panic|BUG:|WARNING: CPU|Call Trace' "$log" >"$tmp/bad" &&
    { fail "the kernel reported trouble:"; head -n 20 "$tmp/bad"; }
# dmesg | grep -i error, which the workload prints, is empty.
awk '$0 == "== dmesg errors" { on = 1; next } /^== / || /^UMBRA-/ { on = 0 } on' "$log" >"$tmp/errors"
[ -s "$tmp/errors" ] && { fail "dmesg reports errors:"; head -n 20 "$tmp/errors"; }

if [ "$failures" -ne 0 ]; then
    echo "--- console (last 60 lines):"; tail -n 60 "$log"
    echo "--- stderr:"; tail -n 20 "$tmp/err"
    exit 1
fi
echo "PASS ($mode)"
