#!/bin/bash
# -profile names the hottest functions of a Linux boot.  Boots the Debian
# guest with nokaslr for a fixed 4e9 instructions (the decompressor takes
# 2.3e9 of them, the kernel's start the rest) under -profile with the
# kernel's symbol map (kallsyms.sh) as -profile-symbols, then checks with
# python3's json module that the five hottest blocks in kernel text carry
# the symbol the map gives for their address, and prints the ten hottest
# functions.
#
#   profile_test.sh UMBRA SOURCE_DIR [MAP]
#
# MAP: a map made by kallsyms.sh (linux_gdb leaves one); made here if absent.
set -u
umbra=$1 srcdir=$2
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
map=${3:-}
fail() {
    echo "FAIL: $*"
    for f in "$tmp"/*.out; do [ -f "$f" ] && { echo "--- $(basename "$f"):"; tail -n 40 "$f"; }; done
    exit 1
}

if [ -z "$map" ] || [ ! -s "$map" ]; then
    map=$tmp/System.map
    "$srcdir/tests/linux/kallsyms.sh" "$umbra" "$srcdir" "$map" || fail "no symbol map"
fi

start=$(date +%s)
timeout 300 "$umbra" -clock virtual -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" \
    -append "console=ttyS0 acpi=off panic=-1 nokaslr" -serial none -no-reboot \
    -display none -m 256 -icount-limit 4000000000 \
    -profile "$tmp/prof.json" -profile-symbols "$map" </dev/null >"$tmp/umbra.out" 2>&1
status=$?
echo "profiled boot: $(($(date +%s) - start)) s, umbra exited $status"
[ "$status" -eq 4 ] || fail "umbra exited $status, expected 4 (instruction limit)"

python3 - "$tmp/prof.json" "$map" >"$tmp/check.out" 2>&1 <<'PY' || fail "the profile does not name the kernel's hot blocks"
import bisect, json, sys
prof = json.load(open(sys.argv[1]))
syms = []
for line in open(sys.argv[2]):
    addr, kind, name = line.split()
    syms.append((int(addr, 16), name))
syms.sort()
addrs = [a for a, _ in syms]
lo, hi = addrs[0], addrs[-1]

names = {}
for a, name in syms:
    names.setdefault(a, set()).add(name)

# Every name the map gives the address (aliases share one).
def expected(lin):
    a = addrs[bisect.bisect_right(addrs, lin) - 1]
    return {n if lin == a else "%s+0x%x" % (n, lin - a) for n in names[a]}

blocks = sorted(prof["blocks"], key=lambda b: -b["insns_retired"])
kernel = [b for b in blocks if lo <= b["lin"] <= hi + 0x100000]
if len(kernel) < 5:
    raise SystemExit("only %d blocks in kernel text" % len(kernel))
for b in kernel[:5]:
    want = expected(b["lin"])
    got = b.get("symbol")
    print("0x%08x %12d insns  %s" % (b["lin"], b["insns_retired"], got))
    if got not in want:
        raise SystemExit("block 0x%08x: symbol %r, the map says %s" % (b["lin"], got, sorted(want)))
funcs = {}
for b in kernel:
    name = (b.get("symbol") or "?").split("+")[0]
    funcs[name] = funcs.get(name, 0) + b["insns_retired"]
total = sum(b["insns_retired"] for b in blocks)
print("hottest kernel functions (instructions retired, share of the run):")
for name, n in sorted(funcs.items(), key=lambda kv: -kv[1])[:10]:
    print("  %-32s %12d %5.1f%%" % (name, n, 100.0 * n / total))
PY
cat "$tmp/check.out"
echo PASS
