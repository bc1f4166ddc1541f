#!/usr/bin/env python3
"""Thing-view and triage benchmarks (issue #3), with DuckDB answering the same series query
over the same data in the same run. Usage: bench/view_bench.py [RUNS]  (from the repo root)

Caches are built once under $DDESK_BENCH_DIR (default /tmp/ddesk-bench) and reused."""
import os
import statistics
import subprocess
import sys
import time

import duckdb

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
WORK = os.environ.get("DDESK_BENCH_DIR", "/tmp/ddesk-bench")
os.makedirs(WORK, exist_ok=True)
# One build for every benchmark: the same packages and targets, so cargo resolves one feature
# set and no benchmark rebuilds the dependency graph for another's.
subprocess.run(["cargo", "build", "--release", "-q", "--locked", "-p", "ddesk", "--bin", "ddesk", "-p", "desk-engine", "--examples"],
               cwd=ROOT, check=True)
exe = os.path.join(TARGET, "release/examples/bench_view")
# f3: written in chunk format 3 (issue #33); the f1 copies hold the same data in format 1,
# as earlier versions wrote it (`bench_view downgrade`), so one run reads both encodings.
view_db = os.path.join(WORK, "view-50m-f3.sqlite")
triage_db = os.path.join(WORK, "triage-10k-f3.sqlite")  # with 100 botnet recruits
for mode, db in (("build-view", view_db), ("build-triage", triage_db)):
    if not os.path.exists(db):
        subprocess.run([exe, mode, db], check=True)
old_view_db, old_triage_db = view_db.replace("-f3", "-f1"), triage_db.replace("-f3", "-f1")
for db, old in ((view_db, old_view_db), (triage_db, old_triage_db)):
    if not os.path.exists(old):
        subprocess.run([exe, "downgrade", db, old], check=True)


def ours(mode, db):
    return subprocess.run([exe, mode, db, str(RUNS)], check=True, capture_output=True, text=True).stdout.strip()


END = 1_790_035_200_000
DAY = 86_400_000
METRICS = ["aws:all-bytes-out", "aws:all-bytes-in", "aws:all-packets-out", "aws:all-packets-in",
           "aws:num-established-tcp-connections", "aws:num-authorization-failures", "aws:num-listening-tcp-ports",
           "aws:message-byte-size", "aws:num-messages-sent", "aws:num-messages-received", "num_child_procs_myapp",
           "mobilerssi"]
duck_path = os.path.join(WORK, "view-50m.duckdb")
if not os.path.exists(duck_path):
    con = duckdb.connect(duck_path)
    names = ", ".join(f"'{m}'" for m in METRICS)
    con.execute(f"""CREATE TABLE point AS
        SELECT printf('thing-%05d', i) AS thing, [{names}][m + 1] AS metric,
               {END - 30 * DAY} + s * 300000 AS ts, (i * 7919 + m * 104729 + s * 31) % 1000 + 100 AS value
        FROM range(480) t(i), range(12) mm(m), range(8640) ss(s)
        ORDER BY thing, metric, ts""")
    con.close()
# Both tools start from a warm page cache: every database file is read once first, so a run
# does not measure which pages the OS happened to keep since the last build or sync.
for path in (view_db, triage_db, old_view_db, old_triage_db, duck_path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass
con = duckdb.connect(duck_path, read_only=True)
con.execute("SET threads TO 2")
rows = con.execute("SELECT count(*) FROM point").fetchone()[0]


def duck(all_metrics):
    times = []
    for r in range(RUNS):
        thing = f"thing-{(r * 7919) % 480:05d}"
        t0 = time.perf_counter()
        if all_metrics:
            got = con.execute("SELECT metric, ts, value FROM point WHERE thing = ? AND ts BETWEEN ? AND ? ORDER BY metric, ts",
                              [thing, END - 30 * DAY, END]).fetchall()
        else:
            got = con.execute("SELECT ts, value FROM point WHERE thing = ? AND metric = 'aws:all-bytes-out' AND ts BETWEEN ? AND ? ORDER BY ts",
                              [thing, END - 30 * DAY, END]).fetchall()
        times.append((time.perf_counter() - t0) * 1e3)
        assert len(got) == (103680 if all_metrics else 8640), len(got)
    times.sort()
    return times[len(times) // 2], times[int(round((len(times) - 1) * 0.95))]


print(f"caches: {view_db} (thing view), {triage_db} (triage), and their format-1 copies; DuckDB table of {rows} rows; {RUNS} runs each")
for path in (view_db, old_view_db, triage_db, old_triage_db):
    print(f"  {os.path.basename(path)}: {os.path.getsize(path) / 1e6:.1f} MB")
# Each question asked of the old encoding, the new and DuckDB in turn, twice, interleaved.
for _ in range(2):
    print("format 1  " + ours("series", old_view_db))
    print("format 3  " + ours("series", view_db))
    p50, p95 = duck(False)
    print(f"DuckDB series (same question, 8640 rows): p50 {p50:.2f} ms, p95 {p95:.2f} ms")
for _ in range(2):
    print("format 1  " + ours("view", old_view_db))
    print("format 3  " + ours("view", view_db))
    p50, p95 = duck(True)
    print(f"DuckDB all 12 metrics of a thing, rows only (no downsampling, no chart): p50 {p50:.2f} ms, p95 {p95:.2f} ms")
for _ in range(2):
    print("format 1  " + ours("triage", old_triage_db))
    print("format 3  " + ours("triage", triage_db))
