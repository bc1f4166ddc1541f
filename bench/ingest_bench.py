#!/usr/bin/env python3
"""Ingest benchmark, side by side in one run (issue #2):

  ddesk ingest    one-day Firehose export (gzip, newline-delimited batches) -> SQLite cache,
                  timed as a user sees it (process start to exit)
  DuckDB          the peer: read_json + unnest + keep the highest version, into a table on disk
  bare insert     the limit: rows already in memory, a plain rusqlite INSERT loop

Rounds are interleaved so that machine noise hits all three alike; medians are reported, with
ratios. Usage: bench/ingest_bench.py [ROUNDS]  (run from the repository root; see BENCHMARKS.md)
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
work = tempfile.mkdtemp(prefix="ddesk-bench-")
export = os.path.join(work, "export")

# One build for every benchmark: the same packages and targets, so cargo resolves one feature
# set and no benchmark rebuilds the dependency graph for another's.
subprocess.run(["cargo", "build", "--release", "-q", "--locked", "-p", "ddesk", "--bin", "ddesk", "-p", "desk-engine", "--examples"],
               cwd=ROOT, check=True)
subprocess.run([sys.executable, os.path.join(ROOT, "bench/gen_export.py"), export], check=True)
files = sum(len(f) for _, _, f in os.walk(export))
size = sum(os.path.getsize(os.path.join(d, n)) for d, _, fs in os.walk(export) for n in fs)
ddesk = os.path.join(TARGET, "release/ddesk")
bare = os.path.join(TARGET, "release/examples/bare_insert")
db = os.path.join(work, "cache.sqlite")


def run_ddesk():
    for s in ("", "-wal", "-shm"):
        if os.path.exists(db + s):
            os.remove(db + s)
    t0 = time.perf_counter()
    subprocess.run([ddesk, "--db", db, "ingest", export], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def run_duckdb(*mode):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench/duckdb_ingest.py"), export, os.path.join(work, "duck.db"), *mode],
                         check=True, capture_output=True, text=True).stdout.split()
    assert int(out[0]) == 691200, out
    return float(out[1])


def run_bare(order):
    out = subprocess.run([bare, os.path.join(work, "bare.sqlite"), "400", "288", order],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[1])


times = {"ddesk ingest": [], "DuckDB read_json+dedupe": [], "DuckDB, schema auto-detected": [], "bare insert (arrival order)": [], "bare insert (key order)": []}
for _ in range(ROUNDS):
    times["ddesk ingest"].append(run_ddesk())
    times["DuckDB read_json+dedupe"].append(run_duckdb())
    times["DuckDB, schema auto-detected"].append(run_duckdb("auto"))
    times["bare insert (arrival order)"].append(run_bare("arrival"))
    times["bare insert (key order)"].append(run_bare("key"))

points = 691200
count = subprocess.run([ddesk, "--db", db, "things"], check=True, capture_output=True, text=True).stdout.count('"name"')
db_bytes = os.path.getsize(db)
ours = statistics.median(times["ddesk ingest"])
print(f"data: {files} gzip objects, {size/1e6:.1f} MB, {points} datapoints, {count} things; {ROUNDS} interleaved rounds")
print(f"{'what':32} {'median s':>9} {'Mpoints/s':>10} {'ddesk is':>12}")
for name, ts in times.items():
    m = statistics.median(ts)
    ratio = "-" if name == "ddesk ingest" else f"{m / ours:.2f}x faster" if m > ours else f"{ours / m:.2f}x slower"
    print(f"{name:32} {m:9.3f} {points / m / 1e6:10.2f} {ratio:>12}")
print(f"cache size: {db_bytes} bytes = {db_bytes / points:.1f} bytes per datapoint (including names, indexes, set dictionary)")
stats = __import__("json").loads(subprocess.run([ddesk, "--db", db, "stats"], check=True, capture_output=True, text=True).stdout)
print(f"ddesk stats: {stats['bytes_per_point']:.2f} bytes per point (pages in use), timelines {stats['timelines']}, "
      f"tables: " + ", ".join(f"{t['name']} {t['bytes'] / points:.2f}" for t in stats["tables"][:5]))
