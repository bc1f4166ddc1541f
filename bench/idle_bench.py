#!/usr/bin/env python3
"""What watching costs (issue #20): the desktop app left open on a 10,000-thing cache with five
S3 sources watched (moto_server, buckets that stay empty: every sync brings nothing new), for
MINUTES minutes (default 30). Prints the CPU time the app and its webview used, and their
memory (RSS) at the start, at the end and at the peak, sampled every 10 s.

Usage: bench/idle_bench.py CACHE [MINUTES]
  CACHE   a cache with 10,000 things (`bench_view build-triage` makes one); a copy is used
  run from the repo root after `cargo build --workspace --features defender-desk/custom-protocol`
  under a display (xvfb-run -a dbus-run-session -- .ci-venv/bin/python bench/idle_bench.py ...)

DDESK_WATCH_INTERVAL is left at its default (five minutes) unless set."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
APP = os.path.join(TARGET, "debug/defender-desk")
DDESK = os.path.join(TARGET, "debug/ddesk")
VENV = os.environ.get("DDESK_TEST_VENV", os.path.join(ROOT, ".ci-venv"))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid):
    """The process and all its descendants (the app's WebKit processes)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            kids = open(f"/proc/{p}/task/{p}/children").read().split()
        except OSError:
            kids = []
        todo.extend(int(k) for k in kids)
    return out


def cpu_seconds(pids):
    total = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])  # utime, stime
        except OSError:
            pass
    return total / TICK


def rss_mb(pids):
    total = 0
    for p in pids:
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def main():
    cache, minutes = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 30
    work = tempfile.mkdtemp(prefix="ddesk-idle-")
    db = os.path.join(work, "cache.sqlite")
    shutil.copy(cache, db)
    port = free_port()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true", HOME=work, DDESK_DB=db, DDESK_EXPORTS=os.path.join(work, "exports"))
    moto = subprocess.Popen([os.path.join(VENV, "bin/moto_server"), "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        for i in range(5):
            subprocess.run(["curl", "-sf", "-X", "PUT", f"{url}/idle-{i}"], check=True)
            subprocess.run([DDESK, "--db", db, "sources", "add", "s3", "--name", f"s3-{i}", "--bucket", f"idle-{i}",
                            "--prefix", "dd/", "--endpoint-url", url, "--path-style"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        app = subprocess.Popen([APP], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(30)  # start-up: the window, the first ranking, the first sync of each source
        pids = tree(app.pid)
        cpu0, t0 = cpu_seconds(pids), time.time()
        rss0 = rss_mb(pids)
        peak = rss0
        while time.time() - t0 < minutes * 60:
            time.sleep(10)
            if app.poll() is not None:
                raise SystemExit(f"the app exited ({app.returncode})")
            pids = tree(app.pid)
            peak = max(peak, rss_mb(pids))
        cpu1, t1 = cpu_seconds(pids), time.time()
        rss1 = rss_mb(pids)
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)
        syncs = subprocess.run([DDESK, "--db", db, "sources", "list"], env=env, capture_output=True, text=True).stdout
        print(json.dumps({
            "minutes": round((t1 - t0) / 60, 1),
            "processes": len(pids),
            "cpu_seconds": round(cpu1 - cpu0, 2),
            "cpu_percent_of_one_core": round(100 * (cpu1 - cpu0) / (t1 - t0), 3),
            "rss_mb_start": round(rss0), "rss_mb_end": round(rss1), "rss_mb_peak": round(peak),
            "sources": json.loads(syncs) if syncs.strip().startswith("[") else syncs,
        }, indent=2))
    finally:
        moto.terminate()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
