#!/usr/bin/env python3
"""Screening a fleet where it lies (issue #31): `ddesk sync` of an Athena source over moto S3 and
the Athena emulator (tests/emulators/athena_emulator.py, DuckDB executing the transpiled SQL) as
the fleet grows — the desktop's peak RSS (`/usr/bin/time -v`), the cache's bytes, wall time split
between Athena (the emulator's engine time) and the desktop, bytes scanned — and, beside it at
the first size, `ddesk sync` of the same export through an S3 source (what the desktop does
without Athena: download and keep every point).

The export: every thing every 5 minutes, bytes out and listening TCP ports, metrics-export
batches of 2,000 things every 5 minutes (a Firehose record holds at most 1,000 KiB) and one
gzip object per hour; one thing's bytes jump a hundredfold in the last hour and one opens telnet,
so the screen has something to find.

    .ci-venv/bin/python bench/athena_screen.py [DDESK] [THINGS ...] [--hours H]
"""
import gzip
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.environ.get("DDESK_TEST_VENV", os.path.join(ROOT, ".ci-venv"))
HOUR = 3_600_000
STEP = 300_000
# Things per Firehose record: a record is at most 1,000 KiB, ~190 bytes per thing here.
RECORD_THINGS = 2_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url):
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def export(s3, bucket, things, hours, end):
    """Writes the export; returns its stored bytes."""
    s3.create_bucket(Bucket=bucket)
    total = 0
    names = [f"dev-{i:07d}" for i in range(things)]
    for h in range(hours):
        hour = end - (hours - h) * HOUR
        lines = []
        for step in range(12):
            ts = hour + step * STEP
            last = ts >= end - HOUR
            parts = []
            for i, t in enumerate(names):
                b = 40_000 + (i * 7919 + step * 104_729) % 8_000
                if i == 42 and last:
                    b *= 100
                ports = "[443,8883,23]" if i == 7 and last else "[443,8883]"
                parts.append(f'{{"name":"aws:all-bytes-out","thing":"{t}","value":{{"count":{b}}},"version":1,"timestamp":{ts}}}')
                parts.append(f'{{"name":"aws:listening-tcp-ports","thing":"{t}","value":{{"ports":{ports}}},"version":1,"timestamp":{ts}}}')
                if len(parts) == 2 * RECORD_THINGS:
                    lines.append('{"version":"1.0","metrics":[' + ",".join(parts) + "]}")
                    parts = []
            if parts:
                lines.append('{"version":"1.0","metrics":[' + ",".join(parts) + "]}")
        body = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1)
        stamp = time.strftime("%Y/%m/%d/%H", time.gmtime(hour / 1000))
        s3.put_object(Bucket=bucket, Key=f"exports/{stamp}/bench-1-{h}.gz", Body=body)
        total += len(body)
    return total


def measured(cmd, env):
    """Runs `cmd` under /usr/bin/time -v: (wall s, peak RSS MB, stdout)."""
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd}: {out.returncode}\n{out.stdout}\n{out.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr).group(1)
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
    return secs, rss, out.stdout


def cache_bytes(db):
    return sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))


def athena_ms(emu):
    runs = json.loads(urllib.request.urlopen(emu + "/_emu/executions").read())
    return sum(r["ms"] or 0 for r in runs)


def main():
    args = sys.argv[1:]
    hours = 2
    if "--hours" in args:
        i = args.index("--hours")
        hours = int(args[i + 1])
        del args[i:i + 2]
    ddesk = args[0] if args and not args[0].isdigit() else os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "ddesk")
    sizes = [int(a) for a in args if a.isdigit()] or [10_000, 100_000]
    work = tempfile.mkdtemp(prefix="athena-bench-")
    moto_port = free_port()
    moto = subprocess.Popen([os.path.join(VENV, "bin", "moto_server"), "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    moto_url = f"http://127.0.0.1:{moto_port}"
    wait(moto_url + "/moto-api/")
    emu_port = free_port()
    emu = subprocess.Popen([os.path.join(VENV, "bin", "python"),
                            os.path.join(ROOT, "tests", "emulators", "athena_emulator.py"),
                            "--s3", moto_url, "--port", str(emu_port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    emu_url = f"http://127.0.0.1:{emu_port}"
    wait(emu_url + "/_emu/queries")
    creds = dict(region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    s3 = boto3.client("s3", endpoint_url=moto_url, **creds)
    athena = boto3.client("athena", endpoint_url=emu_url, **creds)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t", AWS_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL_S3=moto_url,
               AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    env.pop("DDESK_DB", None)
    now = int(time.time() * 1000)
    end = now - now % HOUR - HOUR
    window = ["--from", str((end - hours * HOUR) // 1000), "--to", str(end // 1000)]
    rows = []

    def run_athena(sql):
        q = athena.start_query_execution(QueryString=sql)["QueryExecutionId"]
        while True:
            s = athena.get_query_execution(QueryExecutionId=q)["QueryExecution"]["Status"]
            if s["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                assert s["State"] == "SUCCEEDED", s
                return
            time.sleep(0.1)

    try:
        run_athena("CREATE DATABASE IF NOT EXISTS defender")
        for n in sizes:
            bucket = f"bench-{n}"
            t0 = time.time()
            stored = export(s3, bucket, n, hours, end)
            gen = time.time() - t0
            table = f"export_{n}"
            ddl = subprocess.run([ddesk, "athena", "ddl", "--bucket", bucket, "--prefix", "exports/",
                                  "--table", table], env=env, capture_output=True, text=True, check=True).stdout
            run_athena(ddl)
            db = os.path.join(work, f"athena-{n}.sqlite")
            subprocess.run([ddesk, "--db", db, "sources", "add", "athena", "--name", "lake", "--table", table,
                            "--output", f"s3://{bucket}/results/", "--endpoint-url", emu_url],
                           env=env, capture_output=True, check=True)
            before = athena_ms(emu_url)
            wall, rss, out = measured([ddesk, "--db", db, "sync", *window], env)
            engine = (athena_ms(emu_url) - before) / 1000
            summary = json.loads(out)["sources"][0]
            triage = json.loads(subprocess.run([ddesk, "--db", db, "triage", "--limit", "3"], env=env,
                                               capture_output=True, text=True, check=True).stdout)
            rows.append({"how": "Athena screen", "things": n, "points": n * 2 * 12 * hours,
                         "export_bytes": stored, "wall_s": round(wall, 1), "athena_s": round(engine, 1),
                         "desktop_s": round(wall - engine, 1), "rss_mb": round(rss), "cache_bytes": cache_bytes(db),
                         "bytes_scanned": summary["bytes_scanned"], "cost_usd": summary["cost_usd"],
                         "candidates": summary["candidates"], "top": [r["thing"] for r in triage],
                         "generate_s": round(gen, 1)})
            print(json.dumps(rows[-1]), flush=True)
            if n == sizes[0]:
                db = os.path.join(work, f"s3-{n}.sqlite")
                subprocess.run([ddesk, "--db", db, "sources", "add", "s3", "--name", "bucket", "--bucket", bucket,
                                "--prefix", "exports/", "--endpoint-url", moto_url, "--path-style"],
                               env=env, capture_output=True, check=True)
                wall, rss, out = measured([ddesk, "--db", db, "sync", *window], env)
                summary = json.loads(out)
                rows.append({"how": "S3 sync (download everything)", "things": n, "points": summary["datapoints"],
                             "export_bytes": stored, "wall_s": round(wall, 1), "athena_s": 0,
                             "desktop_s": round(wall, 1), "rss_mb": round(rss), "cache_bytes": cache_bytes(db),
                             "bytes_scanned": 0, "cost_usd": 0, "candidates": None, "top": None,
                             "generate_s": None})
                print(json.dumps(rows[-1]), flush=True)
    finally:
        emu.kill()
        moto.kill()
    print()
    print(f"| how | things | points in the window | export (gzip) | wall | Athena | desktop | desktop peak RSS | cache | scanned | cost |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['how']} | {r['things']:,} | {r['points']:,} | {r['export_bytes'] / 1e6:.1f} MB | {r['wall_s']} s | "
              f"{r['athena_s']} s | {r['desktop_s']} s | {r['rss_mb']} MB | {r['cache_bytes'] / 1e6:.2f} MB | "
              f"{r['bytes_scanned'] / 1e6:.1f} MB | ${r['cost_usd']:.4f} |")


if __name__ == "__main__":
    main()
