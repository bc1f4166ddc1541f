#!/usr/bin/env python3
"""Peak memory and time on a hostile object: a small gzip of valid metrics-export records that
inflates to ~1 GB (one entry repeated, so it packs ~300×). Measured with /usr/bin/time -v, side
by side in one run: `ddesk ingest` (default caps), `ddesk ingest` with the caps lifted (what
happened before them), `ddesk sync` of the same object from moto S3 (streamed), and DuckDB
reading the same file (the peer).

    .ci-venv/bin/pip install duckdb
    .ci-venv/bin/python bench/hostile_memory.py [target/debug/ddesk] [INFLATED_MB]
"""
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.environ.get("DDESK_TEST_VENV", os.path.join(ROOT, ".ci-venv"))
DDESK = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "ddesk")
INFLATED_MB = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
TS = 1_795_000_000_000 // 300_000 * 300_000


def bomb(path):
    entry = json.dumps({"name": "aws:all-bytes-out", "thing": "cam-1", "value": {"count": 1},
                        "version": 1, "timestamp": TS}, separators=(",", ":"))
    batch = ('{"version":"1.0","metrics":[' + ",".join([entry] * 1000) + "]}\n").encode()
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    n = (INFLATED_MB << 20) // len(batch) + 1
    with open(path, "wb") as f:
        for _ in range(n):
            f.write(comp.compress(batch))
        f.write(comp.flush())
    return n * len(batch), n * 1000


def timed(cmd, env=None):
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return out, rss / 1024, secs


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    work = tempfile.mkdtemp(prefix="ddesk-hostile-")
    try:
        gz = os.path.join(work, "bomb.json.gz")
        inflated, points = bomb(gz)
        print(f"object: {os.path.getsize(gz) / 1e6:.1f} MB gzip, {inflated / 2**20:.0f} MiB inflated, {points:,} datapoints")
        rows = []
        out, mb, s = timed([DDESK, "--db", os.path.join(work, "a.sqlite"), "ingest", gz])
        verdict = json.loads(out.stdout)["rejected"][0]["error"] if out.stdout else out.stderr[-200:]
        rows.append(("`ddesk ingest` (default caps: refused)", mb, s, verdict))
        out, mb, s = timed([DDESK, "--db", os.path.join(work, "b.sqlite"), "ingest", gz,
                            "--max-points", "100000000", "--max-inflated-bytes", str(4 << 30)])
        kept = json.loads(out.stdout).get("datapoints") if out.stdout else None
        rows.append(("`ddesk ingest`, caps lifted (as before the caps)", mb, s, f"accepted, {kept} datapoints offered"))

        port = free_port()
        moto = subprocess.Popen([os.path.join(VENV, "bin", "moto_server"), "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                       AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", HOME=work,
                       AWS_CONFIG_FILE=os.path.join(work, "none"), AWS_SHARED_CREDENTIALS_FILE=os.path.join(work, "none"))
            env.pop("AWS_PROFILE", None)
            import boto3  # noqa: E402 (from the test venv)
            for _ in range(100):
                try:
                    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                                      aws_access_key_id="testing", aws_secret_access_key="testing")
                    s3.create_bucket(Bucket="hostile")
                    break
                except Exception:
                    time.sleep(0.1)
            hour = time.strftime("%Y/%m/%d/%H", time.gmtime(TS / 1000))
            s3.upload_file(gz, "hostile", f"exports/{hour}/bomb-1-x.gz")
            db = os.path.join(work, "c.sqlite")
            subprocess.run([DDESK, "--db", db, "sources", "add", "s3", "--name", "h", "--bucket", "hostile",
                            "--prefix", "exports/", "--region", "us-east-1", "--endpoint-url", url, "--path-style"],
                           check=True, env=env, capture_output=True)
            out, mb, s = timed([DDESK, "--db", db, "sync", "--from", str(TS // 1000 - 3600), "--to", str(TS // 1000 + 3600)], env=env)
            summary = json.loads(out.stdout) if out.stdout else {}
            errors = summary.get("errors") or [{"error": out.stderr[-200:]}]
            rows.append(("`ddesk sync` from moto S3 (streamed, default caps: refused)", mb, s, errors[0]["error"]))
        finally:
            moto.terminate()
            moto.wait()

        duck = os.path.join(VENV, "bin", "python")
        code = ("import duckdb,sys; c=duckdb.connect(); c.execute('SET threads TO 2'); c.execute('SET enable_progress_bar=false');"
                "print(c.execute(\"SELECT count(*) FROM (SELECT unnest(metrics) FROM read_json(?, format='newline_delimited', compression='gzip', maximum_object_size=268435456))\", [sys.argv[1]]).fetchone()[0])")
        out, mb, s = timed([duck, "-c", code, gz])
        rows.append(("DuckDB `read_json` + `unnest` count (the peer)", mb, s,
                     f"read {out.stdout.strip()} entries" if out.returncode == 0 else out.stderr.strip().splitlines()[-1][:160]))
        print("| run | peak RSS MB | wall s | outcome |\n|---|---|---|---|")
        for what, mb, s, outcome in rows:
            print(f"| {what} | {mb:.0f} | {s:.1f} | {outcome} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
