#!/bin/bash
# Boots Debian's kernel for the first N instructions under each executor
# (-exec jit, block and interp) with a deterministic machine (-clock
# virtual, no APIC) and checks that all three end in the same state: the
# same registers, segments, control registers and instruction count, the
# same checksum of all of RAM (-d state), and the same console output.
# The interpreter is the reference; the translator and the block replay
# must match it exactly.
#
#   lockstep.sh UMBRA SOURCE_DIR [N]      (default N: 500000000)
#
# Environment: UMBRA_GUEST_CACHE (default SOURCE_DIR/cache/guest).
#
# Interrupts reach all three executors at the same instruction: the
# 8259A's EOI and mask writes are port I/O, after which every executor
# returns to the run loop, and timer interrupts are raised between the
# run loop's slices, which the virtual clock makes the same.  The RTC
# starts at a fixed date (-rtc base=) instead of the host's time.
# The RTC starts at a fixed date (-rtc base=), not the host.s time.
set -u
umbra=$1 srcdir=$2 n=${3:-500000000}
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
for f in vmlinuz initrd.img; do
    if [ ! -s "$guest/$f" ]; then
        echo "FAIL: $guest/$f is missing: run scripts/fetch-guest.sh (bash scripts/test.sh does)"
        exit 1
    fi
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/umbra-lockstep.XXXXXX")
status=0
for exec in interp block jit; do
    timeout 600 "$umbra" -exec "$exec" -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" \
        -append "console=ttyS0 acpi=off panic=-1" -serial stdio -no-reboot -m 256 \
        -no-apic -clock virtual -rtc base=2026-01-01 -icount-limit "$n" -d state \
        -D "$dir/state-$exec" \
        </dev/null >"$dir/console-$exec" 2>&1
    rc=$?
    if [ "$rc" -ne 4 ]; then
        echo "FAIL: -exec $exec exited with status $rc before $n instructions"
        status=1
    fi
done
cat "$dir/state-interp"
for exec in block jit; do
    if ! diff -u "$dir/state-interp" "$dir/state-$exec"; then
        echo "FAIL: -exec $exec ends in another state than -exec interp"
        status=1
    fi
    if ! cmp -s "$dir/console-interp" "$dir/console-$exec"; then
        echo "FAIL: -exec $exec printed other console output than -exec interp"
        diff "$dir/console-interp" "$dir/console-$exec" | head -20
        status=1
    fi
done
if [ "$status" -eq 0 ]; then
    echo "PASS: $n instructions, same state under jit, block and interp"
    rm -rf "$dir"
else
    echo "(outputs kept in $dir)"
fi
exit "$status"
