#!/bin/sh
# Checks the module layering: a module's sources may include headers of
# its own module and of modules below it, never above.
#   common -> mmu -> cpu -> translate -> devices -> debug -> frontend
# Project headers are included by root-relative path ("mmu/mmu.h") or, within
# a module, by bare name ("decode.h"); only the root-relative form can name
# another module, so that is what is checked.
# Usage: layering.sh [project-root]
root=${1:-$(dirname "$0")/..}
order="common mmu cpu translate devices debug frontend"
rank() {
    n=0
    for m in $order; do
        [ "$m" = "$1" ] && { echo $n; return; }
        n=$((n + 1))
    done
    echo -1
}
bad=0
checked=0
for mod in $order; do
    [ -d "$root/$mod" ] || continue
    mine=$(rank "$mod")
    for f in $(find "$root/$mod" -name '*.[ch]' -o -name '*.def' | sort); do
        checked=$((checked + 1))
        # Every quoted include whose first path component is a module name.
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*/' "$f" |
        sed 's/^\([0-9]*\):.*"\([^"/]*\)\/[^"]*".*/\1 \2/' > "${TMPDIR:-/tmp}/layering.$$"
        while read -r line target; do
            theirs=$(rank "$target")
            [ "$theirs" -lt 0 ] && continue
            if [ "$theirs" -gt "$mine" ]; then
                echo "layering: ${f#$root/}:$line: $mod includes $target/ (above it)"
                bad=$((bad + 1))
            fi
        done < "${TMPDIR:-/tmp}/layering.$$"
        rm -f "${TMPDIR:-/tmp}/layering.$$"
    done
done
# A relative climb ("../devices/x.h") would dodge the check above.
climb=$(grep -rn '#[[:space:]]*include[[:space:]]*"\.\./' "$root/common" "$root/mmu" "$root/cpu" \
        "$root/translate" "$root/devices" "$root/debug" "$root/frontend" 2>/dev/null)
if [ -n "$climb" ]; then
    echo "layering: relative includes climbing out of a module:"
    echo "$climb"
    bad=$((bad + 1))
fi
# cpu/'s private state header is for cpu/ and the executors in
# translate/; the modules above them (the debugger in particular) read the
# CPU through cpu/cpu.h.
private=$(grep -rln '#[[:space:]]*include[[:space:]]*"\(cpu/\)\{0,1\}cpu_state\.h"' \
          "$root/common" "$root/mmu" "$root/devices" "$root/debug" \
          "$root/frontend" 2>/dev/null)
if [ -n "$private" ]; then
    echo "layering: cpu/cpu_state.h included outside cpu/:"
    echo "$private"
    bad=$((bad + 1))
fi
echo "layering: $checked files checked, $bad violations"
[ "$bad" -eq 0 ]
