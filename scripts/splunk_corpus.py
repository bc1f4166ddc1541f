#!/usr/bin/env python3
"""Regenerates tests/fixtures/real/splunk/ with splunk-sdk (not our reading of Splunk's docs).

The path the AWS Splunk sample (aws-samples/aws-iot-device-defender-and-splunk) sets up: its
Firehose transformation turns every exported metric entry and every audit-check result into an
HEC event `{"sourcetype": ..., "event": {...}}` with no `time`, and Firehose posts them, run
together, to HTTP Event Collector. Here they are posted to the Splunk emulator's HEC
(tests/emulators/splunk_emulator.py, proven with splunk_handler and splunk-sdk), then an analyst
exports the index with splunk-sdk — `service.jobs.export(..., output_mode="json")`, what
`curl .../services/search/v2/jobs/export -d output_mode=json` saves — and the raw stream is
written to `export-output-mode-json.json`; the same search in `xml` (the REST API's default),
`csv`, `json_rows` and `json_cols` to `export-output-mode-*`, and Splunk Web's *Export → CSV*
rendered from the CSV (every cell quoted, `_time` in the user's zone). Two audit runs are posted (the second a few seconds
later, as one check result event per check): an export holds both.

    .ci-venv/bin/python scripts/splunk_corpus.py

Metric times are fixed (late November 2025); `_time` of the audit events is when HEC received
them (the sample sends no time), so it changes when the files are regenerated.
"""
import io
import json
import pathlib
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "real" / "splunk"
sys.path.insert(0, str(ROOT / "tests" / "emulators"))
import test_emulators  # noqa: E402  (server helpers)
import splunklib.client  # noqa: E402
import splunklib.results  # noqa: E402

T0 = 1_764_540_000  # 2025-11-30T22:00:00Z
ST = "aws-iot-device-defender"
HEC = "corpus-hec-token"
CHECKS = ["DEVICE_CERTIFICATE_SHARED_CHECK", "CONFLICTING_CLIENT_IDS_CHECK", "LOGGING_DISABLED_CHECK"]


def hec(base, events):
    body = "".join(json.dumps(e, separators=(",", ":")) for e in events).encode()
    req = urllib.request.Request(base + "/services/collector/event", data=body, method="POST",
                                 headers={"Authorization": f"Splunk {HEC}"})
    with urllib.request.urlopen(req) as r:
        answer = json.loads(r.read())
    assert answer == {"text": "Success", "code": 0}, answer


def main():
    empty = OUT / ".empty.json"
    OUT.mkdir(parents=True, exist_ok=True)
    empty.write_text("[]")
    proc, port = test_emulators.start([str(ROOT / "tests/emulators/splunk_emulator.py"), "--data",
                                       str(empty), "--token", "search", "--hec-token", HEC])
    base = f"http://127.0.0.1:{port}"
    try:
        # Exported metrics: one event per metric entry (the export's own `timestamp`, in ms).
        metrics = []
        for k, thing in enumerate(["cam-001", "cam-002"]):
            for i in range(3):
                ts = (T0 - 900 + 300 * i) * 1000
                metrics.append({"name": "aws:all-bytes-out", "thing": thing, "version": 2,
                                "value": {"count": 1000 * (k + 1) + i}, "timestamp": ts})
            metrics.append({"name": "aws:listening-tcp-ports", "thing": thing, "version": 2,
                            "value": {"ports": [443, 8883] + ([21] if k else [])}, "timestamp": T0 * 1000})
        hec(base, [{"sourcetype": ST, "event": m} for m in metrics])
        # Two audit runs, one event per check result, no time: _time is when HEC got them.
        for run in range(2):
            if run:
                time.sleep(2)
            hec(base, [{"sourcetype": ST, "event": {
                "checkName": c, "checkRunStatus": "COMPLETED_NON_COMPLIANT" if i == 0 else "COMPLETED_COMPLIANT",
                "nonCompliantResourcesCount": (run + 1) if i == 0 else 0, "totalResourcesCount": 40,
                "suppressedNonCompliantResourcesCount": 0}} for i, c in enumerate(CHECKS)])
        svc = splunklib.client.connect(host="127.0.0.1", port=port, scheme="http", splunkToken="search",
                                       autologin=False)
        stream = svc.jobs.export(f'search index=main sourcetype="{ST}"', output_mode="json",
                                 earliest_time="0", latest_time="now")
        raw = stream.read()
        rows = [r for r in splunklib.results.JSONResultsReader(__import__("io").BytesIO(raw))
                if isinstance(r, dict)]
        assert len(rows) == len(metrics) + 2 * len(CHECKS), len(rows)
        (OUT / "export-output-mode-json.json").write_bytes(raw)
        print(f"wrote {len(rows)} rows to {OUT / 'export-output-mode-json.json'}")
        # The same search in every other output mode the REST API has, as splunk-sdk saves it.
        q = f'search index=main sourcetype="{ST}" | table _time _raw host source sourcetype'
        for mode, name in [("xml", "export-output-mode-xml.xml"), ("csv", "export-output-mode-csv.csv"),
                           ("json_rows", "export-output-mode-json-rows.json"),
                           ("json_cols", "export-output-mode-json-cols.json")]:
            body = svc.jobs.export(q, output_mode=mode, earliest_time="0", latest_time="now").read()
            (OUT / name).write_bytes(body)
            print(f"wrote {OUT / name}")
        # Splunk Web's Export → CSV (not reachable without Splunk Web): the REST CSV's rows with
        # every cell quoted and `_time` in the exporting user's zone (America/New_York here),
        # as the Web export writes them.
        import csv as _csv
        import datetime as _dt
        import zoneinfo
        zone = zoneinfo.ZoneInfo("America/New_York")
        src = list(_csv.DictReader(io.StringIO((OUT / "export-output-mode-csv.csv").read_text())))
        out = io.StringIO()
        w = _csv.writer(out, quoting=_csv.QUOTE_ALL, lineterminator="\n")
        w.writerow(["_time", "_raw", "host", "source", "sourcetype"])
        for r in src:
            t = _dt.datetime.fromisoformat(r["_time"]).astimezone(zone)
            local = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}" + t.strftime("%z")[:3] + ":" + t.strftime("%z")[3:]
            w.writerow([local, r["_raw"], r.get("host", ""), r.get("source", ""), r.get("sourcetype", "")])
        (OUT / "splunk-web-export.csv").write_text(out.getvalue())
        print(f"wrote {OUT / 'splunk-web-export.csv'}")
    finally:
        proc.kill()
        empty.unlink()


if __name__ == "__main__":
    main()
