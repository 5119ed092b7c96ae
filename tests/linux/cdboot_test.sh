#!/bin/bash
# Boots Debian 12's i386 kernel and the initramfs from scripts/fetch-guest.sh
# the way a PC boots an installer CD: SeaBIOS finds an El Torito ISO
# (built here with xorriso around Debian's isolinux) on the ATAPI drive,
# isolinux loads the kernel and initrd with BIOS calls, and the guest runs
# its workload (scripts/initramfs/init) and resets the machine.  The
# marker is checked on the serial console and in VGA text memory.
#
#   cdboot_test.sh UMBRA SOURCE_DIR [UMBRA OPTIONS...]
#
# Environment: UMBRA_GUEST_CACHE (default SOURCE_DIR/cache/guest),
# LINUX_BOOT_TIMEOUT (seconds, default 840), CDBOOT_ACPI=1 to boot the
# kernel without acpi=off, on the ACPI tables SeaBIOS installed from
# fw_cfg, and check it found them and reported no ACPI error.
set -u
umbra=$1 srcdir=$2
shift 2
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
limit=${LINUX_BOOT_TIMEOUT:-840}
acpi=${CDBOOT_ACPI:-0}
acpi_off=acpi=off
[ "$acpi" = 1 ] && acpi_off=
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The ISO, built as the benchmark builds it (make_cd_iso.sh).
"$srcdir/tests/linux/make_cd_iso.sh" "$tmp/cd.iso" "$guest" "console=ttyS0 $acpi_off panic=-1" ||
    { echo "FAIL: no ISO"; exit 1; }

echo "umbra -clock virtual $* -cdrom cd.iso -boot d -m 256"
start=$(date +%s)
timeout "$limit" "$umbra" -clock virtual "$@" -cdrom "$tmp/cd.iso" -boot d -m 256 \
    -serial file:"$tmp/serial" -debugcon file:"$tmp/con" -display none -no-reboot \
    -textdump-at-exit "$tmp/screen.txt" </dev/null >"$tmp/out" 2>&1
status=$?
echo "umbra exited with status $status after $(($(date +%s) - start)) s"
log=$tmp/serial.txt
tr -d '\r' <"$tmp/serial" >"$log"

[ "$status" -eq 0 ] || fail "umbra exited with status $status, expected 0 (reset with -no-reboot)"
grep -qF "Booting from DVD/CD..." "$tmp/con" || fail "the firmware did not boot the CD"
grep -qx 'UMBRA-GUEST-READY' "$log" || fail "no UMBRA-GUEST-READY line: /init never ran"
# /init writes the marker to the first virtual terminal too: the VGA's
# text memory holds it at the end.
grep -q 'UMBRA-GUEST-READY' "$tmp/screen.txt" ||
    { fail "no UMBRA-GUEST-READY in VGA text memory:"; cat "$tmp/screen.txt"; }
grep -qx 'UMBRA-WORKLOAD-DONE' "$log" || fail "no UMBRA-WORKLOAD-DONE line"
grep -q 'reboot: Restarting system' "$log" || fail "the kernel did not report the restart"
# The firmware's MP table routes the timer as the board does (IRQ0 on
# I/O APIC pin 2), so the kernel finds nothing to complain about.
grep -E 'Oops|Kernel panic|BUG:|WARNING: CPU|Call Trace|MP-BIOS bug|general protection fault|Unable to handle' \
    "$log" >"$tmp/bad" && { fail "the kernel reported trouble:"; head -n 20 "$tmp/bad"; }
grep -qE '^ *0: +[0-9]+ +IO-APIC +2-edge +timer' "$log" || fail "the timer is not on I/O APIC pin 2"
if [ "$acpi" = 1 ]; then
    # The tables are the board's, placed by the firmware (the RSDP in its
    # F segment), and the kernel finds nothing wrong with them.
    grep -qE 'ACPI: RSDP 0x00000000000F[0-9A-F]{4} 000024 \(v02 UMBRA \)' "$log" ||
        fail "no RSDP of umbra's in the F segment"
    grep -qE 'ACPI: FACP 0x[0-9A-F]+ 0000F4 \(v03 UMBRA ' "$log" || fail "no FADT"
    grep -qF 'ACPI: PM: (supports S0 S5)' "$log" || fail "no S5 from the DSDT"
    grep -qF 'ACPI: PCI Root Bridge [PCI0]' "$log" || fail "no PCI root bridge"
    grep -nE 'ACPI (BIOS )?(Error|Warning)|ACPI Exception|\[Firmware (Bug|Warn)\]' "$log" \
        >"$tmp/bad" && { fail "the kernel complains about ACPI:"; head -n 20 "$tmp/bad"; }
fi

if [ "$failures" -ne 0 ]; then
    echo "--- serial console (last 40 lines):"; tail -n 40 "$log"
    echo "--- debug console (last 20 lines):"; tail -n 20 "$tmp/con"
    exit 1
fi
echo PASS
