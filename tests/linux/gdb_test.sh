#!/bin/bash
# The Debian kernel under gdb.  Makes the kernel's symbol map
# (kallsyms.sh), boots with nokaslr under -gdb unix:SOCK -S and drives the
# stub with Debian's gdb.  A breakpoint makes the machine run one
# instruction per slice, far too slow for the 2.3e9 instructions of the
# decompressor, so gdb first runs to the kernel's own startup code with a
# write watchpoint (the interpreter, at full slices) on the last word of the
# kernel's bss, which the kernel's startup code clears (the decompressor's
# own stops there are skipped: their pc is outside the kernel's code).
# Then: a breakpoint at start_kernel's address, CR0/CR3
# there (paging on), monitor walk of start_kernel (physical = virtual -
# PAGE_OFFSET, 0xC0000000 on Debian's i386 kernels), a paging breakpoint on
# the next CR3 load, the page-table history, kill.
#
#   gdb_test.sh UMBRA SOURCE_DIR [MAP]
#
# MAP, if given, is where the symbol map is kept (for linux_profile).
set -u
umbra=$1 srcdir=$2
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
tmp=$(mktemp -d)
map=${3:-$tmp/System.map}
upid=
cleanup() {
    [ -n "$upid" ] && kill "$upid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$tmp"/*.out; do [ -f "$f" ] && { echo "--- $(basename "$f"):"; tail -n 80 "$f"; }; done
    exit 1
}
need() { grep -qF -- "$1" "$2" || fail "no '$1' in $(basename "$2")"; }

mkdir -p "$(dirname "$map")"
"$srcdir/tests/linux/kallsyms.sh" "$umbra" "$srcdir" "$map" || fail "no symbol map"
sk=$(awk '$3 == "start_kernel" { print $1 }' "$map")
[ -n "$sk" ] || fail "no start_kernel in the map"
sk_phys=$(printf '0x%x' $(( 0x$sk - 0xc0000000 )))
code=$(sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) : Kernel code$/0x\1 0x\2/p' "$map.iomem")
bss_end=$(sed -n 's/^[0-9a-f]*-\([0-9a-f]*\) : Kernel bss$/0x\1/p' "$map.iomem")
[ -n "$code" ] && [ -n "$bss_end" ] || fail "no kernel code or bss range in $map.iomem"
set -- $code
watch=$(printf '0x%x' $(( bss_end - 3 )))
echo "start_kernel at 0x$sk, physical $sk_phys"

start=$(date +%s)
sock=$tmp/gdb.sock
timeout 200 "$umbra" -clock virtual -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" \
    -append "console=ttyS0 acpi=off panic=-1 nokaslr" -serial stdio -no-reboot \
    -display none -m 256 -paging-history 4096 -gdb "unix:$sock" -S \
    </dev/null >"$tmp/umbra.out" 2>&1 &
upid=$!
for _ in $(seq 100); do
    [ -S "$sock" ] && break
    sleep 0.05
done
[ -S "$sock" ] || fail "umbra did not open $sock"

timeout 200 gdb -batch -nx \
    -ex "target remote $sock" \
    -ex "watch *(int *)$watch" \
    -ex "python
for i in range(50):
    gdb.execute('continue')
    pc = int(gdb.parse_and_eval('\$pc')) & 0xffffffff
    if $1 <= pc <= $2:
        print('in the kernel startup code at 0x%x' % pc)
        break
" \
    -ex 'delete' \
    -ex "break *0x$sk" \
    -ex 'continue' \
    -ex 'p/x $pc' \
    -ex 'p/x $cr0' \
    -ex 'p/x $cr3' \
    -ex "monitor walk 0x$sk" \
    -ex 'delete' \
    -ex 'monitor break cr3' \
    -ex 'continue' \
    -ex 'p/x $pc' \
    -ex 'p/x $cr3' \
    -ex 'monitor break clear' \
    -ex 'monitor history pte' \
    -ex 'kill' \
    >"$tmp/gdb.out" 2>&1 </dev/null
wait "$upid"
status=$?
upid=
echo "gdb session: $(($(date +%s) - start)) s, umbra exited $status"
o=$tmp/gdb.out
need "Breakpoint 2 at 0x$sk" "$o"
need "Breakpoint 2, 0x$sk in" "$o"
need "in the kernel startup code at" "$o"
grep -q "^\$1 = 0x$sk\$" "$o" || fail "the stop is not at start_kernel (0x$sk)"
cr0=$(sed -n 's/^\$2 = //p' "$o")
cr3=$(sed -n 's/^\$3 = //p' "$o")
[ -n "$cr0" ] && [ $(( cr0 & 0x80000000 )) -ne 0 ] || fail "paging is off at start_kernel (cr0 '$cr0')"
[ -n "$cr3" ] && [ $(( cr3 )) -ne 0 ] || fail "cr3 is zero at start_kernel"
need "-> physical $(printf '0x%09x' "$sk_phys")" "$o"
grep -q '^paging break: CR3 load 0x[0-9a-f]* at 0060:c[0-9a-f]\{7\}' "$o" ||
    fail "no paging break on a CR3 load in kernel code"
new_cr3=$(sed -n 's/^paging break: CR3 load \(0x[0-9a-f]*\) .*/\1/p' "$o" | head -n 1)
grep -q "^\$5 = $(printf '0x%x' "$new_cr3")\$" "$o" || fail "cr3 after the break is not $new_cr3"
grep -Eq 'pte 0x[0-9a-f]+: 0x[0-9a-f]+ -> 0x[0-9a-f]+' "$o" || fail "monitor history pte lists nothing"
[ "$status" -eq 0 ] || fail "umbra exited $status after kill, expected 0"
echo "--- gdb transcript from the kernel's startup code on:"
sed -n '/^in the kernel startup code/,$p' "$o" | head -n 60
echo PASS
