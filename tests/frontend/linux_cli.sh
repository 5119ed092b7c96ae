#!/bin/sh
# The umbra binary with Linux bzImage kernels, one case per ctest test.
#   linux_cli.sh UMBRA SOURCE_DIR CASE
# Synthetic images are built here with printf/dd; the Debian kernel from
# scripts/fetch-guest.sh is used when present (the case says so otherwise).
set -u
umbra=$1 srcdir=$2 case=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
guest=$srcdir/cache/guest

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

# put FILE OFFSET OCTAL-BYTES: patch bytes into FILE.
put() {
    printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# A protocol 2.15 relocatable bzImage: 4 setup sectors, 8 KiB of kernel
# that is CLI; HLT, init_size 8 MiB at 16 MiB.
make_bz() {
    head -c 10752 /dev/zero >"$1"
    put "$1" 497 '\003'                 # setup_sects
    put "$1" 510 '\125\252'             # boot_flag 0xAA55
    put "$1" 512 '\353\152HdrS\017\002' # jump, "HdrS", version 2.15
    put "$1" 500 '\040\002'             # syssize: 0x220 paragraphs (8704 bytes)
    put "$1" 529 '\001'                 # loadflags: LOADED_HIGH
    put "$1" 532 '\000\000\020\000'     # code32_start 0x100000
    put "$1" 556 '\377\377\377\177'     # initrd_addr_max
    put "$1" 560 '\000\000\000\001\001' # kernel_alignment 16 MiB, relocatable
    put "$1" 568 '\377\007\000\000'     # cmdline_size 2047
    put "$1" 600 '\000\000\000\001'     # pref_address 16 MiB
    put "$1" 608 '\000\000\200\000'     # init_size 8 MiB
    put "$1" 2048 '\372\364'            # CLI; HLT
}

case $case in
boot)
    # The kernel starts, runs CLI; HLT and the machine stops.
    make_bz "$tmp/bz"
    head -c 1000 /dev/urandom >"$tmp/rd"
    expect 0 "CPU halted" -- -kernel bz -initrd rd -append "console=ttyS0" -m 32 ;;
errors)
    make_bz "$tmp/bz"
    expect 2 "umbra: -kernel bz: the kernel (8704 bytes at 0x100000) does not fit in the 1 MiB" \
        -- -kernel bz -m 1
    expect 2 "umbra: -kernel bz: the kernel needs RAM up to 0x1800000" -- -kernel bz -m 16
    expect 2 "umbra: -initrd nope.img: No such file or directory" -- \
        -kernel bz -initrd nope.img -m 32
    head -c 40000000 /dev/zero >"$tmp/big.img"
    expect 2 "umbra: -initrd big.img: file is too large" -- -kernel bz -initrd big.img -m 32
    head -c 10000000 /dev/zero >"$tmp/mid.img"
    expect 2 "umbra: -kernel bz: the initrd (10000000 bytes) does not fit" -- \
        -kernel bz -initrd mid.img -m 32
    cp "$tmp/bz" "$tmp/old"
    put "$tmp/old" 518 '\003\002'
    expect 2 "umbra: -kernel old: Linux boot protocol 2.03 is too old" -- -kernel old
    head -c 1536 "$tmp/bz" >"$tmp/short"
    expect 2 "umbra: -kernel short: file truncated" -- -kernel short ;;
truncated)
    # A bzImage cut inside its protected-mode kernel (syssize says more).
    make_bz "$tmp/bz"
    head -c 6000 "$tmp/bz" >"$tmp/cut"
    expect 2 "umbra: -kernel cut: file truncated: the setup header gives a 8704-byte" -- \
        -kernel cut -m 32
    head -c 10751 "$tmp/bz" >"$tmp/cut1"
    expect 2 "umbra: -kernel cut1: file truncated" -- -kernel cut1 -m 32
    if [ -f "$guest/vmlinuz" ]; then
        head -c 102400 "$guest/vmlinuz" >"$tmp/vmlinuz-100k"
        expect 2 "umbra: -kernel vmlinuz-100k: file truncated" -- \
            -kernel vmlinuz-100k -m 256 -no-reboot
    fi ;;
debian)
    if [ ! -f "$guest/vmlinuz" ]; then
        echo "SKIP: $guest/vmlinuz is absent (run scripts/fetch-guest.sh)"
        exit 0
    fi
    expect 2 "does not fit in the 1 MiB of guest RAM" -- -kernel "$guest/vmlinuz" -m 1
    expect 2 "give it at least" -- -kernel "$guest/vmlinuz" -m 8 ;;
*)
    echo "unknown case $case"; exit 1 ;;
esac
echo PASS
