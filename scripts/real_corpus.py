#!/usr/bin/env python3
"""Regenerates tests/fixtures/real/ with the real producers (not our reading of their docs).

The AWS IoT Device Defender Agent SDK for Python (PyPI `AWSIoTDeviceDefenderAgentSDK`, the
version pinned below) builds a device's metrics report exactly as it publishes it, in JSON and
in CBOR, with long and short field names. Values are set through the SDK's own `Metrics` API
(not read from this machine), and its clock is fixed, so the output is reproducible.

    python3 -m venv /tmp/corpus && /tmp/corpus/bin/pip install 'AWSIoTDeviceDefenderAgentSDK==2.0.0'
    /tmp/corpus/bin/python scripts/real_corpus.py

Recorded quirk: in short-name mode the SDK crashes on a second sample (its delta code looks
`bi` up in a dict keyed `bytes_in`), so only first samples exist in short names.
"""
import pathlib
import time

from AWSIoTDeviceDefenderAgentSDK import metrics as sdk_metrics

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "real"
REPORT_TIME = 1_717_430_700  # 2024-06-03T16:05:00Z, epoch seconds as the SDK's report_id


def report(short_names, previous=None, at=REPORT_TIME, extra_bytes=0):
    real_time = time.time
    time.time = lambda: at
    try:
        m = sdk_metrics.Metrics(short_names=short_names, last_metric=previous)
    finally:
        time.time = real_time
    m.add_listening_ports("TCP", [{"port": 22, "interface": "eth0"}, {"port": 21, "interface": "eth0"}])
    m.add_listening_ports("UDP", [{"port": 5353, "interface": "eth0"}])
    m.add_network_stats(bytes_in=10_000, packets_in=100, bytes_out=20_000 + extra_bytes, packets_out=200)
    m.add_network_connection("203.0.113.7", 443, "eth0", 50_000)
    m.add_network_connection("2001:db8::10", 443, "eth0", 50_001)
    m.add_cpu_usage(12.5)
    return m


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    for short in (False, True):
        name = "short" if short else "long"
        m = report(short)
        (OUT / f"agent-sdk-report-{name}.json").write_text(m.to_json_string(pretty_print=True) + "\n")
        (OUT / f"agent-sdk-report-{name}.cbor").write_bytes(m.to_cbor())
        written += [f"agent-sdk-report-{name}.json", f"agent-sdk-report-{name}.cbor"]
    # A second sample (long names only): network stats become deltas from the first.
    first = report(False)
    second = report(False, previous=first, at=REPORT_TIME + 300, extra_bytes=5_000)
    (OUT / "agent-sdk-report-long-second.json").write_text(second.to_json_string(pretty_print=True) + "\n")
    written.append("agent-sdk-report-long-second.json")
    for w in written:
        print("wrote", OUT / w)


if __name__ == "__main__":
    main()
