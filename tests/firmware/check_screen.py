#!/usr/bin/env python3
"""Check that a text-mode screendump agrees with the text dump of the same
screen.

    check_screen.py SCREEN.txt SCREEN.png

The text file (-textdump-at-exit) holds the characters of video memory;
the PNG (-screendump-at-exit) the picture drawn from them with the font
the VGA BIOS loaded.  The PNG is decoded by tests/vga/check_png.py's
reader, independently of libpng.  With 9x16 cells (the BIOS's 80x25
mode 3), every cell holding a visible character must show at least two
colours and every blank cell one colour above the cursor lines.  Exits 0
or 1 naming the first cell that disagrees.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vga"))
from check_png import read_png  # noqa: E402

COLS, ROWS, CW, CH = 80, 25, 9, 16


def main():
    txt, png = sys.argv[1], sys.argv[2]
    with open(txt, encoding="ascii", errors="replace") as f:
        lines = f.read().split("\n")[:ROWS]
    w, h, px = read_png(png)
    if (w, h) != (COLS * CW, ROWS * CH):
        sys.exit(f"picture is {w}x{h}, expected {COLS * CW}x{ROWS * CH} (80x25 text)")
    lit = 0
    for r in range(ROWS):
        line = lines[r] if r < len(lines) else ""
        for c in range(COLS):
            ch = line[c] if c < len(line) else " "
            cell = {px[r * CH + y][c * CW + x] for y in range(CH - 3) for x in range(CW)}
            if ch == " " and len(cell) != 1:
                sys.exit(f"row {r} column {c}: blank in the text but drawn in the picture")
            if ch not in " _.-'`,:" and len(cell) < 2:
                sys.exit(f"row {r} column {c}: '{ch}' in the text but a blank cell in the picture")
            lit += ch != " "
    if lit == 0:
        sys.exit("the screen is blank")
    print(f"{lit} characters agree with the picture")


if __name__ == "__main__":
    main()
