#!/bin/bash
# Boots Debian 12's i386 kernel with the initramfs from scripts/fetch-guest.sh
# and checks, from the serial console, that the guest came up, ran its
# workload (scripts/initramfs/init) correctly and reset the machine.
#
#   boot_test.sh UMBRA SOURCE_DIR [UMBRA OPTIONS...]     e.g. -mmu flush
#
# Environment: UMBRA_GUEST_CACHE (default SOURCE_DIR/cache/guest),
# LINUX_BOOT_TIMEOUT (seconds, default 840), UMBRA_SSE2CHECK (the static
# i386 build of tests/linux/sse2check.c; without it that check is skipped).
# A second initrd part, an uncompressed cpio archive the kernel unpacks
# over the first, brings this tree's scripts/initramfs/init and the SSE2
# program, so the cached initrd need not be rebuilt for them.
# The console log is kept in $TMPDIR as umbra-linux-boot.XXXXXX.log when
# a check fails.  The boot runs on the deterministic clock (-clock
# virtual), so it does not depend on how busy the host is.
set -u
umbra=$1 srcdir=$2
shift 2
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
limit=${LINUX_BOOT_TIMEOUT:-840}
log=$(mktemp "${TMPDIR:-/tmp}/umbra-linux-boot.XXXXXX.log")
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for f in vmlinuz initrd.img; do
    if [ ! -s "$guest/$f" ]; then
        echo "FAIL: $guest/$f is missing: run scripts/fetch-guest.sh (bash scripts/test.sh does)"
        rm -f "$log"
        exit 1
    fi
done

initrd=$guest/initrd.img
sse2_want=
sse2=${UMBRA_SSE2CHECK:-}
if [ -n "$sse2" ] && [ -x "$sse2" ] && command -v cpio >/dev/null; then
    stage=$(mktemp -d)
    mkdir -p "$stage/bin"
    install -m 755 "$srcdir/scripts/initramfs/init" "$stage/init"
    install -m 755 "$sse2" "$stage/bin/sse2check"
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
        >"$log.cpio"
    rm -rf "$stage"
    initrd="$initrd,$log.cpio"
    # The host runs the very same binary: its line is the expected one.
    sse2_want=$("$sse2")
else
    echo "note: no UMBRA_SSE2CHECK program (or no cpio): the SSE2 check is skipped"
fi

echo "umbra -clock virtual $* -kernel $guest/vmlinuz -initrd $initrd (log: $log)"
start=$(date +%s)
timeout "$limit" "$umbra" -clock virtual "$@" -kernel "$guest/vmlinuz" -initrd "$initrd" \
    -append "console=ttyS0 acpi=off panic=-1" -serial stdio -no-reboot -m 256 \
    </dev/null 2>&1 | tr -d '\r' >"$log"
status=${PIPESTATUS[0]}
rm -f "$log.cpio"
echo "umbra exited with status $status after $(($(date +%s) - start)) s"

# The lines of the console between "== NAME" and the next "== " heading.
section() {
    awk -v h="== $1" '$0 == h { on = 1; next } /^== / || /^UMBRA-/ { on = 0 } on' "$log"
}

# The run itself.
if [ "$status" -eq 124 ]; then
    fail "no reset within $limit s"
elif [ "$status" -ne 0 ]; then
    fail "umbra exited with status $status, expected 0 (reset after reboot -f with -no-reboot)"
fi
grep -qx 'UMBRA-GUEST-READY' "$log" || fail "no UMBRA-GUEST-READY line: /init never ran"
grep -qx 'UMBRA-WORKLOAD-DONE' "$log" || fail "no UMBRA-WORKLOAD-DONE line: the workload did not finish"
grep -q 'reboot: Restarting system' "$log" || fail "the kernel did not report the restart"

# Nothing the kernel says when it is in trouble.  The NMI watchdog's
# "permanently disabled" notice is benign (there is no perf counter).
grep -v 'NMI watchdog: Perf NMI watchdog permanently disabled' "$log" |
    grep -nE 'Oops|Kernel panic|BUG:|WARNING: CPU|Call Trace|(hard|soft) ?lockup|LOCKUP|Marking clocksource|clocksource.*(skew|watchdog)|unstable|[Ww]atchdog|detected stall|hung_task|general protection fault|Unable to handle|segfault|invalid opcode' \
    >"$log.bad"
if [ -s "$log.bad" ]; then
    fail "the kernel reported trouble:"
    head -n 20 "$log.bad"
fi
rm -f "$log.bad"

# /proc/cpuinfo: the emulated CPU, with its FPU.
cpuinfo=$(section /proc/cpuinfo)
grep -qE '^vendor_id[[:space:]]*: GenuineIntel$' <<<"$cpuinfo" ||
    fail "/proc/cpuinfo has no 'vendor_id : GenuineIntel'"
grep -qE '^fpu[[:space:]]*: yes$' <<<"$cpuinfo" || fail "/proc/cpuinfo does not say 'fpu : yes'"
grep -qE '^flags[[:space:]]*:.* fpu( |$)' <<<"$cpuinfo" || fail "/proc/cpuinfo flags lack fpu"
grep -qE '^processor[[:space:]]*: 0$' <<<"$cpuinfo" || fail "/proc/cpuinfo lists no processor 0"
for flag in fxsr sse sse2 pat; do
    grep -qE "^flags[[:space:]]*:.* $flag( |\$)" <<<"$cpuinfo" || fail "/proc/cpuinfo flags lack $flag"
done
grep -E '^flags' <<<"$cpuinfo" | head -n 1
grep -qE '^model name[[:space:]]*: Umbra$' <<<"$cpuinfo" || fail "/proc/cpuinfo model name is not Umbra"

# The SSE2 program printed what it prints on the host.
if [ -n "$sse2_want" ]; then
    got=$(section sse2)
    if [ "$got" = "$sse2_want" ]; then
        echo "$got (as on the host)"
    else
        fail "SSE2 program: guest printed '$got', the host '$sse2_want'"
    fi
fi

# /proc/interrupts: the timer and the serial port took interrupts.
irqs=$(section /proc/interrupts)
irq_count() {
    awk -v dev="$1" '$1 ~ /^[0-9]+:$/ && $NF == dev { print $2; found = 1 } END { if (!found) print -1 }' \
        <<<"$irqs" | head -n 1
}
for dev in timer ttyS0; do
    n=$(irq_count "$dev")
    if [ "$n" -lt 0 ] 2>/dev/null; then
        fail "/proc/interrupts has no '$dev' line"
    elif ! [ "$n" -gt 0 ] 2>/dev/null; then
        fail "/proc/interrupts: '$dev' count is '$n', expected > 0"
    else
        echo "/proc/interrupts: $dev $n"
    fi
done

# dmesg | grep -i error printed nothing.
grep -qx '== dmesg errors' "$log" || fail "no dmesg errors section"
errors=$(section 'dmesg errors')
if [ -n "$errors" ]; then
    fail "dmesg reports errors:"
    echo "$errors" | head -n 20
fi

# The fork/exec loop and the pipe report their counts.
grep -qx 'fork/exec: 200 runs' <(section fork/exec) ||
    fail "the fork/exec loop did not report 'fork/exec: 200 runs'"
section fork/exec | grep -q 'failed' && fail "/bin/true failed in the fork/exec loop"
grep -qx 'pipe: 10000 lines' <(section pipe) || fail "the pipe did not report 'pipe: 10000 lines'"

if [ "$failures" -ne 0 ]; then
    echo "--- console (last 60 lines of $log):"
    tail -n 60 "$log"
    echo "$failures check(s) failed"
    exit 1
fi
rm -f "$log"
echo PASS
