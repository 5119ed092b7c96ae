#!/bin/sh
# The debugger against real clients, one case per ctest test.
#   gdb_test.sh UMBRA GUEST_ELF CASE
# gdb:     Debian's gdb drives the stub over a unix socket: breakpoint at a
#          symbol, stepi, registers (CR3 against the page directory's
#          address from nm), memory read through paging, a write
#          watchpoint on a page-table entry, monitor walk/info shadow, a
#          stepi from a faulting instruction landing on the #PF handler,
#          a read watchpoint through an aliasing mapping, a write
#          watchpoint hit by REP STOSD, and a memory
#          write (M) that releases the guest's wait loop.
# monitor: python3 speaks to -monitor unix:SOCK,server,nowait and checks
#          each command's reply.
# rsp:     a raw remote-protocol client (python3): target.xml, memory
#          write then read back through paging, an unmapped read is an
#          error, a read watchpoint on the guest's wait flag (the rest
#          of the machine costing nothing), Ctrl-C stops a
#          running guest with T02, registers p/P, qRcmd output, k.
# stdio:   -monitor stdio reads commands from standard input.
# tcp:     -gdb tcp::PORT listens on 127.0.0.1 only and answers there.
# paging:  paging breakpoints (monitor break cr3/pte/invlpg/pf) stop the
#          guest where the event happened and say what it was; the
#          history (-paging-history) lists CR3 loads, page-table writes
#          with old and new entries, and page faults, with CS:EIP.
# errors:  bad -gdb/-monitor arguments and unusable sockets are usage
#          errors that name the flag.
# dma:     (GUEST_ELF is dma_guest.asm) gdb's write watchpoint on bytes of
#          the guest's DMA buffer stops the machine when the IDE bus
#          master writes them, right after the OUT that started it, with
#          the disk's bytes in memory.
# breakjit: (GUEST_ELF is prof_guest.asm) with a breakpoint set the
#          machine still runs translated code (a million instructions of
#          the hot loop before leaf_body is reached, by `monitor stats`),
#          stops exactly: leaf_body's 101st run (ignore 100) with ECX
#          counting down from 50000, then a breakpoint set inside the
#          translated block of the same iteration stops before its DEC.
# blocks:  (GUEST_ELF is prof_guest.asm) monitor info blocks starts
#          counting, and asked again at leaf_body names hot_body the
#          hottest block with its run count and its disassembly
#          (Capstone's), the profile's number two after it.
# Expected addresses come from nm on the guest (dbg_guest.asm).
set -u
umbra=$1 elf=$2 case=$3
tmp=$(mktemp -d)
upid=
cleanup() {
    [ -n "$upid" ] && kill "$upid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL ($case): $*"; for f in "$tmp"/*.out; do echo "--- $f:"; cat "$f"; done; exit 1; }
sym() { nm "$elf" | awk -v s="$1" '$3 == s { print $1 }'; }
need() { grep -qF -- "$1" "$2" || fail "no '$1' in $(basename "$2")"; }

if [ "$case" != dma ] && [ "$case" != breakjit ] && [ "$case" != blocks ]; then
    pd=$(sym pd) secret=$(sym secret) pt1=$(sym pt1)
    [ -n "$pd" ] && [ -n "$secret" ] && [ -n "$pt1" ] || fail "symbols missing from $elf"
    pd_hex=$(printf '0x%x' "0x$pd")
    secret_hex=$(printf '0x%x' "0x$secret")
fi

# Start umbra with extra flags; wait for the socket `sock` to appear.
start() {
    sock=$1
    shift
    timeout 120 "$umbra" -clock virtual -m 64 -display none -kernel "$elf" "$@" \
        >"$tmp/umbra.out" 2>&1 </dev/null &
    upid=$!
    for _ in $(seq 100); do
        [ -S "$sock" ] && return 0
        sleep 0.05
    done
    fail "umbra did not open $sock"
}

finish() {
    wait "$upid"
    status=$?
    upid=
}

case $case in
blocks)
    hot=$(sym hot_body)
    [ -n "$hot" ] || fail "symbols missing from $elf"
    start "$tmp/gdb.sock" -gdb "unix:$tmp/gdb.sock" -S
    timeout 120 gdb -batch -nx \
        -ex "target remote $tmp/gdb.sock" \
        -ex 'monitor info blocks' \
        -ex 'break leaf_body' \
        -ex 'continue' \
        -ex 'monitor info blocks 2' \
        -ex 'monitor info blocks x' \
        -ex 'kill' \
        "$elf" >"$tmp/gdb.out" 2>&1 || fail "gdb failed"
    finish
    need 'counting block runs from now on' "$tmp/gdb.out"
    need "#1 0x$hot hot_body+0x0: 199999 runs, 999995 insns" "$tmp/gdb.out"
    grep -A5 '^#1 ' "$tmp/gdb.out" | grep -qE "^    0x$hot: add eax, ecx$" ||
        fail "no disassembly of hot_body"
    grep -A5 '^#1 ' "$tmp/gdb.out" | grep -qE '^    0x[0-9a-f]+: rol ebx, 3$' ||
        fail "no rol in hot_body's disassembly"
    grep -q '^#2 ' "$tmp/gdb.out" || fail "no second block"
    grep -q '^#3 ' "$tmp/gdb.out" && fail "more than the 2 blocks asked for"
    need 'usage: info blocks [N]' "$tmp/gdb.out"
    ;;
breakjit)
    leaf=$(sym leaf_body)
    [ -n "$leaf" ] || fail "symbols missing from $elf"
    dec=$(printf '0x%x' $((0x$leaf + 5))) # imul (3), sub (2), then dec ecx
    start "$tmp/gdb.sock" -gdb "unix:$tmp/gdb.sock" -S
    timeout 120 gdb -batch -nx \
        -ex "target remote $tmp/gdb.sock" \
        -ex 'break leaf_body' \
        -ex 'continue' \
        -ex 'monitor stats' \
        -ex 'ignore 1 100' \
        -ex 'continue' \
        -ex 'printf "leaf ecx=%d pc=%x\n", $ecx, $pc' \
        -ex 'delete' \
        -ex "break *$dec" \
        -ex 'continue' \
        -ex 'printf "dec ecx=%d pc=%x\n", $ecx, $pc' \
        -ex 'delete' \
        -ex 'continue' \
        "$elf" >"$tmp/gdb.out" 2>&1 || fail "gdb failed"
    finish
    jit=$(awk '$1 == "blk_jit_insns" { print $2 }' "$tmp/gdb.out")
    [ -n "$jit" ] && [ "$jit" -gt 1000000 ] || fail "blk_jit_insns '$jit': the hot loop did not run translated"
    need "leaf ecx=49899 pc=$(printf '%x' "0x$leaf")" "$tmp/gdb.out"
    need "dec ecx=49899 pc=${dec#0x}" "$tmp/gdb.out"
    need 'exited with code 01]' "$tmp/gdb.out"
    ;;
dma)
    started=$(sym dma_started)
    [ -n "$started" ] || fail "symbols missing from $elf"
    # Sector 0 holds "UMBR" at offset 16: 0x52424d55 as a little-endian dword.
    python3 -c "import sys; d = bytearray(4096); d[16:20] = b'UMBR'; open(sys.argv[1], 'wb').write(d)" \
        "$tmp/disk.img"
    start "$tmp/gdb.sock" -gdb "unix:$tmp/gdb.sock" -S -hda "$tmp/disk.img"
    timeout 120 gdb -batch -nx \
        -ex "target remote $tmp/gdb.sock" \
        -ex 'watch *(unsigned int *)((char *)&dmabuf + 16)' \
        -ex 'continue' \
        -ex 'printf "pc=%x\n", $pc' \
        -ex 'x/4xb (char *)&dmabuf + 16' \
        -ex 'delete' \
        -ex 'continue' \
        "$elf" >"$tmp/gdb.out" 2>&1 || fail "gdb failed"
    finish
    need 'Hardware watchpoint 1: *(unsigned int *)((char *)&dmabuf + 16)' "$tmp/gdb.out"
    need 'New value = 1380076885' "$tmp/gdb.out"
    need "pc=$(printf '%x' "0x$started")" "$tmp/gdb.out"
    grep -qE ':[[:space:]]+0x55[[:space:]]+0x4d[[:space:]]+0x42[[:space:]]+0x52' "$tmp/gdb.out" ||
        fail "the disk's bytes are not in dmabuf"
    need 'exited with code 01]' "$tmp/gdb.out"
    [ "$status" -eq 1 ] || fail "umbra exited $status, expected 1 (the guest's 0)"
    ;;
gdb)
    start "$tmp/gdb.sock" -gdb "unix:$tmp/gdb.sock" -S
    timeout 120 gdb -batch -nx \
        -ex "target remote $tmp/gdb.sock" \
        -ex 'p $pc' \
        -ex 'set var *(char *)&go = 1' \
        -ex 'break bp_here' \
        -ex 'continue' \
        -ex 'stepi' \
        -ex 'p $pc' \
        -ex 'info registers cr3' \
        -ex 'p/x $gdtr_base' \
        -ex 'p/x $idtr_base' \
        -ex 'p/x $cs_limit' \
        -ex 'p/x $idtr_limit' \
        -ex 'x/4wx 0x40000000' \
        -ex 'monitor phys on' \
        -ex 'x/1wx 0x40000000' \
        -ex "x/4wx $secret_hex" \
        -ex 'monitor phys off' \
        -ex 'monitor walk 0x40000000' \
        -ex 'monitor info shadow' \
        -ex 'watch *(unsigned int *)((char *)&pt1 + 4)' \
        -ex 'continue' \
        -ex 'p $pc' \
        -ex 'delete' \
        -ex 'rwatch *(unsigned int *)0x40001000' \
        -ex 'continue' \
        -ex 'p $pc' \
        -ex 'delete' \
        -ex 'break fault_insn' \
        -ex 'continue' \
        -ex 'stepi' \
        -ex 'p $pc' \
        -ex 'delete' \
        -ex 'watch *(unsigned int *)((char *)&strbuf + 128)' \
        -ex 'continue' \
        -ex 'delete' \
        -ex 'continue' \
        "$elf" >"$tmp/gdb.out" 2>&1 </dev/null
    finish
    o=$tmp/gdb.out
    need '<_start>' "$o"
    need "Breakpoint 1, 0x$(sym bp_here) in bp_here ()" "$o"
    need '<bp_here+5>' "$o"
    grep -Eq "^cr3 +$pd_hex " "$o" || fail "info registers cr3 is not $pd_hex"
    need "= $(printf '0x%x' "0x$(sym gdt)")" "$o"
    need "= $(printf '0x%x' "0x$(sym idt)")" "$o"
    need '= 0xffffffff' "$o"
    need '= 0x7ff' "$o"
    need "$(printf '0x40000000:\t0x11223344\t0x55667788\t0x99aabbcc\t0xddeeff00')" "$o"
    need 'Cannot access memory at address 0x40000000' "$o"
    need "$(printf '%s:\t0x11223344\t0x55667788\t0x99aabbcc\t0xddeeff00' "$secret_hex")" "$o"
    need "-> physical 0x0$secret (4 KiB page" "$o"
    grep -Eq "cr3=0x$pd mode=32 .* current" "$o" || fail "info shadow lacks the current cr3 0x$pd"
    need 'Hardware watchpoint 2: *(unsigned int *)((char *)&pt1 + 4)' "$o"
    need "New value = $(( 0x$secret + 3 ))" "$o"
    need '<after_pte>' "$o"
    need 'Hardware read watchpoint 3: *(unsigned int *)0x40001000' "$o"
    need 'Value = 287454020' "$o"
    need '<read_done>' "$o"
    need "Breakpoint 4, 0x$(sym fault_insn) in fault_insn ()" "$o"
    grep -q "^\$[0-9]* = (void (\*)()) 0x$(sym pf_handler | sed 's/^0*//') <pf_handler>" "$o" ||
        fail "stepi from fault_insn did not land on pf_handler"
    need 'Hardware watchpoint 5: *(unsigned int *)((char *)&strbuf + 128)' "$o"
    need 'New value = 1515852340' "$o"
    need 'exited with code 01' "$o"
    [ "$status" -eq 1 ] || fail "umbra exited $status, expected 1 (guest passed)"
    ;;
monitor)
    start "$tmp/mon.sock" -monitor "unix:$tmp/mon.sock,server,nowait"
    python3 - "$tmp/mon.sock" "$(sym spin)" "$secret" >"$tmp/mon.out" 2>&1 <<'PY' || fail "monitor session failed"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
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
    text = reply()
    print("(umbra) " + line)
    print(text, end="")
    return text
reply()
# Let the guest reach its wait loop with paging on.
for _ in range(100):
    cmd("stop")
    if "physical" in cmd("walk 0x40000000"):
        break
    cmd("cont")
    time.sleep(0.05)
cmd("info registers")
cmd("walk 0x80000000")
cmd("walk 0x40000000 0x7000")
cmd("gva2gpa 0x40000004")
cmd("gva2gpa 0x80000000")
cmd("x/4wx 0x40000000")
cmd("x/3db 0x40000000")
cmd("xp/2wx 0x%x" % int(sys.argv[3], 16))
cmd("x/2i 0x%x" % int(sys.argv[2], 16))
cmd("info mem")
cmd("info tlb 0x40000000 0x40001fff")
cmd("info tlb")
cmd("info shadow")
cmd("info shadow 0x1234000")
cmd("info tracked")
cmd("info l1")
cmd("stats")
cmd("help")
cmd("frobnicate")
s.sendall(b"quit\n")
s.recv(100)
PY
    finish
    o=$tmp/mon.out
    need "CR3=$(printf '%08x' "0x$pd")" "$o"
    need "-> physical 0x0$secret (4 KiB page" "$o"
    need "-> page fault, error code 0x0 (not present, read, supervisor)" "$o"
    need "gpa: 0x$(printf '%x' $(( 0x$secret + 4 )))" "$o"
    need "Unmapped" "$o"
    need "40000000: 0x11223344 0x55667788 0x99aabbcc 0xddeeff00" "$o"
    need "40000000: 68 51 34" "$o"
    need "$secret: 0x11223344 0x55667788" "$o"
    need "cmp byte ptr [" "$o"
    need "00000000-00400000 00400000 -rwx" "$o"
    need "40000000-40002000 00002000 -rwx" "$o"
    need "40000000: 0$secret P W S" "$o"
    need "40001000: 0$(printf '%08x' $(( 0x$secret + 0x1000 ))) P W S" "$o"
    need "003ff000: 0003ff000 P W S" "$o"
    grep -Eq "cr3=0x$pd mode=32 .* current" "$o" || fail "info shadow lacks the current context"
    need "0x$pd page-table" "$o"
    need "code (" "$o"
    grep -Eq "x lin=0x00100000" "$o" || fail "info l1 lacks the code page"
    grep -Eq "^guest_walks +[1-9]" "$o" || fail "stats lacks guest_walks"
    need "walk VADDR [CR3]" "$o"
    need "unknown command: frobnicate" "$o"
    [ "$status" -eq 0 ] || fail "umbra exited $status after quit, expected 0"
    # The shadow filter: the reply to "info shadow 0x1234000" names no slot.
    awk '/^\(umbra\) info shadow 0x1234000/{f=1;next} /^\(umbra\)/{f=0} f' "$o" | grep -q slot &&
        fail "info shadow 0x1234000 listed a context"
    ;;
rsp)
    start "$tmp/gdb.sock" -gdb "unix:$tmp/gdb.sock" -S
    python3 - "$tmp/gdb.sock" "$secret" "$pd" "$(sym go)" >"$tmp/rsp.out" 2>&1 <<'PY' || fail "protocol session failed"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(30)
secret, pd, go = int(sys.argv[2], 16), int(sys.argv[3], 16), int(sys.argv[4], 16)
buf = b""
def send(p):
    s.sendall(b"$%s#%02x" % (p.encode(), sum(p.encode()) & 0xff))
def recv():
    global buf
    while True:
        start = buf.find(b"$")
        end = buf.find(b"#", start)
        if start >= 0 and end >= 0 and len(buf) >= end + 3:
            body = buf[start + 1:end]
            assert int(buf[end + 1:end + 3], 16) == sum(body) & 0xff, "checksum"
            buf = buf[end + 3:]
            s.sendall(b"+")
            return body.decode()
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
def ask(p):
    send(p)
    r = recv()
    print("%s -> %s" % (p, r[:200]))
    return r
def check(cond, what):
    if not cond:
        raise SystemExit("FAILED: " + what)
r = ask("qSupported:multiprocess+;swbreak+")
check("qXfer:features:read+" in r and "PacketSize=" in r, "qSupported")
xml, off = "", 0
while True:
    r = ask("qXfer:features:read:target.xml:%x,200" % off)
    xml += r[1:]
    off += len(r) - 1
    if r[0] == "l":
        break
check("org.gnu.gdb.i386.core" in xml and "org.umbra.i386.sys" in xml, "target.xml features")
check('<reg name="cr3"' in xml and '<reg name="gs_limit"' in xml, "target.xml registers")
check(ask("?").startswith("T05"), "stop reason")
# Noise, a bad checksum and malformed packets are answered, never fatal.
s.sendall(b"garbage+-\x00\xff$m0,4#00")
r = s.recv(1)
check(r == b"-", "bad checksum is refused with -")
for bad in ("m", "mzz,4", "m0", "M0,4:zz", "Z0", "p", "P0", "G00", "qXfer:features:read:x", "vCont;x"):
    ask(bad)
check(ask("qAttached") == "1", "qAttached")
check(ask("M%x,4:efbeadde" % (secret + 8)) == "OK", "memory write")
check(ask("m80000000,4").startswith("E"), "unmapped read is an error")
check(ask("Z5,%x,4" % secret) == "", "unknown point types refused")
check(ask("Z3,%x,1" % go) == "OK", "read watchpoint")
send("c")
r = recv()
print("c -> " + r)
check(r == "T05rwatch:%x;" % go, "read watchpoint on the wait flag")
check(ask("z3,%x,1" % go) == "OK", "read watchpoint removed")
check(ask("Z2,%x,1" % go) == "OK", "write watchpoint")
send("c")
time.sleep(0.3)
s.sendall(b"\x03")
r = recv()
print("^C -> " + r)
check(r.startswith("T02"), "Ctrl-C stops with T02")
cr3 = int.from_bytes(bytes.fromhex(ask("p22")), "little")
check(cr3 == pd, "cr3 register %x, page directory %x" % (cr3, pd))
check(ask("m40000008,4") == "efbeadde", "write seen through paging")
check(ask("P0=78563412") == "OK", "P")
check(ask("p0") == "78563412", "p after P")
# System registers: written as the instructions write them, refused
# where those would fault.  (gdb numbers: 0x20 CR0, 0x21 CR2, 0x22 CR3,
# 0x23 CR4, 0x26 GDTR limit, 0x2a TR, 12 DS.)
le = lambda v: v.to_bytes(4, "little").hex()
rd = lambda n: int.from_bytes(bytes.fromhex(ask("p%x" % n)), "little")
check(ask("P21=" + le(0x12345678)) == "OK" and rd(0x21) == 0x12345678, "CR2 written")
cr0, cr4 = rd(0x20), rd(0x23)
check(ask("P23=" + le(cr4 | 0x80000000)) == "E02" and rd(0x23) == cr4, "reserved CR4 bit refused")
check(ask("P20=" + le((cr0 | 0x80000000) & ~1)) == "E02" and rd(0x20) == cr0, "CR0.PG without PE refused")
check(ask("P20=" + le(cr0 & 0x7fffffff)) == "OK", "paging turned off")
check(ask("m40000008,4").startswith("E"), "no translation of 0x40000008 without paging")
check(ask("P20=" + le(cr0)) == "OK" and rd(0x20) == cr0, "paging back on")
check(ask("m40000008,4") == "efbeadde", "0x40000008 translated again")
check(ask("P22=" + le(pd)) == "OK" and rd(0x22) == pd, "CR3 reloaded")
check(ask("Pc=" + le(0x1234)) == "E02" and rd(12) == 0x10, "DS selector past the GDT refused")
check(ask("Pc=" + le(0x10)) == "OK", "DS reloaded")
check(ask("P26=" + le(0x10000)) == "E02", "GDTR limit over 16 bits refused")
check(ask("P2a=" + le(0)) == "E02", "null TR refused")
send("qRcmd," + "info shadow".encode().hex())
text = ""
while True:
    r = recv()
    if r == "OK":
        break
    check(r.startswith("O"), "monitor output packet")
    text += bytes.fromhex(r[1:]).decode()
print(text)
check("cr3=0x%08x" % pd in text and "current" in text, "qRcmd info shadow")
send("k")
PY
    finish
    [ "$status" -eq 0 ] || fail "umbra exited $status after k, expected 0"
    ;;
stdio)
    # The guest waits for gdb forever; the monitor's quit ends the run.
    printf 'info registers\nwalk 0x40000000\nsystem_powerdown\nquit\n' |
        timeout 60 "$umbra" -clock virtual -m 64 -kernel "$elf" -monitor stdio \
        >"$tmp/stdio.out" 2>&1
    st=$?
    [ "$st" -eq 0 ] || fail "umbra exited $st after quit, expected 0"
    need 'Umbra monitor' "$tmp/stdio.out"
    need '(umbra) ' "$tmp/stdio.out"
    need 'EIP=' "$tmp/stdio.out"
    need '0x40000000' "$tmp/stdio.out"
    need 'power button pressed' "$tmp/stdio.out"
    ;;
tcp)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    timeout 120 "$umbra" -clock virtual -m 64 -kernel "$elf" -gdb "tcp::$port" -S \
        >"$tmp/umbra.out" 2>&1 </dev/null &
    upid=$!
    python3 - "$port" >"$tmp/tcp.out" 2>&1 <<'PY' || fail "tcp session failed"
import socket, sys, time
port = int(sys.argv[1])
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        break
    except OSError:
        time.sleep(0.05)
else:
    raise SystemExit("cannot connect")
s.sendall(b"$?#3f")
data = b""
while b"#" not in data or len(data) < data.index(b"#") + 3:
    data += s.recv(100)
print(data)
if b"$T05" not in data:
    raise SystemExit("no stop reply")
import shutil, subprocess
if shutil.which("ss"):
    lines = [l for l in subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout.splitlines()
             if (":%d " % port) in l]
    print(lines)
    if not lines or any("127.0.0.1:%d" % port not in l for l in lines):
        raise SystemExit("the stub does not listen on 127.0.0.1 only")
s.sendall(b"+$k#6b")
time.sleep(0.2)
PY
    finish
    [ "$status" -eq 0 ] || fail "umbra exited $status after k, expected 0"
    ;;
paging)
    start "$tmp/gdb.sock" -gdb "unix:$tmp/gdb.sock" -S -paging-history 64
    pte=$(printf '%08x' $(( 0x$pt1 + 4 )))
    timeout 120 gdb -batch -nx \
        -ex "target remote $tmp/gdb.sock" \
        -ex 'monitor break cr3' \
        -ex 'continue' \
        -ex 'p $pc' \
        -ex 'monitor break clear' \
        -ex "monitor break pte 0x$pte" \
        -ex 'set var *(char *)&go = 1' \
        -ex 'continue' \
        -ex 'p $pc' \
        -ex 'monitor break clear' \
        -ex 'monitor break invlpg' \
        -ex 'continue' \
        -ex 'p $pc' \
        -ex 'monitor break clear' \
        -ex 'monitor break pf 0x80000000 0x80000fff' \
        -ex 'continue' \
        -ex 'p $pc' \
        -ex 'monitor break clear' \
        -ex 'monitor history cr3' \
        -ex "monitor history pte 0x$pte" \
        -ex 'monitor history pf 0x80000000' \
        -ex 'continue' \
        "$elf" >"$tmp/paging.out" 2>&1 </dev/null
    finish
    o=$tmp/paging.out
    pd8=$(printf '%08x' "0x$pd")
    old=$(printf '0x%x' $(( 0x$secret + 0x1003 )))
    new=$(printf '0x%x' $(( 0x$secret + 3 )))
    need "paging break: CR3 load 0x$pd8 at 0008:$(printf '%08x' $(( 0x$(sym cr3_loaded) - 3 )))" "$o"
    need '<cr3_loaded>' "$o"
    need "paging break: PTE write at 0x$pte: $old -> $new at 0008:$(sym pte_write)" "$o"
    need '<after_pte>' "$o"
    need "paging break: INVLPG 0x40001000 at 0008:$(sym after_pte)" "$o"
    need '<after_pte+7>' "$o"
    need "paging break: page fault at 0x80000000 error 0x0 at 0008:$(sym fault_insn)" "$o"
    need '<pf_handler>' "$o"
    need "cr3=$pd8 cr3 load 0x$pd8" "$o"
    need "0008:$(sym pte_write) cr3=$pd8 pte 0x$pte: $old -> $new" "$o"
    need "0008:$(sym fault_insn) cr3=$pd8 pf 0x80000000 error 0x0" "$o"
    need 'exited with code 01' "$o"
    [ "$status" -eq 1 ] || fail "umbra exited $status, expected 1 (guest passed)"
    ;;
errors)
    timeout 30 "$umbra" -paging-history 0 -kernel "$elf" >"$tmp/err.out" 2>&1 </dev/null
    [ $? -eq 2 ] || fail "-paging-history 0 is not a usage error"
    need "umbra: -paging-history 0:" "$tmp/err.out"
    timeout 30 "$umbra" -S -kernel "$elf" >"$tmp/err.out" 2>&1 </dev/null
    [ $? -eq 2 ] || fail "-S alone is not a usage error"
    need "umbra: -S: nothing could start the machine" "$tmp/err.out"
    for bad in "-gdb bogus" "-gdb tcp:" "-monitor pipe:x" "-monitor unix:"; do
        # shellcheck disable=SC2086
        timeout 30 "$umbra" $bad -kernel "$elf" >"$tmp/err.out" 2>&1 </dev/null
        st=$?
        [ "$st" -eq 2 ] || fail "umbra $bad exited $st, expected 2"
        need "umbra: ${bad%% *} ${bad#* }:" "$tmp/err.out"
    done
    timeout 30 "$umbra" -gdb unix:/nonexistent/dir/sock -kernel "$elf" >"$tmp/err.out" 2>&1 </dev/null
    [ $? -eq 2 ] || fail "an unusable socket path is not a usage error"
    need "umbra: -gdb unix:/nonexistent/dir/sock: cannot listen on" "$tmp/err.out"
    ;;
*)
    fail "unknown case"
    ;;
esac
echo "PASS ($case)"
