#!/usr/bin/env python3
"""Fleet triage benchmark (issues #3 and #19): `ddesk`'s triage, the floor under it (reading
the catalog and chunk summaries, nothing computed) and DuckDB answering the same question over
the same datapoints, in one run, for 10,000 things x 7 days and 100,000 things x 1 day.
Peak memory of each (`/usr/bin/time -v`, one ranking per process) is printed too.

Usage: bench/triage_bench.py [RUNS]   (from the repo root; needs `duckdb` in the venv)

Caches are built once under $DDESK_BENCH_DIR (default /tmp/ddesk-bench) and reused."""
import os
import re
import statistics
import subprocess
import sys
import time

import duckdb

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
WORK = os.environ.get("DDESK_BENCH_DIR", "/tmp/ddesk-bench")
os.makedirs(WORK, exist_ok=True)
# The same build as the other benchmarks (one feature set, no rebuild of the graph).
subprocess.run(["cargo", "build", "--release", "-q", "--locked", "-p", "ddesk", "--bin", "ddesk", "-p", "desk-engine", "--examples"],
               cwd=ROOT, check=True)
EXE = os.path.join(TARGET, "release/examples/bench_view")

END = 1_790_035_200_000
DAY = 86_400_000
STEP = 300_000
METRICS = ["aws:all-bytes-out", "aws:all-bytes-in", "aws:all-packets-out", "aws:all-packets-in"]
# (label, bench_view build mode, sqlite file, things, days)
FLEETS = [
    ("10,000 things x 7 days", "build-triage", "triage-10k-v2.sqlite", 10_000, 7),
    ("100,000 things x 1 day", "build-triage-100k", "triage-100k-1d.sqlite", 100_000, 1),
]

# The question triage answers, as an analyst would put it to DuckDB: hourly means per series;
# each series against its own median and MAD over the window (6 robust deviations); each series
# over the last 6 hours against the median of its peers (here the whole fleet: one name family)
# that hour (5x); which things have a reason, most reasons first.
QUERY = """
WITH hourly AS (
  SELECT thing, metric, ts // 3600000 AS h, avg(value) AS mean
  FROM point WHERE ts > ? GROUP BY ALL),
base AS (SELECT thing, metric, median(mean) AS med FROM hourly GROUP BY ALL),
scale AS (
  SELECT h.thing, h.metric, any_value(b.med) AS med,
         greatest(1.4826 * median(abs(h.mean - b.med)), 0.05 * abs(any_value(b.med)), 1) AS scale
  FROM hourly h JOIN base b USING (thing, metric) GROUP BY ALL),
own AS (
  SELECT DISTINCT h.thing, h.metric FROM hourly h JOIN scale s USING (thing, metric)
  WHERE abs((h.mean - s.med) / s.scale) >= 6),
recent AS (SELECT * FROM hourly WHERE h >= (SELECT max(h) FROM hourly) - 6),
peers AS (SELECT metric, h, median(mean) AS med FROM recent GROUP BY ALL),
peer_hits AS (
  SELECT DISTINCT r.thing, r.metric FROM recent r JOIN peers p USING (metric, h)
  WHERE r.mean >= 5 * p.med)
SELECT thing, count(*) AS reasons
FROM (SELECT * FROM own UNION ALL SELECT * FROM peer_hits)
GROUP BY thing ORDER BY reasons DESC, thing
"""


def duck_path(things, days):
    path = os.path.join(WORK, f"triage-{things // 1000}k-{days}d.duckdb")
    if not os.path.exists(path):
        con = duckdb.connect(path)
        steps = days * DAY // STEP
        last = steps - 1
        names = ", ".join(f"'{m}'" for m in METRICS)
        # The same values as bench_view's `value()`: recruits (every 100th thing, offset 7)
        # send 100x bytes out for the last three hours.
        con.execute(f"""CREATE TABLE point AS
            SELECT printf('thing-%05d', i) AS thing, [{names}][m + 1] AS metric,
                   {END - days * DAY} + s * {STEP} AS ts,
                   ((i * 7919 + m * 104729 + s * 31) % 1000 + 100)
                     * CASE WHEN i % 100 = 7 AND m = 0 AND s > {last} - 36 THEN 100 ELSE 1 END AS value
            FROM range({things}) t(i), range({len(METRICS)}) mm(m), range({steps}) ss(s)""")
        con.close()
    return path


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def peak_mb(cmd):
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=True)
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return kb / 1024


def pct(v, p):
    v = sorted(v)
    return v[int(round((len(v) - 1) * p))]


print(f"{RUNS} runs each; p50 / p95 in ms; peak RSS of one ranking in its own process")
for label, mode, sqlite_name, things, days in FLEETS:
    db = os.path.join(WORK, sqlite_name)
    if not os.path.exists(db):
        subprocess.run([EXE, mode, db], check=True)
    duck = duck_path(things, days)
    for path in (db, duck):
        warm(path)
    ours = subprocess.run([EXE, "triage", db, str(RUNS)], check=True, capture_output=True, text=True).stdout.strip()
    scan = subprocess.run([EXE, "scan", db, str(RUNS)], check=True, capture_output=True, text=True).stdout.strip()
    con = duckdb.connect(duck, read_only=True)
    con.execute("SET threads TO 2")
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        got = con.execute(QUERY, [END - 7 * DAY]).fetchall()
        times.append((time.perf_counter() - t0) * 1e3)
    con.close()
    flagged = len(got)
    assert flagged == things // 100, f"DuckDB flagged {flagged}"
    ours_mb = peak_mb([EXE, "triage", db, "1"])
    duck_code = ("import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); c.execute('SET threads TO 2');"
                 "c.execute(sys.argv[2], [int(sys.argv[3])]).fetchall()")
    duck_mb = peak_mb([sys.executable, "-c", duck_code, duck, QUERY, str(END - 7 * DAY)])
    p50 = statistics.median(times)
    print(f"\n== {label} ({things * len(METRICS) * days * DAY // STEP / 1e6:.1f} million datapoints)")
    print(f"ddesk  {ours}  | peak {ours_mb:.0f} MB")
    print(f"floor  {scan}")
    print(f"DuckDB same question over the datapoints: {flagged} things flagged, p50 {p50:.1f} ms, "
          f"p95 {pct(times, 0.95):.1f} ms  | peak {duck_mb:.0f} MB")
