#!/bin/sh
# Boots through Debian's SeaBIOS, one case per ctest test.
#   bios_test.sh UMBRA SOURCE_DIR BUILD_DIR CASE [EXTRA-FLAGS]
# Every run uses the deterministic clock, -no-reboot and an instruction
# bound, and sends the firmware's log (port 0x402) and port 0xE9 to a file.
set -u
umbra=$1 srcdir=$2 builddir=$3 case=$4 extra=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fw=/usr/share/seabios/bios-256k.bin

fail() { echo "FAIL ($case): $*"; echo "--- debug console:"; cat "$tmp/con"; echo "--- stderr:"
         cat "$tmp/err"; exit 1; }
[ -f "$fw" ] || { echo "FAIL ($case): $fw missing (scripts/setup.sh installs seabios)"; exit 1; }

# run STATUS LIMIT ARGS...: umbra with no -kernel, so it powers on into the
# default firmware; the exit status must be STATUS.
run() {
    want=$1 limit=$2
    shift 2
    # shellcheck disable=SC2086
    (cd "$tmp" && timeout 300 "$umbra" -clock virtual -m 64 -display none -no-reboot \
        -debugcon file:"$tmp/con" -icount-limit "$limit" "$@" $extra) \
        >"$tmp/out" 2>"$tmp/err" </dev/null
    got=$?
    [ "$got" -eq "$want" ] || fail "umbra $* exited $got, expected $want"
}

has() { grep -qF -- "$1" "$tmp/con" || fail "no '$1' on the debug console"; }

disk=$builddir/tests/firmware/disk_boot.img
cdboot=$builddir/tests/firmware/cd_boot.bin
# make_iso: tmp/cd.iso with cd_boot.bin as its El Torito boot image.
make_iso() {
    command -v xorriso >/dev/null || fail "xorriso missing (scripts/setup.sh installs it)"
    [ -f "$cdboot" ] || fail "$cdboot not built"
    mkdir -p "$tmp/cdroot"
    cp "$cdboot" "$tmp/cdroot/boot.bin"
    xorriso -as mkisofs -quiet -o "$tmp/cd.iso" -b boot.bin -no-emul-boot -boot-load-size 4 \
        "$tmp/cdroot" >"$tmp/xorriso.log" 2>&1 || { cat "$tmp/xorriso.log"; fail "xorriso"; }
}
sector3() { dd if="$1" bs=512 skip=3 count=1 2>/dev/null | head -c 16; }

case $case in
banner)
    # No disks: the firmware finds nothing to boot, waits its 60 s (idle
    # time, skipped by the virtual clock) and reboots, which -no-reboot
    # turns into the end of the run (status 0).
    run 0 8000000000
    has "SeaBIOS (version "
    has "Found QEMU fw_cfg"
    # The firmware took the memory map from fw_cfg's etc/e820 ...
    has "qemu/e820: addr 0x0000000000000000 len 0x0000000004000000 [RAM]"
    # ... found the i440FX and the PIIX3 on PCI bus 0 ...
    has "PCI: init bdf=00:00.0 id=8086:1237"
    has "PCI: init bdf=00:01.0 id=8086:7000"
    # ... ran from its shadow copy in RAM (its init code moved itself out
    # of the BIOS area, which needs the PAM registers) ...
    has "Relocating init from 0x000"
    has "No bootable device."
    has "Attempting a hard reboot" ;;
reboot)
    # Without -no-reboot the firmware's reset (after its 60 s wait) brings
    # the machine back to power-on: the BIOS area is the ROM again and the
    # firmware starts over, copying itself to shadow RAM once more.
    (cd "$tmp" && timeout 300 "$umbra" -clock virtual -m 64 -display none \
        -debugcon file:"$tmp/con" -icount-limit 10000000000 $extra) >"$tmp/out" 2>"$tmp/err" </dev/null
    [ $? -eq 4 ] || fail "the run did not reach the instruction limit"
    has "Attempting a hard reboot"
    [ "$(grep -c "Relocating init from" "$tmp/con")" -ge 2 ] || fail "the firmware did not start over"
    sed -n '/Attempting a hard reboot/,$p' "$tmp/con" | grep -qF "No bootable device." ||
        fail "the second boot did not reach its boot menu" ;;
disk)
    # tests/firmware/disk_boot.asm: the MBR loads its second stage with
    # INT 13h, which reads, writes and reads back sectors.
    [ -f "$disk" ] || fail "$disk not built"
    cp "$disk" "$tmp/disk.img"
    run 1 2000000000 -hda disk.img
    has "Booting from Hard Disk..."
    has "MBR: loading stage 2"
    has "STAGE2: read LBA 2 ok"
    has "STAGE2: wrote LBA 3 and read it back"
    # The write reached the image file.
    [ "$(sector3 "$tmp/disk.img")" = "WRITTEN-BY-GUEST" ] || fail "sector 3 not written"
    cmp -s -n 1536 "$disk" "$tmp/disk.img" || fail "sectors 0-2 changed"
    # The same through -drive at the secondary master, booted as disk 0x80.
    cp "$disk" "$tmp/disk2.img"
    run 1 2000000000 -drive file=disk2.img,format=raw,if=ide,index=2
    has "STAGE2: wrote LBA 3 and read it back"
    [ "$(sector3 "$tmp/disk2.img")" = "WRITTEN-BY-GUEST" ] || fail "-drive: sector 3 not written" ;;
snapshot)
    # -snapshot (and snapshot=on): the guest reads back what it wrote, and
    # the file is untouched.
    cp "$disk" "$tmp/disk.img"
    before=$(sha256sum <"$tmp/disk.img")
    run 1 2000000000 -hda disk.img -snapshot
    has "STAGE2: wrote LBA 3 and read it back"
    [ "$(sha256sum <"$tmp/disk.img")" = "$before" ] || fail "-snapshot changed the image"
    [ "$(sector3 "$tmp/disk.img")" = "ORIGINAL-SECTOR3" ] || fail "-snapshot: sector 3 changed"
    run 1 2000000000 -drive file=disk.img,snapshot=on
    [ "$(sha256sum <"$tmp/disk.img")" = "$before" ] || fail "snapshot=on changed the image"
    # readonly=on: the guest's write fails, which the boot sector reports.
    run 33 2000000000 -drive file=disk.img,readonly=on
    has "STAGE2: read LBA 2 ok"
    has "FAIL"
    [ "$(sha256sum <"$tmp/disk.img")" = "$before" ] || fail "readonly=on changed the image" ;;
lock)
    # A second writer of an image is refused while another holds it.
    cp "$disk" "$tmp/disk.img"
    (cd "$tmp" && flock -x disk.img timeout 60 "$umbra" -clock virtual -m 64 -no-reboot \
        -icount-limit 1000 -hda disk.img) >"$tmp/out" 2>"$tmp/err" </dev/null
    [ $? -eq 2 ] || fail "a locked image was opened"
    grep -qF "umbra: -hda disk.img: the image is in use by another process (locked)" "$tmp/err" ||
        fail "no message naming the locked image"
    # Missing images and bad -drive options are errors naming them.
    run 2 1000 -hda missing.img
    grep -qF "umbra: -hda missing.img: No such file or directory" "$tmp/err" || fail "missing image"
    run 2 1000 -drive file=disk.img,format=qcow2
    grep -qF "format=qcow2: only raw images are supported" "$tmp/err" || fail "format=qcow2"
    run 2 1000 -boot z
    grep -qF "umbra: -boot z: expected drive letters" "$tmp/err" || fail "-boot z" ;;
cdrom)
    # tests/firmware/cd_boot.asm as the no-emulation boot image of an ISO
    # made with xorriso: the firmware boots it over ATAPI and it reads the
    # volume descriptor with INT 13h.
    make_iso
    before=$(sha256sum <"$tmp/cd.iso")
    run 1 2000000000 -cdrom cd.iso -boot d
    has "Booting from DVD/CD..."
    has "CDBOOT: running from the CD"
    has "CDBOOT: read the primary volume descriptor"
    [ "$(sha256sum <"$tmp/cd.iso")" = "$before" ] || fail "the ISO changed"
    # The same drive through -drive, as the primary slave.
    run 1 2000000000 -drive file=cd.iso,media=cdrom,index=1 -boot d
    has "CDBOOT: read the primary volume descriptor" ;;
acpi)
    # The firmware ran the linker/loader script of fw_cfg's etc/table-loader:
    # it finds the FADT ("FACP") through the XSDT of the RSDP it placed, and
    # the DSDT, where the PS/2 keyboard it then sets up is declared.
    run 0 8000000000
    has "table(50434146)="
    has "ACPI: parse DSDT at"
    has "PS2 keyboard initialized"
    # -no-acpi: no tables, and the keyboard is found by probing.
    run 0 8000000000 -no-acpi
    ! grep -qF "ACPI: parse DSDT" "$tmp/con" || fail "-no-acpi: the firmware found a DSDT"
    ! grep -qF "table(50434146)" "$tmp/con" || fail "-no-acpi: the firmware found a FADT"
    has "PS2 keyboard initialized" ;;
boot_order)
    # A disk and a CD: the default order (c first) boots the disk, -boot d
    # (and order=dc) the CD.
    make_iso
    cp "$disk" "$tmp/disk.img"
    run 1 2000000000 -hda disk.img -cdrom cd.iso -snapshot
    has "STAGE2: wrote LBA 3 and read it back"
    ! grep -qF "CDBOOT" "$tmp/con" || fail "the default order booted the CD"
    for order in d order=dc; do
        run 1 2000000000 -hda disk.img -cdrom cd.iso -snapshot -boot $order
        has "CDBOOT: read the primary volume descriptor"
        ! grep -qF "MBR:" "$tmp/con" || fail "-boot $order booted the disk"
    done ;;
screen)
    # The VGA on PCI (00:02.0): the firmware runs its BIOS from the ROM
    # BAR, which finds the framebuffer through BAR0 and sets text mode 3;
    # the firmware's messages then appear on the screen.
    run 0 8000000000 -textdump-at-exit screen.txt -screendump-at-exit screen.png
    has "PCI: init bdf=00:02.0 id=1234:1111"
    has "Start SeaVGABIOS"
    has "VBE DISPI: bdf 00:02.0, bar 0"
    head -n 1 "$tmp/screen.txt" | grep -q "^SeaBIOS (version " || fail "no banner on the screen"
    grep -q "^No bootable device\." "$tmp/screen.txt" || fail "no 'No bootable device' on the screen"
    python3 "$srcdir/tests/firmware/check_screen.py" "$tmp/screen.txt" "$tmp/screen.png" ||
        fail "the picture does not show the text"
    # A boot sector's INT 10h teletype output reaches the screen too.
    cp "$disk" "$tmp/disk.img"
    run 1 2000000000 -hda disk.img -snapshot -textdump-at-exit screen.txt
    grep -q "^Booting from Hard Disk\.\.\.$" "$tmp/screen.txt" || fail "disk boot: no firmware line"
    grep -q "^STAGE2: wrote LBA 3 and read it back$" "$tmp/screen.txt" ||
        fail "disk boot: the boot sector's output is not on the screen"
    # -vga none: nothing at 00:02.0 and no VGA BIOS, the boot is the same.
    run 0 8000000000 -vga none
    ! grep -qF "bdf=00:02.0" "$tmp/con" || fail "-vga none: a device at 00:02.0"
    ! grep -qF "SeaVGABIOS" "$tmp/con" || fail "-vga none: a VGA BIOS ran"
    has "No bootable device." ;;
monitor)
    # The monitor's screendump: with the host clock the firmware waits
    # 60 s at "No bootable device"; meanwhile the monitor dumps the
    # screen, then quits, and the run's own dumps show the same screen.
    (cd "$tmp" && timeout 120 "$umbra" -m 64 -display none -no-reboot \
        -debugcon file:"$tmp/con" -monitor unix:"$tmp/mon.sock",server,nowait \
        -textdump-at-exit screen.txt -screendump-at-exit exit.png $extra) \
        >"$tmp/out" 2>"$tmp/err" </dev/null &
    upid=$!
    python3 - "$tmp" >"$tmp/mon.out" 2>&1 <<'PY' || { cat "$tmp/mon.out"; kill $upid; fail "the monitor exchange failed"; }
import os, socket, sys, time
tmp = sys.argv[1]
for _ in range(600):
    if os.path.exists(tmp + "/con") and b"No bootable device" in open(tmp + "/con", "rb").read():
        break
    time.sleep(0.05)
else:
    raise SystemExit("the firmware never reached its boot menu")
s = socket.socket(socket.AF_UNIX)
s.connect(tmp + "/mon.sock")
s.settimeout(30)
buf = b""
def reply():
    global buf
    while b"(umbra) " not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
    text, _, buf = buf.partition(b"(umbra) ")
    return text.decode()
def cmd(line):
    s.sendall(line.encode() + b"\n")
    return reply()
reply()
out = cmd("screendump mon.png")
if out.strip():
    raise SystemExit("screendump answered: " + out)
out = cmd("screendump nodir/x.png")
if "screendump nodir/x.png: No such file or directory" not in out:
    raise SystemExit("bad path: " + out)
if "usage: screendump FILE" not in cmd("screendump"):
    raise SystemExit("no usage message")
if "screendump FILE" not in cmd("help"):
    raise SystemExit("help does not list screendump")
s.sendall(b"quit\n")
PY
    wait $upid
    [ -s "$tmp/mon.png" ] || fail "the monitor wrote no PNG"
    cmp -s "$tmp/mon.png" "$tmp/exit.png" || fail "the monitor's screendump differs from the screen at exit"
    grep -q "^No bootable device\." "$tmp/screen.txt" || fail "no 'No bootable device' on the screen"
    python3 "$srcdir/tests/firmware/check_screen.py" "$tmp/screen.txt" "$tmp/mon.png" ||
        fail "the monitor's picture does not show the text" ;;
vga_bios)
    # -vga-bios FILE replaces the VGA BIOS; a missing one, named or
    # looked for with -L, is an error naming the file.
    run 2 1000 -vga-bios nothere.bin
    grep -qF "umbra: -vga-bios nothere.bin: No such file or directory" "$tmp/err" ||
        fail "missing -vga-bios"
    mkdir "$tmp/fwdir"
    cp "$fw" "$tmp/fwdir/"
    run 2 1000 -L fwdir
    grep -qF "umbra: VGA BIOS fwdir/vgabios-stdvga.bin: No such file or directory" "$tmp/err" ||
        fail "missing VGA BIOS in -L"
    run 2 1000 -vga none -vga-bios x.bin
    grep -qF "there is no display adapter" "$tmp/err" || fail "-vga-bios with -vga none"
    # The same directory with the VGA BIOS copied in boots to the screen;
    # so does -vga-bios naming it elsewhere.
    cp /usr/share/seabios/vgabios-stdvga.bin "$tmp/fwdir/"
    run 0 8000000000 -L fwdir
    has "Start SeaVGABIOS"
    mv "$tmp/fwdir/vgabios-stdvga.bin" "$tmp/vga.rom"
    run 0 8000000000 -L fwdir -vga-bios vga.rom
    has "Start SeaVGABIOS" ;;
*)
    fail "unknown case" ;;
esac
echo "PASS ($case)"
