#!/usr/bin/env python3
"""Two or more `ddesk` builds ingesting the same export, interleaved (an A/B of a change).

Usage: bench/ab_ingest.py EXPORT_DIR ROUNDS DDESK_A DDESK_B [...]   (EXPORT_DIR: bench/gen_export.py's)
Each round runs every binary once into a fresh cache; medians and minima are printed.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

export = sys.argv[1]
rounds = int(sys.argv[2])
bins = sys.argv[3:]
work = tempfile.mkdtemp()
res = {b: [] for b in bins}
for _ in range(rounds):
    for b in bins:
        db = os.path.join(work, "c.sqlite")
        for s in ("", "-wal", "-shm"):
            if os.path.exists(db + s):
                os.remove(db + s)
        t0 = time.perf_counter()
        subprocess.run([b, "--db", db, "ingest", export], check=True, stdout=subprocess.DEVNULL)
        res[b].append(time.perf_counter() - t0)
for b in bins:
    print(f"{b}: median {statistics.median(res[b]):.3f} s  min {min(res[b]):.3f}  ({rounds} rounds)")
