#!/bin/bash
# Boots Debian 12's i386 kernel and the initramfs from scripts/fetch-guest.sh
# the way a PC boots a hard disk: SeaBIOS loads the MBR (Debian's syslinux
# mbr.bin) from the first IDE disk, the MBR chains to the active FAT
# partition, syslinux loads the kernel and initrd with BIOS calls, and the
# guest runs its workload (scripts/initramfs/init).  The guest also loads
# the ATA drivers and writes a marker to sector 1 of the second disk
# (umbra.diskmark=sdb): the marker must be in that image file after the
# run, and with -snapshot the file must be unchanged.  It also loads the
# sr driver and hashes the first MiB of the CD in the ATAPI drive
# (umbra.cdread=sr0): the hash must be the ISO file's.
#
# The disk image is built without mounts or loop devices: mkfs.fat and
# mcopy on a partition image, syslinux --install on that file, sfdisk on
# the disk image, then dd puts the MBR code and the partition in place.
#
#   diskboot_test.sh UMBRA SOURCE_DIR [UMBRA OPTIONS...]
#
# Environment: UMBRA_GUEST_CACHE (default SOURCE_DIR/cache/guest),
# LINUX_BOOT_TIMEOUT (seconds per boot, default 840).
set -u
umbra=$1 srcdir=$2
shift 2
guest=${UMBRA_GUEST_CACHE:-$srcdir/cache/guest}
limit=${LINUX_BOOT_TIMEOUT:-840}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mbr=/usr/lib/syslinux/mbr/mbr.bin
for f in "$guest/vmlinuz" "$guest/initrd.img" "$mbr"; do
    [ -s "$f" ] || { echo "FAIL: $f is missing (scripts/setup.sh and scripts/fetch-guest.sh)"; exit 1; }
done
for c in syslinux mcopy mkfs.fat sfdisk cpio; do
    command -v "$c" >/dev/null || { echo "FAIL: $c missing (scripts/setup.sh)"; exit 1; }
done
kmods=$(ls -d "$guest"/root/linux-image-*/lib/modules/* 2>/dev/null | head -n 1)
[ -d "$kmods/kernel" ] || { echo "FAIL: no kernel modules under $guest/root (scripts/fetch-guest.sh)"; exit 1; }

# A second initramfs archive, unpacked over the first by the kernel: the
# current /init and the drivers for the PIIX IDE disks, in load order.
mkdir -p "$tmp/extra/lib/modules/umbra"
install -m 755 "$srcdir/scripts/initramfs/init" "$tmp/extra/init"
for m in drivers/scsi/scsi_common drivers/scsi/scsi_mod drivers/ata/libata drivers/ata/ata_piix \
         crypto/crct10dif_common crypto/crct10dif_generic lib/crc-t10dif lib/crc64 \
         crypto/crc64_rocksoft_generic lib/crc64-rocksoft block/t10-pi drivers/scsi/sd_mod \
         drivers/cdrom/cdrom drivers/scsi/sr_mod; do
    cp "$kmods/kernel/$m.ko" "$tmp/extra/lib/modules/umbra/" ||
        { echo "FAIL: $m.ko missing from the kernel package"; exit 1; }
    basename "$m" >>"$tmp/extra/lib/modules/umbra/order"
done
(cd "$tmp/extra" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$tmp/extra.img"

# The boot partition: FAT16, 32 MiB, starting at sector 2048 (the
# boot sector's hidden-sector count says so).
part_start=2048
truncate -s 32M "$tmp/part.img"
mkfs.fat -F 16 -h "$part_start" -n UMBRA "$tmp/part.img" >/dev/null ||
    { echo "FAIL: mkfs.fat"; exit 1; }
cat >"$tmp/syslinux.cfg" <<'CFG'
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img,/extra.img console=ttyS0 acpi=off panic=-1 umbra.diskmark=sdb umbra.cdread=sr0
CFG
mcopy -i "$tmp/part.img" "$guest/vmlinuz" "$guest/initrd.img" "$tmp/extra.img" \
    "$tmp/syslinux.cfg" ::/ || { echo "FAIL: mcopy"; exit 1; }
syslinux --install "$tmp/part.img" || { echo "FAIL: syslinux --install"; exit 1; }

# The disk: an MBR with one active FAT16 partition, syslinux's boot code.
truncate -s $((part_start * 512 + 32 * 1024 * 1024)) "$tmp/disk.img"
echo "start=$part_start, type=6, bootable" | sfdisk -q "$tmp/disk.img" >/dev/null ||
    { echo "FAIL: sfdisk"; exit 1; }
dd if="$mbr" of="$tmp/disk.img" bs=440 count=1 conv=notrunc 2>/dev/null
dd if="$tmp/part.img" of="$tmp/disk.img" bs=512 seek="$part_start" conv=notrunc 2>/dev/null
rm -f "$tmp/part.img"
disk_sum=$(sha256sum <"$tmp/disk.img")

# A CD in the secondary master that Linux's sr driver reads over ATAPI:
# an ISO of the kernel (xorriso), whose first MiB the guest hashes.
mkdir -p "$tmp/cdtree"
cp "$guest/vmlinuz" "$tmp/cdtree/"
xorriso -as mkisofs -quiet -o "$tmp/cd.iso" "$tmp/cdtree" >/dev/null 2>&1 ||
    { echo "FAIL: xorriso"; exit 1; }
cd_sum=$(dd if="$tmp/cd.iso" bs=2048 count=512 2>/dev/null | sha256sum)
cd_sum=${cd_sum%% *}

# One boot; $1 names it, the rest are extra umbra options.
boot() {
    local name=$1 status start log
    shift
    rm -f "$tmp/data.img"
    truncate -s 1M "$tmp/data.img"
    echo "umbra -clock virtual $* -hda disk.img -hdb data.img -m 256 -serial stdio ($name)"
    start=$(date +%s)
    timeout "$limit" "$umbra" -clock virtual "$@" -hda "$tmp/disk.img" -hdb "$tmp/data.img" \
        -cdrom "$tmp/cd.iso" -m 256 -serial stdio -debugcon file:"$tmp/con.$name" -display none -no-reboot </dev/null \
        >"$tmp/serial.$name" 2>"$tmp/err.$name"
    status=$?
    echo "umbra exited with status $status after $(($(date +%s) - start)) s"
    log=$tmp/serial.$name.txt
    tr -d '\r' <"$tmp/serial.$name" >"$log"
    [ "$status" -eq 0 ] || fail "$name: umbra exited with status $status, expected 0 (reset with -no-reboot)"
    grep -qF "Booting from Hard Disk..." "$tmp/con.$name" || fail "$name: the firmware did not boot the disk"
    grep -qx 'UMBRA-GUEST-READY' "$log" || fail "$name: no UMBRA-GUEST-READY line: /init never ran"
    grep -qx 'UMBRA-DISK-MARK-WRITTEN' "$log" || fail "$name: the guest did not write its disk marker"
    grep -qx "UMBRA-CD-SHA256 $cd_sum" "$log" ||
        fail "$name: the guest's hash of the CD's first MiB ($(grep UMBRA-CD-SHA256 "$log")) is not $cd_sum"
    grep -qx 'UMBRA-WORKLOAD-DONE' "$log" || fail "$name: no UMBRA-WORKLOAD-DONE line"
    grep -q 'reboot: Restarting system' "$log" || fail "$name: the kernel did not report the restart"
    grep -E 'Oops|Kernel panic|BUG:|WARNING: CPU|Call Trace|general protection fault|Unable to handle|I/O error' \
        "$log" >"$tmp/bad" && { fail "$name: the kernel reported trouble:"; head -n 20 "$tmp/bad"; }
    if [ "$failures" -ne 0 ]; then
        echo "--- serial console (last 40 lines):"; tail -n 40 "$log"
        echo "--- debug console (last 20 lines):"; tail -n 20 "$tmp/con.$name"
        echo "--- umbra's stderr:"; tail -n 20 "$tmp/err.$name"
    fi
}

boot write
# Sector 1 of the second disk holds the marker, padded with zeros.
dd if="$tmp/data.img" bs=512 skip=1 count=1 2>/dev/null | head -c 16 >"$tmp/sector1"
[ "$(cat "$tmp/sector1")" = "UMBRA-DISK-MARK" ] ||
    fail "sector 1 of the second disk does not hold the marker: $(od -c "$tmp/sector1" | head -n 2)"
[ "$(sha256sum <"$tmp/disk.img")" = "$disk_sum" ] || fail "the boot disk changed"

boot snapshot -snapshot
zero_sum=$(head -c 1M /dev/zero | sha256sum)
[ "$(sha256sum <"$tmp/data.img")" = "$zero_sum" ] || fail "with -snapshot the second disk's file changed"
[ "$(sha256sum <"$tmp/disk.img")" = "$disk_sum" ] || fail "with -snapshot the boot disk changed"

[ "$failures" -eq 0 ] || exit 1
echo PASS
