#!/bin/sh
# Bad display and screendump arguments: each is a clear error naming the
# flag and the input, exit status 2, before any guest runs.
#   errors.sh UMBRA GUEST.bin
set -u
umbra=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; cat "$tmp/err"; exit 1; }
# expect MESSAGE ARGS...: status 2 and MESSAGE on stderr.
expect() {
    msg=$1
    shift
    timeout 60 "$umbra" -clock virtual -no-reboot -kernel "$bin" "$@" >/dev/null 2>"$tmp/err" </dev/null
    status=$?
    [ "$status" -eq 2 ] || fail "umbra $*: exit status $status, expected 2"
    grep -qF -- "$msg" "$tmp/err" || fail "umbra $*: no '$msg' on stderr"
}
expect "-screendump-at-exit $tmp/no/such/dir.png: No such file or directory" \
    -display none -screendump-at-exit "$tmp/no/such/dir.png"
expect "-screendump-at-exit $tmp/x.png: there is no display adapter" \
    -display none -vga none -screendump-at-exit "$tmp/x.png"
expect "-display sdl: there is no display adapter" -display sdl -vga none
expect "-textdump-at-exit $tmp/no/such/dir.txt: No such file or directory" \
    -display none -textdump-at-exit "$tmp/no/such/dir.txt"
expect "-textdump-at-exit $tmp/x.txt: there is no display adapter" \
    -display none -vga none -textdump-at-exit "$tmp/x.txt"
# No display server: an explicit -display sdl cannot open its window.
env -u DISPLAY -u WAYLAND_DISPLAY SDL_VIDEODRIVER=x11 \
    timeout 60 "$umbra" -clock virtual -no-reboot -kernel "$bin" -display sdl \
    >/dev/null 2>"$tmp/err" </dev/null
status=$?
[ "$status" -eq 2 ] || fail "-display sdl without X: exit status $status, expected 2"
grep -qF -- "-display sdl: cannot open a window" "$tmp/err" || fail "-display sdl without X: no message"
# Without a display server the default is no window: the run goes on.
env -u DISPLAY -u WAYLAND_DISPLAY timeout 60 "$umbra" -clock virtual -no-reboot -kernel "$bin" \
    -screendump-at-exit "$tmp/ok.png" >/dev/null 2>"$tmp/err" </dev/null
status=$?
[ "$status" -eq 1 ] || fail "default display without X: exit status $status, expected 1"
[ -s "$tmp/ok.png" ] || fail "default display without X: no screendump"
# The guest (mode 13h) leaves a graphics mode: the text dump says so.
timeout 60 "$umbra" -clock virtual -no-reboot -kernel "$bin" -display none \
    -textdump-at-exit "$tmp/gfx.txt" >/dev/null 2>"$tmp/err" </dev/null
[ "$(cat "$tmp/gfx.txt")" = "(graphics mode 320x200)" ] || fail "text dump of mode 13h: $(cat "$tmp/gfx.txt")"
echo PASS
