#!/bin/bash
# Set up and build (scripts/setup.sh), fetch the Linux test guest
# (scripts/fetch-guest.sh), then run every test with ctest.
# Extra arguments go to ctest, e.g. `-L linux` (the Linux boots only) or
# `-LE linux` (everything else).
set -uo pipefail
cd "$(dirname "$0")/.." || exit
bash scripts/setup.sh || exit $?
# The linux_boot_* tests need the guest.  If it cannot be fetched they fail
# and say why; the other tests still run.
fetch=0
bash scripts/fetch-guest.sh >/dev/null || {
    fetch=$?
    echo "test: scripts/fetch-guest.sh failed (status $fetch); the linux_boot_* tests will fail" >&2
}
ctest --test-dir build --output-on-failure -j2 "$@"
status=$?
if [ "$status" -eq 0 ] && [ "$fetch" -ne 0 ]; then
    status=$fetch
fi
exit "$status"
