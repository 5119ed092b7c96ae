#!/usr/bin/env python3
"""Check the screen a VGA BIOS program drew.

    check_bios.py text|vbe CONSOLE.txt SCREEN.png

text (bios_text.asm): CONSOLE.txt holds the cursor's start and end lines
(CR0A, CR0B) and the BIOS's own 8x16 font.  The expected picture follows
the text mode rules (IBM VGA Technical Reference: 80x25 cells of 9x16
dots, the ninth dot blank for these characters, the cursor filling its
lines of the cell in the foreground colour) and the standard palette
(attribute 07h: light grey 2Ah,2Ah,2Ah on black).

vbe (bios_vbe.asm): CONSOLE.txt holds the mode's geometry and the DAC
the BIOS loaded; pixel (x, y) has colour (x + 2y) & 0xff.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vga"))
from check_png import read_png  # noqa: E402

MESSAGE = "Umbra VGA BIOS"
GREY = ((0x2A << 2) | (0x2A >> 4),) * 3
BLACK = (0, 0, 0)


def six_to_eight(c):
    return (c << 2) | (c >> 4)


def compare(png, ew, eh, rule):
    w, h, rows = read_png(png)
    if (w, h) != (ew, eh):
        print(f"{png}: {w}x{h}, expected {ew}x{eh}")
        return 1
    bad = 0
    for y in range(h):
        for x in range(w):
            want = rule(x, y)
            if rows[y][x] != want:
                if bad < 5:
                    print(f"pixel ({x}, {y}): {rows[y][x]}, expected {want}")
                bad += 1
    if bad:
        print(f"{bad} of {w * h} pixels differ")
        return 1
    print(f"all {w * h} pixels match")
    return 0


def check_vbe(lines, png):
    mode = next(l for l in lines if l.startswith("mode "))
    w, h, pitch = (int(x, 16) for x in mode.split()[1:4])
    if (w, h, pitch) != (640, 480, 640):
        print(f"mode 101h reported as {w}x{h}, {pitch} bytes a line")
        return 1
    at = lines.index("dac")
    dac = [tuple(six_to_eight(b & 0x3F) for b in bytes.fromhex(l))
           for l in lines[at + 1:at + 257]]
    if len(dac) != 256:
        print("the console does not hold 256 DAC entries")
        return 1
    return compare(png, 640, 480, lambda x, y: dac[(x + 2 * y) & 255])


def main():
    kind, console, png = sys.argv[1], sys.argv[2], sys.argv[3]
    lines = open(console).read().splitlines()
    if kind == "vbe":
        return check_vbe(lines, png)
    cur = next(l for l in lines if l.startswith("cursor "))
    cur_start, cur_end = (int(x, 16) & 0x1F for x in cur.split()[1:3])
    at = lines.index("font")
    font = [bytes.fromhex(l) for l in lines[at + 1:at + 257]]
    if len(font) != 256 or any(len(g) != 16 for g in font):
        print("the console does not hold a 256-character 8x16 font")
        return 1
    w, h, rows = read_png(png)
    if (w, h) != (720, 400):
        print(f"{png}: {w}x{h}, expected 720x400")
        return 1
    bad = 0
    for y in range(h):
        row, line = divmod(y, 16)
        for x in range(w):
            col, dot = divmod(x, 9)
            ch = ord(MESSAGE[col]) if row == 0 and col < len(MESSAGE) else 0x20
            if row == 0 and col == len(MESSAGE) and cur_start <= line <= cur_end:
                on = True
            else:
                on = dot < 8 and (font[ch][line] >> (7 - dot)) & 1
            want = GREY if on else BLACK
            if rows[y][x] != want:
                if bad < 5:
                    print(f"pixel ({x}, {y}): {rows[y][x]}, expected {want}")
                bad += 1
    if bad:
        print(f"{bad} of {w * h} pixels differ")
        return 1
    print(f"bios_text: all {w * h} pixels match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
