#!/bin/bash
# Set up and build (scripts/setup.sh), then run every test with ctest.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit $?
ctest --test-dir build --output-on-failure -j2
exit $?
