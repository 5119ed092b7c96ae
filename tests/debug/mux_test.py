#!/usr/bin/env python3
"""-serial mon:stdio on a terminal: the terminal is raw (the guest's own
echo is all that shows what was typed), Ctrl-A h lists the keys, Ctrl-A c
switches to the monitor and back, Ctrl-A x quits, and the terminal's
settings are back afterwards -- also when a plain -serial stdio run is
ended by Ctrl-C (SIGINT).

usage: mux_test.py UMBRA ECHO_GUEST_BIN"""
import os
import re
import pty
import select
import sys
import time

umbra, guest = sys.argv[1], sys.argv[2]


def run(serial, keys):
    """Run umbra on a new terminal, then `stty -a` there; send each
    (bytes, wait_for) in turn.  Returns everything the terminal showed."""
    cmd = (f"trap : INT; '{umbra}' -bios '{guest}' -no-reboot -display none -debugcon none "
           f"-serial {serial}; echo RC=$?; stty -a")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("sh", ["sh", "-c", cmd])
    out = b""

    def read_until(what, timeout=20.0):
        nonlocal out
        end = time.time() + timeout
        while what not in out:
            left = end - time.time()
            if left <= 0:
                raise SystemExit(f"FAIL: waited for {what!r}; the terminal showed:\n"
                                 + out.decode(errors="replace"))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise SystemExit(f"FAIL: the terminal closed before {what!r}:\n"
                                     + out.decode(errors="replace"))
                out += chunk

    time.sleep(0.3)
    for send, want in keys:
        os.write(fd, send)
        read_until(want)
    os.waitpid(pid, 0)
    return out.decode(errors="replace")


def settings_restored(text, what):
    stty = text[text.index("RC="):]
    for flag in ("icanon", "echo", "isig", "icrnl"):
        if (re.search(rf"(^|\s)-{flag}(\s|$)", stty, re.M)
                or not re.search(rf"(^|\s){flag}(\s|$)", stty, re.M)):
            raise SystemExit(f"FAIL: {what}: {flag} not restored:\n{stty}")


# mon:stdio: echo through the guest, the keys, the monitor, quit.
t = run("mon:stdio", [
    (b"ab", b"ab"),
    (b"\x01h", b"C-a c    switch between console and monitor"),
    (b"\x01c", b"(umbra) "),
    (b"info registers\r", b"EIP="),
    (b"\x01c", b""),
    (b"Zz", b"Zz"),
    (b"\x01x", b"echoprt"),
])
if t[:t.index("RC=")].count("ab") != 1:
    raise SystemExit("FAIL: raw mode: what was typed shows other than once "
                     "(the terminal echoed it, or the guest did not):\n" + t)
if "RC=0" not in t:
    raise SystemExit("FAIL: Ctrl-A x did not end the run with status 0:\n" + t)
settings_restored(t, "Ctrl-A x")

# Plain -serial stdio: raw, but Ctrl-C still stops umbra, and the terminal
# comes back.
t = run("stdio", [
    (b"xy", b"xy"),
    (b"\x03", b"echoprt"),
])
if "RC=130" not in t:
    raise SystemExit("FAIL: Ctrl-C under -serial stdio: expected SIGINT's status 130:\n" + t)
settings_restored(t, "SIGINT")
print("PASS: mon:stdio keys, monitor, raw mode and restored terminal")
