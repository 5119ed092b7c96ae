#!/bin/sh
# The SDL window under a private Xvfb server.
#   sdl_test.sh UMBRA KEYECHO.bin WM_CLOSE CASE
# input: the window exists with umbra's title, Ctrl+Alt+G grabs (the
#   title says so) and releases, a key typed with xdotool reaches the
#   guest as scancode set 1 through the i8042, and a mouse click while
#   grabbed reaches it as a PS/2 packet.
# close: closing the window (as a window manager does) ends the run with
#   status 0 through the normal exit path: the screendump is written.
set -u
umbra=$1 bin=$2 wm_close=$3 case=$4
for tool in Xvfb xdotool; do
    command -v $tool >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh)"; exit 1; }
done
tmp=$(mktemp -d)
xpid= upid=
cleanup() {
    [ -n "$upid" ] && kill "$upid" 2>/dev/null
    [ -n "$xpid" ] && kill "$xpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$tmp/out" "$tmp/err" 2>/dev/null; exit 1; }

# Xvfb picks a free display number and writes it to fd 3.
Xvfb -displayfd 3 -nolisten tcp -screen 0 1024x768x24 3>"$tmp/dpy" 2>"$tmp/xvfb.log" &
xpid=$!
for _ in $(seq 50); do
    [ -s "$tmp/dpy" ] && break
    sleep 0.1
done
[ -s "$tmp/dpy" ] || fail "Xvfb did not start: $(cat "$tmp/xvfb.log")"
DISPLAY=:$(cat "$tmp/dpy")
export DISPLAY
unset WAYLAND_DISPLAY

SDL_VIDEODRIVER=x11 "$umbra" -display sdl -no-reboot -kernel "$bin" \
    -debugcon "file:$tmp/out" -screendump-at-exit "$tmp/shot.png" 2>"$tmp/err" </dev/null &
upid=$!
wid=$(timeout 20 xdotool search --sync --name '^Umbra$' | head -n 1)
[ -n "$wid" ] || fail "no window named Umbra"
timeout 10 xdotool windowfocus --sync "$wid" || fail "cannot focus the window"

if [ "$case" = close ]; then
    rm -f "$tmp/shot.png"
    "$wm_close" "$wid" || fail "cannot send WM_DELETE_WINDOW"
    for _ in $(seq 100); do
        kill -0 "$upid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$upid" 2>/dev/null && fail "umbra still runs after its window was closed"
    wait "$upid"
    status=$?
    upid=
    [ "$status" -eq 0 ] || fail "exit status $status after the window was closed"
    [ -s "$tmp/shot.png" ] || fail "no screendump written at exit"
    echo PASS
    exit 0
fi

timeout 10 xdotool key ctrl+alt+g
timeout 10 xdotool search --sync --name 'release grab' >/dev/null ||
    fail "the title does not say the pointer is grabbed"
timeout 10 xdotool click 1
sleep 0.5
timeout 10 xdotool key ctrl+alt+g
timeout 10 xdotool search --sync --name '^Umbra$' >/dev/null || fail "the grab was not released"
timeout 10 xdotool key a

# The guest exits (status 1) when it has seen the A key released.
for _ in $(seq 100); do
    kill -0 "$upid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$upid" 2>/dev/null && fail "the guest did not see the A key released"
wait "$upid"
status=$?
upid=
[ "$status" -eq 1 ] || fail "exit status $status"
grep -qx k1e "$tmp/out" || fail "no make code 1e for A"
grep -qx k9e "$tmp/out" || fail "no break code 9e for A"
grep -qx k1d "$tmp/out" || fail "no make code 1d for Ctrl"
# The mouse: its FA to F4, then a packet with the left button down.
grep -qx mfa "$tmp/out" || fail "the mouse did not acknowledge F4"
grep -qx m09 "$tmp/out" || fail "no mouse packet with the left button down"
echo PASS
