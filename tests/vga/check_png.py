#!/usr/bin/env python3
"""Compare a VGA screendump with the picture a guest program drew.

    check_png.py PATTERN FILE.png

The PNG is decoded here (zlib and the PNG filters, PNG specification
sections 9 and 10), independently of the libpng that wrote it; the
expected picture is computed from the same rule the guest program
(tests/vga/PATTERN.asm) used, with no help from the emulator.  Exits 0
if every pixel matches, else 1 naming the first differences.
"""
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG file")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            sys.exit(f"{path}: bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype != 2 or interlace:
        sys.exit(f"{path}: expected 8-bit RGB, not interlaced")
    raw = zlib.decompress(idat)
    stride = 3 * w
    rows, prev, at = [], bytearray(stride), 0
    for _ in range(h):
        ftype, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append([tuple(line[3 * x:3 * x + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def six_to_eight(c):
    """A 6-bit DAC component on an 8-bit scale: its bits replicated."""
    return (c << 2) | (c >> 4)


def dac(i):
    """The DAC entry vga_lib.inc's dac_rule loads (6-bit R, G, B)."""
    return tuple(six_to_eight(c) for c in (i & 63, (i * 7) & 63, (255 - i) >> 2))


def mode13():
    return 320, 200, lambda x, y: dac(((x ^ y) + (y >> 3)) & 255)


def mode12():
    def px(x, y):
        b = x // 8
        colour = (b + y) & 15 if x % 8 < 4 else (3 * b + y) & 15
        return dac(16 + colour)
    return 640, 480, px


def text():
    def px(x, y):
        col, cx = divmod(x, 9)
        row, cy = divmod(y, 16)
        i = row * 80 + col
        ch, attr = (7 * i) & 255, (13 * i + 5) & 255
        fg, bg = attr & 15, (attr >> 4) & 7   # blink enabled: bit 7 blinks
        if i == 81 and cy >= 14:              # the cursor: lines 14-15
            return dac(fg)
        glyph = ((37 * ch) ^ (29 * cy)) & 255
        if cx < 8:
            on = (glyph >> (7 - cx)) & 1
        else:                                 # 9th dot: line graphics only
            on = 0xC0 <= ch <= 0xDF and glyph & 1
        return dac(fg) if on else dac(bg)
    return 720, 400, px


def vbe32():
    return 320, 200, lambda x, y: (x & 255, y & 255, (x ^ y) & 255)


def vbe8bank():
    return 640, 480, lambda x, y: dac((x + 2 * y) & 255)


PATTERNS = {"mode13": mode13, "mode12": mode12, "text": text, "vbe32": vbe32,
            "vbe8bank": vbe8bank}


def main():
    name, path = sys.argv[1], sys.argv[2]
    ew, eh, rule = PATTERNS[name]()
    w, h, rows = read_png(path)
    if (w, h) != (ew, eh):
        print(f"{path}: {w}x{h}, expected {ew}x{eh}")
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
    print(f"{name}: all {w * h} pixels match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
