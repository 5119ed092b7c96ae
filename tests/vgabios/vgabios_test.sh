#!/bin/sh
# Run a VGA BIOS program (the VGA BIOS from Debian's seabios package
# driving Umbra's VGA) and check the screendump against the picture
# check_bios.py computes from what the guest reported.
#   vgabios_test.sh UMBRA SRCDIR BINARY text|vbe [EXTRA-FLAGS]
set -u
umbra=$1 srcdir=$2 bin=$3 kind=$4 extra=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
timeout 60 "$umbra" -clock virtual -display none -no-reboot -bios "$bin" \
    -debugcon "file:$tmp/console" -screendump-at-exit "$tmp/screen.png" $extra </dev/null
status=$?
if [ "$status" -ne 1 ]; then
    cat "$tmp/console"
    echo "FAIL: exit status $status (the guest signals success by writing 0 to port 0xf4)"
    exit 1
fi
python3 "$srcdir/check_bios.py" "$kind" "$tmp/console" "$tmp/screen.png" || { echo FAIL; exit 1; }
echo PASS
