#!/usr/bin/env python3
"""Generates a one-day Device Defender metrics export as Firehose delivers it to S3.

400 things x 6 device metrics at 5-minute steps = 691,200 datapoints in 288 gzip objects under
YYYY/MM/DD/HH/ prefixes, one newline-terminated metrics-export batch per object. Deterministic.
Usage: gen_export.py OUT_DIR [THINGS] [STEPS]
"""
import gzip
import json
import os
import random
import sys

out = sys.argv[1]
things = int(sys.argv[2]) if len(sys.argv) > 2 else 400
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 288
rng = random.Random(42)
start_ms = 1_780_000_000_000 - 1_780_000_000_000 % 86_400_000
names = [f"thing-{i:04d}" for i in range(things)]
for s in range(steps):
    ts = start_ms + s * 300_000
    metrics = []
    for n in names:
        out_b = rng.randint(1_000, 2_000_000)
        metrics += [
            {"name": "aws:all-bytes-out", "thing": n, "value": {"count": out_b}, "version": 1, "timestamp": ts},
            {"name": "aws:all-bytes-in", "thing": n, "value": {"count": out_b // 3}, "version": 1, "timestamp": ts},
            {"name": "aws:all-packets-out", "thing": n, "value": {"count": out_b // 700}, "version": 1, "timestamp": ts},
            {"name": "aws:num-established-tcp-connections", "thing": n, "value": {"count": rng.randint(0, 5)}, "version": 1, "timestamp": ts},
            {"name": "aws:listening-tcp-ports", "thing": n, "value": {"ports": [22, 443] if rng.random() > 0.001 else [21, 22, 443]}, "version": 1, "timestamp": ts},
            {"name": "aws:num-authorization-failures", "thing": n, "value": {"count": rng.randint(0, 1)}, "version": 1, "timestamp": ts},
        ]
    arrival = ts + 60_000
    hour = ts // 3_600_000
    import time as _t
    tm = _t.gmtime(arrival / 1000)
    prefix = os.path.join(out, _t.strftime("%Y/%m/%d/%H", tm))
    os.makedirs(prefix, exist_ok=True)
    name = _t.strftime("dd-export-1-%Y-%m-%d-%H-%M-%S-", tm) + f"{s:08x}.gz"
    with gzip.open(os.path.join(prefix, name), "wb", compresslevel=6) as f:
        f.write((json.dumps({"version": "1.0", "metrics": metrics}, separators=(",", ":")) + "\n").encode())
