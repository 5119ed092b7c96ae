#!/bin/bash
# Boot the Debian test guest with umbra.kallsyms=1 and nokaslr and write its
# kernel text symbols as a System.map (ADDRESS TYPE NAME, sorted), the map
# Debian's linux-image package does not ship.  With nokaslr the addresses
# are those the kernel runs at on every boot, so the map serves gdb and
# -profile-symbols in later runs.
#
#   kallsyms.sh UMBRA SOURCE_DIR OUT
#
# OUT.iomem gets the guest's "Kernel code/data/bss" lines of /proc/iomem
# (physical ranges).
# Environment: UMBRA_GUEST_CACHE (default SOURCE_DIR/cache/guest).
# The cached initrd is left alone: a second initrd part, an uncompressed
# cpio archive the kernel unpacks over the first, brings this tree's
# scripts/initramfs/init.  `quiet` keeps the kernel's informational
# messages from landing in the middle of a symbol's line.  Exits non-zero,
# with the console's tail, if the guest printed no symbols or no
# start_kernel.
set -u
umbra=$1 srcdir=$2 out=$3
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
for f in vmlinuz initrd.img; do
    [ -s "$guest/$f" ] || { echo "FAIL: $guest/$f is missing: run scripts/fetch-guest.sh"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/stage"
install -m 755 "$srcdir/scripts/initramfs/init" "$tmp/stage/init"
(cd "$tmp/stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
    >"$tmp/init.cpio" || { echo "FAIL: cpio"; exit 1; }

start=$(date +%s)
timeout 300 "$umbra" -clock virtual -kernel "$guest/vmlinuz" \
    -initrd "$guest/initrd.img,$tmp/init.cpio" \
    -append "console=ttyS0 acpi=off panic=-1 nokaslr quiet umbra.kallsyms=1" \
    -serial stdio -no-reboot -display none -m 256 </dev/null 2>&1 | tr -d '\r' >"$tmp/console.log"
status=${PIPESTATUS[0]}
awk '$0 == "UMBRA-KALLSYMS-END" { on = 0 } on && NF == 3 { print } $0 == "UMBRA-KALLSYMS-START" { on = 1 }' \
    "$tmp/console.log" | LC_ALL=C sort >"$tmp/map"
n=$(wc -l <"$tmp/map")
echo "kallsyms: umbra exited $status after $(($(date +%s) - start)) s, $n text symbols," \
    "$(grep -m1 '^kptr_restrict=' "$tmp/console.log")"
if [ "$status" -ne 0 ] || ! grep -qx UMBRA-KALLSYMS-END "$tmp/console.log" ||
    ! grep -q ' [Tt] start_kernel$' "$tmp/map" || grep -q '^00000000 ' "$tmp/map"; then
    echo "FAIL: no usable symbol map (status $status); console's last lines:"
    grep -v '^[0-9a-f]\{8\} [Tt] ' "$tmp/console.log" | tail -n 40
    exit 1
fi
mv "$tmp/map" "$out"
sed -n 's/^iomem: //p' "$tmp/console.log" >"$out.iomem"
