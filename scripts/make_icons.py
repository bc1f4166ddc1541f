#!/usr/bin/env python3
"""Draws the Defender Desk icon (a shield) as the one source image, a 1024x1024 RGBA PNG, with no
imaging library. Every icon the platforms ask for is generated from it by the Tauri CLI:

    python3 scripts/make_icons.py src-tauri/icons/app-icon.png
    ui/node_modules/.bin/tauri icon src-tauri/icons/app-icon.png -o src-tauri/icons

(PNGs for Linux at 32-512 px, icon.icns for macOS, icon.ico for Windows, the Windows Store's
Square*Logo tiles; android/ and ios/ are removed: not targets). `scripts/check_icons.py`, run by
the test command, checks the set is complete and that it is what the source makes."""
import struct
import sys
import zlib
from pathlib import Path


def shield(size):
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            u, v = (x + 0.5) / size, (y + 0.5) / size
            r = 0.16  # rounded background square
            dx, dy = max(r - u, 0, u - (1 - r)), max(r - v, 0, v - (1 - r))
            inside_bg = dx * dx + dy * dy <= r * r and 0.03 < u < 0.97 and 0.03 < v < 0.97
            half = 0.32 if v < 0.55 else 0.32 * max(0.0, (0.88 - v) / 0.33)
            in_shield = 0.14 < v < 0.88 and abs(u - 0.5) < half
            inner_half = 0.22 if v < 0.55 else 0.22 * max(0.0, (0.76 - v) / 0.21)
            in_inner = 0.24 < v < 0.76 and abs(u - 0.5) < inner_half
            if in_inner:
                px = (11, 29, 46, 255)
            elif in_shield:
                px = (229, 72, 77, 255)
            elif inside_bg:
                px = (11, 29, 46, 255)
            else:
                px = (0, 0, 0, 0)
            row += bytes(px)
        rows.append(bytes(row))
    return rows


def png(size):
    raw = b"".join(b"\x00" + r for r in shield(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


SOURCE_SIZE = 1024


def main(dest):
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(png(SOURCE_SIZE))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "src-tauri/icons/app-icon.png")
