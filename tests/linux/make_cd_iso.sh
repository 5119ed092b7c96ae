#!/bin/bash
# Builds an El Torito ISO that boots Debian 12's i386 kernel and the
# initramfs from scripts/fetch-guest.sh through Debian's isolinux, as an
# installer CD does: isolinux loads the kernel and initrd with BIOS calls.
#
#   make_cd_iso.sh OUT.iso GUEST_DIR [KERNEL COMMAND LINE [KERNEL INITRD]]
#
# KERNEL and INITRD (files) replace GUEST_DIR/vmlinuz and
# GUEST_DIR/initrd.img, e.g. the Debian installer's (fetch-installer.sh).
# Used by tests/linux/cdboot_test.sh, tests/linux/installer_test.sh and
# bench/run disk-boot.  Exits non-zero with a message when a file or
# xorriso is missing.
set -u
out=$1 guest=$2
append=${3:-console=ttyS0 acpi=off panic=-1}
kernel=${4:-$guest/vmlinuz} initrd=${5:-$guest/initrd.img}
for f in "$kernel" "$initrd" /usr/lib/ISOLINUX/isolinux.bin \
         /usr/lib/syslinux/modules/bios/ldlinux.c32; do
    [ -s "$f" ] || { echo "make_cd_iso: $f is missing (scripts/setup.sh and scripts/fetch-guest.sh)"; exit 1; }
done
command -v xorriso >/dev/null || { echo "make_cd_iso: xorriso missing (scripts/setup.sh)"; exit 1; }
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/isolinux"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tree/isolinux/"
cp "$kernel" "$tree/vmlinuz"
cp "$initrd" "$tree/initrd.img"
cat >"$tree/isolinux/isolinux.cfg" <<CFG
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img $append
CFG
xorriso -as mkisofs -quiet -o "$out" -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table "$tree" >"$tree/xorriso.log" 2>&1 ||
    { cat "$tree/xorriso.log"; echo "make_cd_iso: xorriso failed"; exit 1; }
