#!/bin/sh
# Run one guest test program and check what it reported.
#   run_guest.sh UMBRA SOURCE.asm BINARY [EXTRA-FLAGS]
# The source's "; umbra-args:" line gives the command line, with {bin} for
# the binary and {srcdir} for this directory; the line is split as the
# shell would split it, so quoted arguments may hold spaces.  The guest
# prints to port 0xE9 and leaves through port 0xF4: writing 0 there
# (exit status 1) means success.  If SOURCE.expect exists, the console
# output must match it exactly.  EXTRA-FLAGS (one string, split like the
# args line) are appended to the command line, e.g. "-mmu flush".  Every
# run uses the deterministic clock (-clock virtual, given first so the
# args line may override it), so its output does not depend on the host.
set -u
umbra=$1 src=$2 bin=$3 extra=${4:-}
args=$(sed -n 's/^; umbra-args: *//p' "$src" | head -n 1)
[ -n "$args" ] || { echo "no '; umbra-args:' line in $src"; exit 1; }
srcdir=$(cd "$(dirname "$src")" && pwd)
args=$(printf '%s' "$args" | sed -e "s#{bin}#$bin#g" -e "s#{srcdir}#$srcdir#g")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
eval "set -- -clock virtual $args $extra"
timeout 60 "$umbra" "$@" >"$out" 2>&1 </dev/null
status=$?
cat "$out"
expect="${src%.asm}.expect"
if [ -f "$expect" ] && ! diff -u "$expect" "$out"; then
    echo "FAIL: console output differs from $expect"
    exit 1
fi
if [ "$status" -ne 1 ]; then
    echo "FAIL: exit status $status (the guest signals success by writing 0 to port 0xf4)"
    exit 1
fi
echo "PASS"
