#!/bin/bash
# Set up and build (scripts/setup.sh), fetch the Linux guest
# (scripts/fetch-guest.sh), and boot Debian 12's i386 kernel to a busybox
# shell on this terminal (serial console on stdin/stdout).
# Lines typed are sent to the guest when Enter is pressed (the terminal
# stays in line mode).  `exit` or `reboot -f` in the shell resets the
# machine, which ends the run (-no-reboot); so does `poweroff -f` (ACPI).  Extra arguments go to umbra,
# e.g. `-mmu flush`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
bash scripts/setup.sh || exit $?
bash scripts/fetch-guest.sh >/dev/null || exit $?
echo "run: booting Debian's kernel (about a minute to the shell; 'exit' ends the run)" >&2
exec ./build/umbra -kernel cache/guest/vmlinuz -initrd cache/guest/initrd.img \
    -append "console=ttyS0 umbra.shell=1" -serial stdio -no-reboot -m 256 "$@"
