#!/usr/bin/env python3
"""Renders tests/fixtures/real/c-sdk/ from aws-c-iot's report writer (no package of it runs here).

aws-c-iot (used by the AWS IoT Device SDKs for C++ and Java v2 and by the AWS IoT Device Client)
builds its JSON report in `s_get_metric_report_json` (source/device_defender.c, awslabs/aws-c-iot
at 4f7d3c03): `header` {`report_id`, `version` "1.0"}; `metrics` with `listening_tcp_ports`
{`ports`: [{`interface`, `port`}], `total`}, `tcp_connections.established_connections`
{`connections`: [{`local_interface`, `local_port`, `remote_addr` "ip:port"}], `total`},
`listening_udp_ports` {`ports`, `total`} (its UDP listeners are appended to the TCP `ports`
array — a quirk of that writer, kept here), `network_stats` {`bytes_in`, `bytes_out`,
`packets_in`, `packets_out`} (0 on the first report); `custom_metrics` {name: [{"number"} |
{"number_list"} | {"string_list"} | {"ip_list"}]}. `report_id` comes from
`s_defender_report_id_epoch_time_ms`, which despite its name converts
`aws_event_loop_current_clock_time()` — the event loop's monotonic clock — to milliseconds:
time since the device booted. Written compact, as `aws_byte_buf_append_json_string` does.

The files are what the Detect-free IoT rule (`SELECT *, topic() AS topic FROM
'$aws/things/+/defender/metrics/+'`) hands Firehose, under the object name Firehose gives
(`<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<id>` in its `YYYY/MM/DD/HH/` partition).

    python3 scripts/c_sdk_corpus.py
"""
import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "real" / "c-sdk"
UPTIME_MS = 19 * 86_400_000 + 12_345  # 19 days up: reads as 2022-01-08 in epoch seconds


def report(report_id, thing, bytes_out, first=False):
    tcp = [{"interface": "eth0", "port": 8883}]
    udp = [{"interface": "eth0", "port": 5353}]
    doc = {
        "header": {"report_id": report_id, "version": "1.0"},
        "metrics": {
            "listening_tcp_ports": {"ports": tcp + udp, "total": len(tcp)},
            "tcp_connections": {"established_connections": {
                "connections": [{"local_interface": "eth0", "local_port": 50514,
                                 "remote_addr": "203.0.113.9:8883"}],
                "total": 1}},
            "listening_udp_ports": {"ports": [], "total": len(udp)},
            "network_stats": {"bytes_in": 0 if first else 2048, "bytes_out": 0 if first else bytes_out,
                              "packets_in": 0 if first else 20, "packets_out": 0 if first else 40},
        },
        "custom_metrics": {"cpu_usage": [{"number": 12.5}]},
    }
    doc["topic"] = f"$aws/things/{thing}/defender/metrics/json"
    return json.dumps(doc, separators=(",", ":"))


def main():
    part = OUT / "2026" / "12" / "05" / "07"
    part.mkdir(parents=True, exist_ok=True)
    name = "dd-detect-free-1-2026-12-05-07-00-07-6f1c2a9e-3b1d-4c2e-9a51-2f0e8d7c6b5a"
    body = report(UPTIME_MS, "gateway-c-01", 5000) + report(UPTIME_MS + 300_000, "gateway-c-02", 7000)
    (part / name).write_text(body)
    print(f"wrote {part / name}")


if __name__ == "__main__":
    main()
