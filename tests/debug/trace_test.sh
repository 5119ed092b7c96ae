#!/bin/sh
# Tracing (-d, -D, -dfilter) on tests/debug/prof_guest.asm, one case per
# ctest test.
#   trace_test.sh UMBRA GUEST_ELF CASE [PLUGIN_DIR]
# in_asm:  every instruction of hot_loop..leaf the log shows must be
#          objdump's disassembly of the same address (the oracle), with
#          numbers compared by value; the block's physical address is its
#          linear one (identity paging).
# dfilter: with -dfilter on hot_body alone, in_asm and exec show only
#          blocks starting there; a bad range is a usage error.
# int:     -d int shows the #PF with CR2 0x00800000 and error code 2 at
#          fault_insn, CPL 0.
# mmu:     -d mmu shows the two address spaces created, the switch back
#          to the first, the faulting walk and a shadow fill.
# profile: -profile's JSON (python3's json): hot_body first, with the
#          run count the loop count gives, its disassembly and its exits
#          by kind, leaf_body's runs, smc_target recorded again for each
#          write to its code (invalidations by cause), the counters; bad report paths and -exec interp refused.
# symbols: names from a System.map-format file the test writes, on a
#          stripped copy of the guest; bad maps are usage errors.
# folded:  FILE.folded holds the guest's EBP call chain, root first, and
#          samples in proportion to the runs.
# perfmap: /tmp/perf-PID.map names hot_body's translation and the
#          translator's memory thunks.
# perf_report: Debian's perf(1) records a run with -perfmap and its report
#          names hot_body's translation (skipped,
#          status 77, where the host does not let perf sample).
# plugin_hotblocks: tests/plugins/hotblocks.c through -plugin counts
#          hot_body's runs (HOT_N - 1) first and leaf_body's second, and
#          sees the exit status.
# plugin_cr3log: tests/plugins/cr3log.c logs the guest's three CR3 loads
#          (0 -> pd, pd -> pd2, pd2 -> pd) with the EIP after each MOV,
#          and the #PF with its CR2, error code and EIP, reading the page
#          directory through the plugin API.
# plugin_memwatch: tests/plugins/memwatch.c through -plugin sees the
#          three data accesses to pf_count -- pf_handler's INC reading 0
#          and writing 1, the CMP after the fault reading 1 -- with their
#          physical addresses, counts as many instructions starting as the
#          run retires, and sees the same under -exec interp and block.
# plugin_errors: a missing file, a non-ELF file, a plugin of another
#          interface version, a refusing plugin and a bad argument are
#          each a usage error naming the plugin.
# exec:    -d exec counts hot_body's runs under jit and block (HOT_N - 1:
#          the first iteration is part of hot_loop's block), and -d
#          nochain leaves the run's outcome alone.
set -u
umbra=$1 elf=$2 case=$3 plugins=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL ($case): $*"; [ -f "$tmp/log" ] && head -50 "$tmp/log"; exit 1; }
sym() { nm "$elf" | awk -v s="$1" '$3 == s { print $1 }'; }
run() {
    timeout 60 "$umbra" -clock virtual -m 64 -kernel "$elf" "$@" >"$tmp/out" 2>&1
    rc=$?
    [ $rc -eq 1 ] || fail "umbra $* exited with $rc: $(cat "$tmp/out")"
}
HOT_N=200000
hot_body=$(sym hot_body)
[ -n "$hot_body" ] || fail "no hot_body in $elf"

case $case in
in_asm)
    run -d in_asm -D "$tmp/log"
    objdump -d -M intel --no-show-raw-insn "$elf" >"$tmp/objdump" || fail "objdump"
    python3 - "$tmp/log" "$tmp/objdump" "$(sym hot_loop)" "$(sym pf_handler)" <<'PY' || fail "in_asm differs"
import re, sys
log, dump, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3], 16), int(sys.argv[4], 16)
num = re.compile(r'0x[0-9a-f]+|\b[0-9]+\b')
def canon(ops, bare_hex):
    ops = re.sub(r'<[^>]*>', '', ops.lower()).replace(' ', '').replace('ptr', '')
    if bare_hex and re.fullmatch(r'[0-9a-f]+', ops):
        return '#%x' % int(ops, 16)
    return num.sub(lambda m: '#%x' % int(m.group(0), 0), ops)
want = {}
for line in open(dump):
    m = re.match(r'\s+([0-9a-f]+):\s+(\S+)\s*(.*)$', line)
    if m:
        a = int(m.group(1), 16)
        mn = m.group(2)
        want[a] = (mn, canon(m.group(3), mn.startswith('j') or mn == 'call'))
seen, bad, phys_ok = 0, [], False
for line in open(log):
    m = re.match(r'IN: lin=0x([0-9a-f]+) phys=0x([0-9a-f]+) mode=32', line)
    if m and lo <= int(m.group(1), 16) < hi:
        phys_ok = phys_ok or m.group(1) == m.group(2)
    m = re.match(r'0x([0-9a-f]+):  (\S+) ?(.*)$', line)
    if not m:
        continue
    a = int(m.group(1), 16)
    if not lo <= a < hi:
        continue
    mn = m.group(2)
    got = (mn, canon(m.group(3), False))
    seen += 1
    if want.get(a) != got:
        bad.append('%x: log %s, objdump %s' % (a, got, want.get(a)))
print('compared', seen, 'instructions')
for b in bad:
    print(b)
sys.exit(1 if bad or seen < 25 or not phys_ok else 0)
PY
    ;;
dfilter)
    run -d in_asm,exec -dfilter "0x$hot_body+1" -D "$tmp/log"
    n=$(grep -c "^Trace: lin=0x$hot_body" "$tmp/log")
    [ "$n" -eq $((HOT_N - 1)) ] || fail "$n runs of hot_body traced"
    others=$(grep -E '^(IN|Trace):' "$tmp/log" | grep -vc "lin=0x$hot_body")
    [ "$others" -eq 0 ] || fail "$others lines for other blocks"
    grep -q "^IN: lin=0x$hot_body" "$tmp/log" || fail "no in_asm for hot_body"
    # A..B form, and a range holding no block start: nothing at all.
    run -d in_asm,exec -dfilter "0x$hot_body..0x$hot_body,ffff0000-10" -D "$tmp/log"
    [ "$(grep -c "^Trace: lin=0x$hot_body" "$tmp/log")" -eq $((HOT_N - 1)) ] || fail "A..B"
    run -d in_asm,exec -dfilter "ffff0000+10" -D "$tmp/log"
    [ ! -s "$tmp/log" ] || fail "a range with no block logged something"
    for bad in '12+' '0x10..0x5' 'zz+4' '' '1+0'; do
        timeout 10 "$umbra" -kernel "$elf" -dfilter "$bad" >"$tmp/out" 2>&1
        [ $? -eq 2 ] || fail "-dfilter '$bad' was accepted"
        grep -q -- "-dfilter" "$tmp/out" || fail "-dfilter '$bad': message does not name the flag"
    done
    ;;
int)
    run -d int -D "$tmp/log"
    fi=$(sym fault_insn)
    line=$(grep 'exception 14 ' "$tmp/log")
    [ "$(echo "$line" | wc -l)" -eq 1 ] || fail "expected one #PF, got: $line"
    echo "$line" | grep -q "exception 14 err 2 cr2 00800000 at 0008:$fi cpl 0" ||
        fail "wrong #PF record: $line"
    ;;
exec)
    for ex in jit block; do
        run -exec $ex -d exec -D "$tmp/log"
        n=$(grep -c "^Trace: lin=0x$hot_body phys=0x$hot_body" "$tmp/log")
        [ "$n" -eq $((HOT_N - 1)) ] || fail "-exec $ex: $n runs of hot_body"
    done
    run -d nochain -D "$tmp/log"
    [ ! -s "$tmp/log" ] || fail "nochain alone logged something"
    ;;
mmu)
    run -d mmu -D "$tmp/log"
    pd=$(sym pd | sed 's/^0*//') pd2=$(sym pd2 | sed 's/^0*//')
    grep -q "shadow: new context .* cr3=0*$pd\$" "$tmp/log" || fail "no context for pd"
    grep -q "shadow: new context .* cr3=0*$pd2\$" "$tmp/log" || fail "no context for pd2"
    grep -q "shadow: switch to kept context .* cr3=0*$pd\$" "$tmp/log" || fail "no switch back"
    grep -q "walk 00800000 acc 1: fault err 2" "$tmp/log" || fail "no faulting walk"
    grep -q "shadow: fill $(sym hot_loop | cut -c1-5)000 -> " "$tmp/log" || fail "no fill"
    ;;
profile)
    for ex in jit block; do
        run -exec $ex -profile "$tmp/p.json"
        grep -q "^profile: .* -> $tmp/p.json" "$tmp/out" || fail "no summary on stderr"
        python3 - "$tmp/p.json" $HOT_N $((0x$hot_body)) $((0x$(sym leaf_body))) \
            $((0x$(sym smc_target))) <<'PY' || fail "-exec $ex: bad profile"
import json, sys
d = json.load(open(sys.argv[1]))
hot_n, hot, leaf, smc = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
top = d['top'][0]
# The loop's block runs HOT_N - 1 times (its first iteration belongs to
# hot_loop's block), 5 instructions each; allow one run either way.
assert top['lin'] == hot and top['phys'] == hot, top
assert top['symbol'] == 'hot_body+0x0', top['symbol']
assert abs(top['executions'] - (hot_n - 1)) <= 1, top['executions']
# A run cut short by the end of a time slice retires fewer instructions.
assert 0 <= 5 * (hot_n - 1) - top['insns_retired'] < 64, top['insns_retired']
assert top['disasm'][2].endswith('rol ebx, 3'), top['disasm']
# Its JNZ goes back every time but the last, which falls through.
assert top['exits']['fallthrough'] == 1 and top['exits']['early'] == 0, top['exits']
assert top['exits']['branch'] == top['executions'] - 1, top['exits']
assert sum(top['invalidations'].values()) == 0, top['invalidations']
# smc_target is patched three times: recorded again after each of the
# last two writes to its bytes, and left by its RET every time.
sb = [b for b in d['blocks'] if b['lin'] == smc]
assert len(sb) == 1 and sb[0]['executions'] == 3 and sb[0]['recorded'] == 3, sb
assert sb[0]['invalidations'] == {'flushed': 0, 'evicted': 0, 'code_write': 2, 'remapped': 0}, sb
assert sb[0]['exits'] == {'fallthrough': 0, 'branch': 3, 'early': 0}, sb
lb = [b for b in d['blocks'] if b['lin'] == leaf]
assert len(lb) == 1 and abs(lb[0]['executions'] - 49999) <= 1, lb
assert lb[0]['symbol'] == 'leaf_body+0x0'
assert d['counters']['guest_walks'] > 0
# Every instruction but the few the run loop steps itself is in a block.
assert 0 <= d['icount'] - d['block_insns'] < 16, (d['icount'], d['block_insns'])
PY
    done
    timeout 10 "$umbra" -kernel "$elf" -profile /nonexistent/dir/p.json >"$tmp/out" 2>&1
    [ $? -eq 2 ] && grep -q -- "-profile /nonexistent/dir/p.json" "$tmp/out" ||
        fail "unwritable -profile accepted"
    timeout 10 "$umbra" -kernel "$elf" -exec interp -profile "$tmp/p.json" >"$tmp/out" 2>&1
    [ $? -eq 2 ] || fail "-profile with -exec interp accepted"
    ;;
symbols)
    # No ELF symbols: only the System.map-format file names the blocks.
    objcopy --strip-all "$elf" "$tmp/stripped.elf" || fail "objcopy"
    printf '%s T hot_spot\n%s t leafy\n%s D some_data\n' "$hot_body" "$(sym leaf)" \
        "$(sym hot_loop)" >"$tmp/System.map"
    timeout 60 "$umbra" -clock virtual -m 64 -kernel "$tmp/stripped.elf" -profile "$tmp/p.json" \
        -profile-symbols "$tmp/System.map" >"$tmp/out" 2>&1
    [ $? -eq 1 ] || fail "run failed: $(cat "$tmp/out")"
    python3 - "$tmp/p.json" $((0x$hot_body)) $((0x$(sym leaf_body) - 0x$(sym leaf))) \
        $((0x$(sym hot_loop))) <<'PY' || fail "symbols"
import json, sys
d = json.load(open(sys.argv[1]))
hot, leaf_off, hot_loop = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
syms = {b['lin']: b['symbol'] for b in d['blocks']}
assert syms[hot] == 'hot_spot+0x0', syms[hot]
assert 'leafy+0x%x' % leaf_off in syms.values(), syms
# A data symbol (D) names no code: hot_loop's block is outside any text symbol.
assert syms[hot_loop] is None, syms[hot_loop]
assert d['symbols'] == 2
PY
    printf 'not a map\n' >"$tmp/bad.map"
    for m in "$tmp/bad.map" "$tmp/missing.map"; do
        timeout 10 "$umbra" -kernel "$elf" -profile "$tmp/p.json" -profile-symbols "$m" \
            >"$tmp/out" 2>&1
        [ $? -eq 2 ] && grep -q -- "-profile-symbols $m" "$tmp/out" || fail "bad map $m accepted"
    done
    ;;
folded)
    run -profile "$tmp/p.json"
    f="$tmp/p.json.folded"
    [ -s "$f" ] || fail "no folded file"
    # The leaf loop is sampled inside leaf_body, under the EBP chain the
    # guest built: called from after_fault (in _start), outer, middle, inner.
    grep -qE '^after_fault;outer;middle;inner;leaf_body [0-9]+$' "$f" || fail "no leaf chain: $(cat "$f")"
    grep -qE '^hot_body [0-9]+$' "$f" || fail "no hot_body frame"
    leafn=$(awk '$1 == "after_fault;outer;middle;inner;leaf_body" { print $2 }' "$f")
    hotn=$(awk '$1 == "hot_body" { print $2 }' "$f")
    [ "$hotn" -gt "$leafn" ] || fail "hot_body sampled less than leaf_body"
    total=$(awk '{ n += $NF } END { print n }' "$f")
    python3 -c "import json,sys; d=json.load(open('$tmp/p.json')); sys.exit(d['stack_samples'] != $total)" ||
        fail "sample counts disagree"
    # hot_body runs four times as often as leaf_body: so should its samples.
    python3 -c "import sys; r=$hotn/$leafn; sys.exit(not 3.0 < r < 5.3)" || fail "ratio $hotn/$leafn"
    ;;
perfmap)
    timeout 60 sh -c 'echo $$ >"$0/pid"; exec "$@"' "$tmp" "$umbra" -clock virtual -m 64 \
        -kernel "$elf" -perfmap >"$tmp/out" 2>&1
    map=/tmp/perf-$(cat "$tmp/pid").map
    [ -s "$map" ] || fail "no $map"
    grep -qE "^[0-9a-f]+ [0-9a-f]+ guest_${hot_body}_hot_body\+0x0$" "$map" ||
        { cat "$map"; rm -f "$map"; fail "hot_body not named"; }
    grep -qE "^[0-9a-f]+ [0-9a-f]+ umbra_memory_thunks$" "$map" ||
        { cat "$map"; rm -f "$map"; fail "memory thunks not named"; }
    rm -f "$map"
    ;;
perf_report)
    command -v perf >/dev/null || { echo "SKIP: no perf"; exit 77; }
    perf record -q -F 5000 -o "$tmp/perf.data" -- "$umbra" -clock virtual -m 64 -kernel "$elf" \
        -perfmap >"$tmp/out" 2>&1
    rc=$?
    if [ $rc -ne 1 ]; then
        grep -q "umbra" "$tmp/out" && fail "umbra under perf exited with $rc: $(cat "$tmp/out")"
        echo "SKIP: perf record cannot sample here: $(head -3 "$tmp/out")"
        exit 77
    fi
    perf report -i "$tmp/perf.data" --stdio --sort sym >"$tmp/report" 2>/dev/null ||
        fail "perf report"
    grep -qE "\] guest_${hot_body}_hot_body\+0x0\$" "$tmp/report" ||
        { head -30 "$tmp/report"; fail "perf does not name hot_body"; }
    rm -f /tmp/perf-*.map
    ;;
plugin_hotblocks)
    run -plugin "$plugins/libhotblocks.so,out=$tmp/hot.txt,top=2"
    # Runs are exact; a run cut short by the end of a time slice retires
    # fewer instructions, so those may fall a little short of runs * size.
    awk -v hot="$hot_body" -v leaf="$(sym leaf_body)" -v n=$((HOT_N - 1)) '
        NR == 1 && !($1 == hot && $2 == n && $3 <= 5 * n && $3 > 5 * n - 64) { exit 1 }
        NR == 2 && !($1 == leaf && $2 == 49999 && $3 <= 4 * 49999 && $3 > 4 * 49999 - 64) { exit 1 }
        NR == 3 && $0 != "exit 1" { exit 1 }
        END { if (NR != 3) exit 1 }' "$tmp/hot.txt" || { cat "$tmp/hot.txt"; fail "hotblocks output"; }
    ;;
plugin_memwatch)
    pf=$(sym pf_count)
    for ex in jit block interp; do
        run -exec "$ex" -plugin "$plugins/libmemwatch.so,out=$tmp/mem-$ex.txt,lo=$pf,hi=$pf"
    done
    printf 'mem R %s %s 4 0 eip %s\nmem W %s %s 4 1 eip %s\nmem R %s %s 4 1 eip %s\n' \
        "$pf" "$pf" "$(sym pf_handler)" "$pf" "$pf" "$(sym pf_handler)" \
        "$pf" "$pf" "$(sym after_fault)" >"$tmp/want"
    grep '^mem ' "$tmp/mem-jit.txt" | diff -u "$tmp/want" - || fail "accesses to pf_count"
    awk '$1 == "insns" && $2 == $4 && $2 > 1000000 && $6 == 1 { ok = 1 } END { exit !ok }' \
        "$tmp/mem-jit.txt" || { cat "$tmp/mem-jit.txt"; fail "instructions started != retired"; }
    cmp "$tmp/mem-jit.txt" "$tmp/mem-interp.txt" || fail "jit and interp differ"
    cmp "$tmp/mem-jit.txt" "$tmp/mem-block.txt" || fail "jit and block differ"
    ;;
plugin_cr3log)
    run -plugin "$plugins/libcr3log.so,out=$tmp/cr3.txt"
    pd=$(sym pd) pd2=$(sym pd2) pt0=$((0x$(sym pt0)))
    awk '/^cr3/ { print $2, $4 }' "$tmp/cr3.txt" >"$tmp/got"
    printf '00000000 %s\n%s %s\n%s %s\n' "$pd" "$pd" "$pd2" "$pd2" "$pd" >"$tmp/want"
    diff -u "$tmp/want" "$tmp/got" || fail "CR3 loads"
    # Each load is reported with CR3 already loaded, EIP after the MOV.
    awk '/^cr3/ && $4 != $10 { exit 1 }' "$tmp/cr3.txt" || fail "cr3 register differs"
    line=$(grep '^pf ' "$tmp/cr3.txt")
    set -- $line
    [ "$3 $5 $7 $9" = "00800000 2 $(sym fault_insn) $pd" ] || fail "pf record: $line"
    [ $((0x${11} & ~0x60)) -eq $((pt0 | 3)) ] || fail "pde0 read through the API: $line"
    grep -qx 'exit 1' "$tmp/cr3.txt" || fail "no exit record"
    ;;
plugin_errors)
    echo "not a shared object" >"$tmp/fake.so"
    for spec in "$tmp/missing.so" "$tmp/fake.so" "$plugins/libbadversion.so" \
                "$plugins/libhotblocks.so" "$plugins/libhotblocks.so,junk"; do
        timeout 10 "$umbra" -kernel "$elf" -plugin "$spec" >"$tmp/out" 2>&1
        [ $? -eq 2 ] || fail "-plugin $spec: not a usage error"
        grep -q -- "-plugin ${spec%%,*}" "$tmp/out" || fail "-plugin $spec: $(cat "$tmp/out")"
    done
    timeout 10 "$umbra" -kernel "$elf" -plugin "$plugins/libbadversion.so" 2>&1 |
        grep -q 'built for plugin interface' || fail "version mismatch not explained"
    ;;
*)
    fail "unknown case"
    ;;
esac
echo "ok ($case)"
