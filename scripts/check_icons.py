#!/usr/bin/env python3
"""Checks the app's icon set (run by the test command): every icon tauri.conf.json lists exists
and is the size its name says; the set covers what each platform asks for (Linux PNGs 32-512,
a macOS .icns with every size 16-1024 at 1x and 2x, a Windows .ico with 16-256, the Windows
Store tiles); and it is what the one source makes — the source redrawn by make_icons.py is
byte for byte the committed one, and `tauri icon` run on it again gives the same PNGs and .ico
and an .icns of the same entries (its bytes differ run to run).

    python3 scripts/check_icons.py [TAURI_CLI]
"""
import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "src-tauri" / "icons"
CONF = ROOT / "src-tauri" / "tauri.conf.json"
sys.path.insert(0, str(ROOT / "scripts"))
import make_icons  # noqa: E402

PNG_SIZES = {"32x32.png": 32, "64x64.png": 64, "128x128.png": 128, "128x128@2x.png": 256,
             "icon.png": 512, "app-icon.png": 1024, "StoreLogo.png": 50,
             **{f"Square{n}x{n}Logo.png": n for n in (30, 44, 71, 89, 107, 142, 150, 284, 310)}}
ICO_SIZES = {16, 24, 32, 48, 64, 256}
# Apple's icon types: 16 and 32 (is32, il32: RGB with their masks), 128 (ic07), 256 (ic08),
# 512 (ic09), and at 2x 16 (ic11), 32 (ic12), 128 (ic13), 256 (ic14), 512 (ic10: 1024 px).
ICNS_TYPES = {"is32", "il32", "ic07", "ic08", "ic09", "ic10", "ic11", "ic12", "ic13", "ic14"}


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def ico_sizes(data):
    _, kind, n = struct.unpack("<HHH", data[:6])
    assert kind == 1, "not an icon resource"
    return {(data[6 + 16 * i] or 256) for i in range(n)}


def icns_types(data):
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data), "not an icns"
    out, pos = set(), 8
    while pos < len(data):
        kind, length = data[pos:pos + 4].decode("latin-1"), struct.unpack(">I", data[pos + 4:pos + 8])[0]
        assert length >= 8, f"bad icns entry {kind}"
        out.add(kind)
        pos += length
    return out


def main(cli):
    problems = []
    listed = json.loads(CONF.read_text())["bundle"]["icon"]
    for want in ("icons/icon.icns", "icons/icon.ico", "icons/32x32.png", "icons/128x128.png",
                 "icons/128x128@2x.png", "icons/icon.png"):
        if want not in listed:
            problems.append(f"tauri.conf.json's bundle.icon lacks {want}")
    for rel in listed:
        if not (CONF.parent / rel).is_file():
            problems.append(f"{rel} is listed but missing")
    for name, size in PNG_SIZES.items():
        got = png_size((ICONS / name).read_bytes())
        if got != (size, size):
            problems.append(f"{name} is {got}, not {size}x{size}")
    if ico_sizes((ICONS / "icon.ico").read_bytes()) < ICO_SIZES:
        problems.append(f"icon.ico lacks sizes {ICO_SIZES - ico_sizes((ICONS / 'icon.ico').read_bytes())}")
    missing = ICNS_TYPES - icns_types((ICONS / "icon.icns").read_bytes())
    if missing:
        problems.append(f"icon.icns lacks {sorted(missing)}")
    with tempfile.TemporaryDirectory() as t:
        t = Path(t)
        make_icons.main(t / "app-icon.png")
        if (t / "app-icon.png").read_bytes() != (ICONS / "app-icon.png").read_bytes():
            problems.append("app-icon.png is not what scripts/make_icons.py draws")
        subprocess.run([cli, "icon", str(ICONS / "app-icon.png"), "-o", str(t)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for f in sorted(ICONS.iterdir()):
            if f.name in ("app-icon.png", "icon.icns"):
                continue
            if not (t / f.name).exists() or (t / f.name).read_bytes() != f.read_bytes():
                problems.append(f"{f.name} is not what `tauri icon` makes of app-icon.png")
        if icns_types((t / "icon.icns").read_bytes()) != icns_types((ICONS / "icon.icns").read_bytes()):
            problems.append("icon.icns has other entries than `tauri icon` makes")
    for p in problems:
        print(f"icons: {p}", file=sys.stderr)
    if not problems:
        print(f"icons ok: {len(list(ICONS.iterdir()))} files from one source")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "ui" / "node_modules" / ".bin" / "tauri")))
