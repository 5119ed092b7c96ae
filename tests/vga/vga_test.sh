#!/bin/sh
# Run one VGA guest program and compare the screendump umbra writes at
# exit with the picture check_png.py computes for it.
#   vga_test.sh UMBRA SRCDIR BINARY PATTERN [EXTRA-FLAGS]
set -u
umbra=$1 srcdir=$2 bin=$3 pattern=$4 extra=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
timeout 60 "$umbra" -clock virtual -display none -no-reboot -kernel "$bin" \
    -screendump-at-exit "$tmp/screen.png" $extra </dev/null
status=$?
if [ "$status" -ne 1 ]; then
    echo "FAIL: exit status $status (the guest signals success by writing 0 to port 0xf4)"
    exit 1
fi
python3 "$srcdir/check_png.py" "$pattern" "$tmp/screen.png" || { echo FAIL; exit 1; }
echo PASS
