#!/bin/sh
# Command-line behaviour of the umbra binary, one case per ctest test.
#   cli_test.sh UMBRA SOURCE_DIR BUILD_DIR CASE
# Each case runs umbra and checks the exit status and the message; every
# run asks for the deterministic clock (-clock virtual) first.
set -u
umbra=$1 srcdir=$2 builddir=$3 case=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
demo=$builddir/roms/demo.bin

fail() { echo "FAIL ($case): $*"; echo "--- output:"; cat "$tmp/out"; exit 1; }

# expect STATUS NEEDLE -- ARGS...: run umbra, check status and output.
expect() {
    want=$1 needle=$2
    shift 3
    (cd "$tmp" && timeout 60 "$umbra" -clock virtual "$@") >"$tmp/out" 2>&1 </dev/null
    got=$?
    [ "$got" -eq "$want" ] || fail "umbra $* exited $got, expected $want"
    [ -z "$needle" ] || grep -qF -- "$needle" "$tmp/out" || fail "umbra $*: no '$needle' in output"
}

case $case in
missing_kernel)
    expect 2 "umbra: -kernel missing.elf: No such file or directory" -- -kernel missing.elf ;;
not_multiboot)
    cp "$srcdir/README.md" "$tmp/README.md"
    expect 2 "umbra: -kernel README.md: no Multiboot header in the first 8192 bytes" -- \
        -kernel README.md ;;
linux_kernel)
    head -c 4096 /dev/zero >"$tmp/bzImage"
    printf 'HdrS' | dd of="$tmp/bzImage" bs=1 seek=514 conv=notrunc 2>/dev/null
    expect 2 "umbra: -kernel bzImage: bad boot flag 0x0000" -- -kernel bzImage ;;
corrupt_elf)
    elf=$builddir/tests/guest/fe_multiboot_elf.bin
    [ -f "$elf" ] || fail "$elf not built"
    head -c 200 "$elf" >"$tmp/short.elf"
    expect 2 "umbra: -kernel short.elf: file truncated" -- -kernel short.elf
    cp "$elf" "$tmp/arm.elf"
    printf '\050' | dd of="$tmp/arm.elf" bs=1 seek=18 conv=notrunc 2>/dev/null
    expect 2 "umbra: -kernel arm.elf: ELF machine 40 is not i386" -- -kernel arm.elf
    # The image is valid; the RAM is too small for its segments.
    expect 2 "lies outside the 1 MiB of guest RAM" -- -m 1 -kernel "$elf" ;;
missing_initrd)
    elf=$builddir/tests/guest/fe_multiboot_elf.bin
    expect 2 "umbra: -initrd nope.img: No such file or directory" -- \
        -kernel "$elf" -initrd nope.img ;;
help)
    expect 0 "-kernel FILE" -- --help
    for f in -kernel -initrd -append -bios -m -cpu -no-reboot -d -D -nographic -display \
             -serial -debugcon -icount-limit -mmu -mmu-contexts -clock -icount -gdb -s -S -monitor \
             -help -version; do
        grep -q -- "^  $f[ ,]" "$tmp/out" || fail "--help does not list $f"
    done
    # Every flag the help lists is accepted (none is reported unknown).
    for f in $(sed -n 's/^  \(-[A-Za-z-]*\).*/\1/p' "$tmp/out"); do
        (cd "$tmp" && "$umbra" "$f" x >/dev/null 2>"$tmp/err" </dev/null)
        ! grep -q "unknown option" "$tmp/err" || fail "--help lists $f but umbra rejects it"
    done
    expect 0 "umbra version" -- -version
    expect 0 "mmu-stats" -- -d help ;;
bad_options)
    expect 2 "umbra: -m 0:" -- -m 0 -bios "$demo"
    expect 2 "umbra: -m abc:" -- -m abc -bios "$demo"
    expect 2 "umbra: -m 4096:" -- -m 4096 -bios "$demo"
    expect 2 "unknown option '-frobnicate'" -- -frobnicate
    expect 2 "option '-bios' needs an argument" -- -bios
    expect 2 "-initrd is only allowed with -kernel" -- -initrd x -bios "$demo"
    expect 2 "umbra: -mmu nested:" -- -mmu nested -bios "$demo"
    expect 2 "umbra: -mmu-contexts 0:" -- -mmu-contexts 0 -bios "$demo"
    expect 2 "umbra: -mmu-contexts 4097:" -- -mmu-contexts 4097 -bios "$demo" ;;
cpu)
    # -cpu help lists every model; each one runs the demo; an unknown
    # name is a usage error that names it.
    expect 0 "Available CPU models:" -- -cpu help
    for m in umbra pentium2 pentium3 pentium4 qemu32 max; do
        grep -q "^  $m " "$tmp/out" || fail "-cpu help does not list $m"
    done
    for m in umbra pentium2 pentium3 pentium4 qemu32 max; do
        expect 1 "primes below 10000: 1229" -- -cpu $m -bios "$demo" -no-reboot
    done
    expect 2 "umbra: -cpu pentium5: unknown CPU model" -- -cpu pentium5 -bios "$demo" ;;
no_image)
    expect 2 "-bios $demo" -- ;;
bad_bios)
    head -c 1000 /dev/zero >"$tmp/small.rom"
    expect 2 "umbra: -bios small.rom: size 1000 is not a multiple of 4 KiB" -- -bios small.rom
    head -c 65537 /dev/zero >"$tmp/odd.rom"
    expect 2 "umbra: -bios odd.rom: size 65537" -- -bios odd.rom
    head -c 4198400 /dev/zero >"$tmp/big.rom"
    expect 2 "umbra: -bios big.rom: size 4198400" -- -bios big.rom
    expect 2 "umbra: -bios none.rom: No such file or directory" -- -bios none.rom ;;
halt)
    # A 64 KiB ROM whose reset vector holds CLI; HLT.
    head -c 65536 /dev/zero >"$tmp/hlt.rom"
    printf '\372\364' | dd of="$tmp/hlt.rom" bs=1 seek=65520 conv=notrunc 2>/dev/null
    expect 0 "umbra: CPU halted with interrupts disabled" -- -bios hlt.rom ;;
icount_limit)
    # JMP $ at the reset vector: only the limit ends the run.
    head -c 65536 /dev/zero >"$tmp/loop.rom"
    printf '\353\376' | dd of="$tmp/loop.rom" bs=1 seek=65520 conv=notrunc 2>/dev/null
    expect 4 "umbra: instruction limit reached" -- -bios loop.rom -icount-limit 12345 -d mmu-stats
    grep -q "^cpu_insns 12345\$" "$tmp/out" || grep -q "cpu_insns *12345\b" "$tmp/out" ||
        fail "mmu-stats does not report exactly 12345 instructions" ;;
demo)
    expect 1 "primes below 10000: 1229, their sum: 5736396" -- -bios "$demo" -no-reboot ;;
clock)
    # The host clock (the default without the -clock virtual the other
    # cases give) and QEMU's -icount spelling run the demo alike.
    expect 1 "primes below 10000: 1229, their sum: 5736396" -- -bios "$demo" -no-reboot \
        -clock host
    (cd "$tmp" && timeout 60 "$umbra" -bios "$demo" -no-reboot) >"$tmp/out" 2>&1 </dev/null
    [ $? -eq 1 ] || fail "the demo without -clock did not exit with status 1"
    for n in 0 3 10; do
        expect 1 "primes below 10000" -- -bios "$demo" -no-reboot -icount shift=$n -d mmu-stats
        grep "cpu_insns" "$tmp/out" >"$tmp/insns.$n"
    done
    cmp -s "$tmp/insns.0" "$tmp/insns.10" || fail "-icount: instruction counts differ by shift"
    expect 2 "umbra: -icount auto: expected shift=N with N from 0 to 10" -- \
        -bios "$demo" -icount auto
    expect 2 "umbra: -icount shift=11:" -- -bios "$demo" -icount shift=11
    expect 2 "umbra: -clock wall: expected virtual or host" -- -bios "$demo" -clock wall ;;
outputs)
    expect 1 "" -- -bios "$demo" -debugcon file:"$tmp/con.txt" -d post -D "$tmp/log.txt" \
        -serial stdio -nographic -display none
    grep -q "primes below" "$tmp/con.txt" || fail "-debugcon file: got no console output"
    ! grep -q "primes below" "$tmp/out" || fail "-debugcon file: output also went to stdout"
    grep -q "POST code 04" "$tmp/log.txt" || fail "-D: POST codes not in the log file"
    expect 1 "" -- -bios "$demo" -serial file:"$tmp/ser.txt"
    [ -e "$tmp/ser.txt" ] || fail "-serial file: the file was not created"
    expect 2 "umbra: -serial file:$tmp/no/such/dir" -- -bios "$demo" -serial file:"$tmp/no/such/dir"
    expect 1 "" -- -bios "$demo" -debugcon none
    [ ! -s "$tmp/out" ] || fail "-debugcon none still printed" ;;
*)
    echo "unknown case $case"; exit 1 ;;
esac
echo PASS
