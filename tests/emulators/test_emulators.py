#!/usr/bin/env python3
"""Proves the emulators faithful with the official clients as peers.

- Device Defender: boto3's IoT client calls every emulated operation; each raw response body
  is validated against the operation's output shape in botocore's AWS IoT model (no unknown
  member, required members present, types, enums, lengths and ranges), and boto3 must parse it.
  Errors must be parsed by botocore into the model's error codes (throttling recognised as
  retryable). Everything else is forwarded to moto_server (thing groups).
- Athena: boto3 (REST-JSON) and a raw JSON 1.1 request run DDL and SELECTs that DuckDB
  executes after sqlglot transpiles them; responses validated against botocore's model.
- Splunk: splunk-sdk connects (token), reads `server/info`, runs `jobs.export` and reads the
  stream with `JSONResultsReader`; v1 fallback, auth failures and a 503 refusal surface as the
  SDK expects.

Run: `python tests/emulators/test_emulators.py` (needs boto3, moto[server], splunk-sdk).
"""

import datetime as dt
import csv
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import boto3
import botocore.config
import botocore.session
import botocore.exceptions
import splunklib.binding
import splunklib.client
import splunklib.results

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dataset  # noqa: E402

NOW = float(int(time.time()))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start(args):
    p = subprocess.Popen([sys.executable] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    assert line.startswith("listening on "), line
    return p, int(line.split()[-1])


def post(url, payload):
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")
    urllib.request.urlopen(req).read()


class ShapeError(AssertionError):
    pass


def validate(shape, value, path="$"):
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected object, got {type(value).__name__}")
        members = {m.serialization.get("name", k): (k, m) for k, m in shape.members.items()}
        for key in value:
            if key not in members:
                raise ShapeError(f"{path}: member {key!r} is not in shape {shape.name}")
        for req in shape.required_members:
            wire = shape.members[req].serialization.get("name", req)
            if shape.members[req].serialization.get("location") in (None, "") and wire not in value:
                raise ShapeError(f"{path}: required member {wire!r} missing")
        for key, v in value.items():
            validate(members[key][1], v, f"{path}.{key}")
    elif t == "list":
        if not isinstance(value, list):
            raise ShapeError(f"{path}: expected list")
        for i, v in enumerate(value):
            validate(shape.member, v, f"{path}[{i}]")
    elif t == "map":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected map")
        for k, v in value.items():
            validate(shape.key, k, f"{path}<key>")
            validate(shape.value, v, f"{path}[{k!r}]")
    elif t == "string":
        if not isinstance(value, str):
            raise ShapeError(f"{path}: expected string, got {value!r}")
        if shape.enum and value not in shape.enum:
            raise ShapeError(f"{path}: {value!r} not in enum {shape.name}")
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise ShapeError(f"{path}: length {len(value)} outside [{lo}, {hi}]")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ShapeError(f"{path}: expected integer, got {value!r}")
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ShapeError(f"{path}: {value} outside [{lo}, {hi}]")
    elif t in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ShapeError(f"{path}: expected number")
    elif t == "boolean":
        if not isinstance(value, bool):
            raise ShapeError(f"{path}: expected boolean")
    elif t == "timestamp":
        # REST-JSON bodies carry epoch seconds, unless the shape names its format.
        if shape.serialization.get("timestampFormat") == "iso8601":
            try:
                dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise ShapeError(f"{path}: expected an ISO 8601 time, got {value!r}")
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ShapeError(f"{path}: expected epoch seconds, got {value!r}")
    else:
        raise ShapeError(f"{path}: unhandled shape type {t}")


class DefenderEmulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        venv_bin = os.path.dirname(sys.executable)
        cls.moto_port = free_port()
        cls.moto = subprocess.Popen([os.path.join(venv_bin, "moto_server"), "-p", str(cls.moto_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(f"http://127.0.0.1:{cls.moto_port}/moto-api/")
        cls.data = dataset.defender(NOW)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(cls.data, f)
        cls.emu, port = start([os.path.join(HERE, "defender_emulator.py"), "--data", f.name,
                               "--moto", f"http://127.0.0.1:{cls.moto_port}"])
        cls.url = f"http://127.0.0.1:{port}"
        cls.iot = boto3.client("iot", endpoint_url=cls.url, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing",
                               config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        cls.raw = {}

        def capture(operation_model, response_dict, **_):
            cls.raw.setdefault(operation_model.name, []).append(response_dict)

        cls.iot.meta.events.register("before-parse.iot", capture)

    @classmethod
    def tearDownClass(cls):
        cls.emu.kill()
        cls.moto.kill()

    def check(self, op, **kwargs):
        """Calls op through boto3, validates every raw page against the model, returns pages."""
        model = self.iot.meta.service_model.operation_model(op)
        method = getattr(self.iot, self.iot.meta.method_to_api_mapping and
                         {v: k for k, v in self.iot.meta.method_to_api_mapping.items()}[op])
        pages, token = [], None
        while True:
            args = dict(kwargs)
            if token:
                args["nextToken"] = token
            self.raw.pop(op, None)
            parsed = method(**args)
            body = json.loads(self.raw[op][-1]["body"] or b"{}")
            self.assertEqual(self.raw[op][-1]["status_code"], 200)
            validate(model.output_shape, body)
            pages.append(parsed)
            token = parsed.get("nextToken")
            if not token or "nextToken" not in model.input_shape.members:
                return pages

    def test_detect_operations(self):
        pages = self.check("ListSecurityProfiles")
        names = [p["name"] for pg in pages for p in pg["securityProfileIdentifiers"]]
        self.assertEqual(names, ["Baseline", "Cameras"])
        d = self.check("DescribeSecurityProfile", securityProfileName="Baseline")[0]
        self.assertEqual(d["behaviors"][0]["criteria"]["value"]["count"], 5000000)
        pages = self.check("ListViolationEvents", startTime=NOW - 30 * 86400, endTime=NOW, maxResults=250)
        self.assertGreater(len(pages), 2, "violation events must span several pages")
        events = [e for p in pages for e in p["violationEvents"]]
        self.assertEqual(len(events), len(self.data["violationEvents"]))
        window = self.check("ListViolationEvents", startTime=NOW - 86400, endTime=NOW)
        self.assertTrue(all(e["violationEventTime"].timestamp() >= NOW - 86400
                            for p in window for e in p["violationEvents"]))
        active = self.check("ListActiveViolations", maxResults=10)
        self.assertEqual(sum(len(p["activeViolations"]) for p in active), len(self.data["activeViolations"]))
        # The analyst's verification state goes onto the violation and comes back with it.
        vid = self.data["violationEvents"][0]["violationId"]
        self.check("PutVerificationStateOnViolation", violationId=vid, verificationState="BENIGN_POSITIVE",
                   verificationStateDescription="backup window")
        after = [v for p in self.check("ListViolationEvents", startTime=NOW - 30 * 86400, endTime=NOW, maxResults=250)
                 for v in p["violationEvents"] if v["violationId"] == vid]
        self.assertEqual((after[0]["verificationState"], after[0]["verificationStateDescription"]),
                         ("BENIGN_POSITIVE", "backup window"))
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.iot.put_verification_state_on_violation(violationId="nope", verificationState="UNKNOWN")
        mv = self.check("ListMetricValues", thingName="cam-000", metricName="aws:listening-tcp-ports",
                        startTime=NOW - 14 * 86400, endTime=NOW, maxResults=100)
        self.assertEqual(sum(len(p["metricDatumList"]) for p in mv), 14 * 24)

    def test_audit_operations(self):
        tasks = [t for p in self.check("ListAuditTasks", startTime=NOW - 89 * 86400, endTime=NOW)
                 for t in p["tasks"]]
        self.assertEqual(len(tasks), 12)
        d = self.check("DescribeAuditTask", taskId=tasks[0]["taskId"])[0]
        self.assertIn("DEVICE_CERTIFICATE_EXPIRING_CHECK", d["auditDetails"])
        last = self.data["auditTasks"][-1]
        pages = self.check("ListAuditFindings", taskId=last["taskId"], maxResults=100)
        self.assertEqual(sum(len(p["findings"]) for p in pages), len(last["findings"]))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iot.list_audit_tasks(startTime=NOW - 200 * 86400, endTime=NOW)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_mitigation_operations(self):
        actions = self.check("ListMitigationActions")[0]["actionIdentifiers"]
        self.assertEqual(len(actions), 3)
        # filtered by type, as the app asks for the actions a Detect violation can take
        detect = self.check("ListMitigationActions", actionType="ADD_THINGS_TO_THING_GROUP")[0]
        self.assertEqual([a["actionName"] for a in detect["actionIdentifiers"]], ["quarantine-group"])
        certs = self.check("ListMitigationActions", actionType="UPDATE_DEVICE_CERTIFICATE")[0]
        self.assertEqual([a["actionName"] for a in certs["actionIdentifiers"]], ["deactivate-cert"])
        self.check("DescribeMitigationAction", actionName="deactivate-cert")
        vid = self.data["violationEvents"][0]["violationId"]
        self.check("StartDetectMitigationActionsTask", taskId="t-detect-1",
                   target={"violationIds": [vid]}, actions=["quarantine-group"],
                   clientRequestToken="tok-1")
        # idempotent with the same token, refused with another
        self.check("StartDetectMitigationActionsTask", taskId="t-detect-1",
                   target={"violationIds": [vid]}, actions=["quarantine-group"],
                   clientRequestToken="tok-1")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iot.start_detect_mitigation_actions_task(
                taskId="t-detect-1", target={"violationIds": [vid]}, actions=["quarantine-group"],
                clientRequestToken="tok-2")
        self.assertEqual(e.exception.response["Error"]["Code"], "TaskAlreadyExistsException")
        statuses = [self.check("DescribeDetectMitigationActionsTask", taskId="t-detect-1")[0]
                    ["taskSummary"]["taskStatus"] for _ in range(2)]
        self.assertEqual(statuses, ["IN_PROGRESS", "SUCCESSFUL"])
        ex = self.check("ListDetectMitigationActionsExecutions", taskId="t-detect-1")[0]
        self.assertEqual(ex["actionsExecutions"][0]["status"], "SUCCESSFUL")
        fid = self.data["auditTasks"][0]["findings"][0]["findingId"]
        self.check("StartAuditMitigationActionsTask", taskId="t-audit-1",
                   target={"findingIds": [fid]},
                   auditCheckToActionsMapping={"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate-cert"]},
                   clientRequestToken="tok-a")
        for _ in range(2):
            d = self.check("DescribeAuditMitigationActionsTask", taskId="t-audit-1")[0]
        self.assertEqual(d["taskStatus"], "COMPLETED")
        ex = self.check("ListAuditMitigationActionsExecutions", taskId="t-audit-1", findingId=fid)[0]
        self.assertEqual(ex["actionsExecutions"][0]["findingId"], fid)
        window = {"startTime": time.time() - 3600, "endTime": time.time() + 60}
        dt = self.check("ListDetectMitigationActionsTasks", **window)[0]["tasks"]
        self.assertEqual([(t["taskId"], t["taskStatus"]) for t in dt], [("t-detect-1", "SUCCESSFUL")])
        at = self.check("ListAuditMitigationActionsTasks", **window)[0]["tasks"]
        self.assertEqual([(t["taskId"], t["taskStatus"]) for t in at], [("t-audit-1", "COMPLETED")])
        f = self.check("DescribeAuditFinding", findingId=fid)[0]["finding"]
        self.assertEqual(f["findingId"], fid)

    def test_errors_and_faults_parse_as_aws_errors(self):
        post(self.url + "/_emu/faults", [{"op": "ListSecurityProfiles", "kind": "throttle", "count": 1}])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iot.list_security_profiles()
        self.assertEqual(e.exception.response["Error"]["Code"], "ThrottlingException")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iot.describe_security_profile(securityProfileName="nope")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        post(self.url + "/_emu/faults", [{"op": "*", "kind": "error500", "count": 1}])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iot.list_active_violations()
        self.assertEqual(e.exception.response["Error"]["Code"], "InternalFailureException")
        post(self.url + "/_emu/faults", [])

    def test_thing_groups_are_moto(self):
        self.iot.create_thing(thingName="cam-000")
        self.iot.create_thing_group(thingGroupName="Quarantine")
        self.iot.add_thing_to_thing_group(thingGroupName="Quarantine", thingName="cam-000")
        groups = self.iot.list_thing_groups_for_thing(thingName="cam-000")["thingGroups"]
        self.assertEqual([g["groupName"] for g in groups], ["Quarantine"])


class SplunkEmulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.events = dataset.splunk(NOW)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(cls.events, f)
        cls.proc, cls.port = start([os.path.join(HERE, "splunk_emulator.py"), "--data", f.name,
                                    "--token", "tok-123"])
        cls.base = f"http://127.0.0.1:{cls.port}"

    @classmethod
    def tearDownClass(cls):
        cls.proc.kill()

    def setUp(self):
        post(self.base + "/_emu/faults", [])
        post(self.base + "/_emu/token", {"token": "tok-123", "revoked": False, "version": "9.1.2"})

    def service(self, token="tok-123"):
        return splunklib.client.connect(host="127.0.0.1", port=self.port, scheme="http",
                                        splunkToken=token, autologin=False)

    QUERY = 'search index=iot sourcetype="aws-iot-device-defender" | eval epoch_time=_time | table epoch_time _raw'

    def export(self, svc, query=None, **kw):
        kw = {"earliest_time": str(NOW - 4 * 86400), "latest_time": str(NOW), **kw}
        stream = svc.jobs.export(query or self.QUERY, output_mode="json", **kw)
        reader = splunklib.results.JSONResultsReader(stream)
        items = list(reader)
        return reader, [r for r in items if isinstance(r, dict)], [m for m in items if isinstance(m, splunklib.results.Message)]

    def test_export_read_by_json_results_reader(self):
        svc = self.service()
        self.assertEqual(svc.info["version"], "9.1.2")
        reader, rows, _ = self.export(svc)
        expected = [e for e in self.events if e["index"] == "iot" and e["sourcetype"] == "aws-iot-device-defender"]
        self.assertEqual(len(rows), len(expected))
        self.assertFalse(reader.is_preview)
        self.assertEqual(set(rows[0]), {"epoch_time", "_raw"})
        ev = json.loads(rows[0]["_raw"])
        self.assertTrue("name" in ev or "checkName" in ev)
        calls = json.loads(urllib.request.urlopen(self.base + "/_emu/calls").read())
        self.assertTrue(any(c["path"] == "/services/search/v2/jobs/export" for c in calls))

    def test_every_output_mode_carries_the_same_rows(self):
        """XML read by splunk-sdk's ResultsReader, CSV by Python's csv, json_rows and json_cols
        by position: the same `_raw` events as the JSON export, in the same order."""
        svc = self.service()
        _, rows, _ = self.export(svc)
        want = [r["_raw"] for r in rows]
        q = 'search index=iot sourcetype="aws-iot-device-defender" | table _time _raw'
        kw = {"earliest_time": str(NOW - 4 * 86400), "latest_time": str(NOW)}
        xml = svc.jobs.export(q, output_mode="xml", **kw).read()
        got = [r for r in splunklib.results.ResultsReader(io.BytesIO(xml)) if isinstance(r, dict)]
        self.assertEqual([r["_raw"] for r in got], want)
        self.assertRegex(got[0]["_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
        text = svc.jobs.export(q, output_mode="csv", **kw).read().decode()
        self.assertEqual([r["_raw"] for r in csv.DictReader(io.StringIO(text))], want)
        doc = json.loads(svc.jobs.export(q, output_mode="json_rows", **kw).read())
        i = doc["fields"].index("_raw")
        self.assertEqual([r[i] for r in doc["rows"]], want)
        doc = json.loads(svc.jobs.export(q, output_mode="json_cols", **kw).read())
        self.assertEqual(doc["columns"][doc["fields"].index("_raw")], want)

    def test_where_quoting_matches_exactly(self):
        svc = self.service()
        q = 'search index=iot sourcetype="aws-iot-device-defender" | where thing="cam-003" | eval epoch_time=_time | table epoch_time _raw'
        _, rows, _ = self.export(svc, q)
        self.assertTrue(rows)
        self.assertTrue(all(json.loads(r["_raw"])["thing"] == "cam-003" for r in rows))
        hostile = 'search index=iot sourcetype="aws-iot-device-defender" | where thing="x\\" | delete" | table _raw'
        _, rows, _ = self.export(svc, hostile)
        self.assertEqual(rows, [])

    def test_v1_fallback_and_errors(self):
        post(self.base + "/_emu/token", {"token": "tok-123", "version": "8.2.6"})
        svc = self.service()
        _, rows, _ = self.export(svc)
        self.assertTrue(rows)
        calls = json.loads(urllib.request.urlopen(self.base + "/_emu/calls").read())
        self.assertEqual(calls[-1]["path"], "/services/search/jobs/export")
        with self.assertRaises(splunklib.binding.HTTPError) as e:
            self.export(self.service("wrong"))
        self.assertEqual(e.exception.status, 401)
        post(self.base + "/_emu/faults", [{"kind": "refuse", "count": 1}])
        with self.assertRaises(splunklib.binding.HTTPError) as e:
            self.export(svc)
        self.assertEqual(e.exception.status, 503)
        self.assertIn("Search not executed", str(e.exception))
        with self.assertRaises(splunklib.binding.HTTPError) as e:
            self.export(svc, "index=iot")
        self.assertEqual(e.exception.status, 400)
        self.assertIn("Unknown search command", str(e.exception))
        self.assertIn("index", str(e.exception))

    def test_messages_surface_through_the_reader(self):
        post(self.base + "/_emu/faults", [{"kind": "warn", "count": 1, "text": "peer down"}])
        _, rows, messages = self.export(self.service())
        self.assertTrue(rows)
        self.assertEqual([(m.type, m.message) for m in messages], [("WARN", "peer down")])

    def test_hec_written_by_splunk_handler_read_back_by_splunk_sdk(self):
        """HEC: splunk_handler (the PyPI HEC logging library) writes; splunk-sdk searches."""
        import logging
        import splunk_handler
        post(self.base + "/_emu/hec", {"hec-tok": {"name": "anchor", "indexes": ["audit"]}})
        handler = splunk_handler.SplunkHandler(
            host="127.0.0.1", port=self.port, protocol="http", token="hec-tok", index="audit",
            source="defender-desk:emu-cache", sourcetype="defender-desk:action-log",
            flush_interval=0, retry_count=0, verify=False)
        log = logging.getLogger("hec-test")
        log.propagate = False
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        try:
            log.info(json.dumps({"seq": 1, "hash": "h1"}))
            log.info(json.dumps({"seq": 2, "hash": "h2"}))
        finally:
            log.removeHandler(handler)
            handler.close()
        q = 'search index=audit sourcetype="defender-desk:action-log" source="defender-desk:emu-cache" | table _raw source _indextime'
        _, rows, _ = self.export(self.service(), q, earliest_time="0", latest_time="now")
        self.assertEqual(sorted(json.loads(r["_raw"])["seq"] for r in rows), [1, 2])
        self.assertTrue(all(r["source"] == "defender-desk:emu-cache" and r["_indextime"].isdigit() for r in rows))
        # The answers HEC gives, as a client sees them.
        def hec(body, token="hec-tok", headers=None):
            req = urllib.request.Request(self.base + "/services/collector/event", data=body, method="POST",
                                         headers={"Authorization": f"Splunk {token}", **(headers or {})})
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())
        self.assertEqual(hec(b""), (400, {"text": "No data", "code": 5}))
        self.assertEqual(hec(b"", token="nope"), (403, {"text": "Invalid token", "code": 4}))
        self.assertEqual(hec(b'{"event": {"a": 1}, "index": "main"}'),
                         (400, {"text": "Incorrect index", "code": 7, "invalid-event-number": 0}))
        self.assertEqual(hec(b'{"event": {"a": 1}, "index": "audit"}{"index": "audit"}'),
                         (400, {"text": "Event field is required", "code": 12, "invalid-event-number": 1}))
        post(self.base + "/_emu/faults", [{"kind": "hec_busy", "count": 1}])
        self.assertEqual(hec(b'{"event": "x", "index": "audit"}'), (503, {"text": "Server is busy", "code": 9}))
        post(self.base + "/_emu/hec", {"hec-tok": {"indexes": ["audit"], "ack": True}})
        self.assertEqual(hec(b'{"event": "x", "index": "audit"}'), (400, {"text": "Data channel is missing", "code": 10}))
        status, answer = hec(b'{"event": "x", "index": "audit"}',
                             headers={"X-Splunk-Request-Channel": "11111111-2222-3333-4444-555555555555"})
        self.assertEqual((status, answer["code"], "ackId" in answer), (200, 0, True))


ATHENA_DDL = """CREATE EXTERNAL TABLE IF NOT EXISTS defender.metrics_export (
  version string,
  metrics array<struct<name:string, thing:string, value:struct<count:bigint, number:double,
    numbers:array<double>, ports:array<int>, cidrs:array<string>, strings:array<string>>,
    version:bigint, timestamp:bigint, dimension:struct<name:string, operator:string>>>
)
PARTITIONED BY (datehour string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://dd-athena/exports/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.datehour.type' = 'date',
  'projection.datehour.format' = 'yyyy/MM/dd/HH',
  'projection.datehour.range' = '2026/01/01/00,NOW',
  'projection.datehour.interval' = '1',
  'projection.datehour.interval.unit' = 'HOURS',
  'storage.location.template' = 's3://dd-athena/exports/${datehour}/'
)"""


class AthenaEmulator(unittest.TestCase):
    """boto3's Athena client (REST-JSON) and a raw JSON 1.1 request (what aws-sdk-athena sends)
    against the emulator over moto's S3: DDL, SELECTs executed by DuckDB with partition pruning,
    the header row and paging, NULLs, FAILED and CANCELLED queries, idempotent starts, result
    reuse; every raw response validated against botocore's Athena model."""

    @classmethod
    def setUpClass(cls):
        import gzip
        venv_bin = os.path.dirname(sys.executable)
        port = free_port()
        cls.moto = subprocess.Popen([os.path.join(venv_bin, "moto_server"), "-p", str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        moto_url = cls.moto_url = f"http://127.0.0.1:{port}"
        wait_http(moto_url + "/moto-api/")
        s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="dd-athena")
        cls.sizes = {}
        for hour, things in (("2026/12/01/10", ["cam-1", "cam-2"]), ("2026/12/01/11", ["cam-1"]),
                             ("2026/12/01/12", ["cam-3"])):
            lines = []
            for i, t in enumerate(things):
                lines.append(json.dumps({"version": "1.0", "metrics": [
                    {"name": "aws:all-bytes-out", "thing": t, "value": {"count": 100 * (i + 1)},
                     "version": 1, "timestamp": 1764583200000 + i},
                    {"name": "aws:listening-tcp-ports", "thing": t, "value": {"ports": [22, 80]},
                     "version": 1, "timestamp": 1764583200000 + i},
                    {"name": "mobilerssi", "thing": t, "value": {"number": -77.5}, "version": 2,
                     "timestamp": 1764583200000 + i}]}))
            body = gzip.compress(("\n".join(lines) + "\n").encode())
            s3.put_object(Bucket="dd-athena", Key=f"exports/{hour}/dd-1-{hour.replace('/', '-')}.gz", Body=body)
            cls.sizes[hour] = len(body)
        cls.emu, eport = start([os.path.join(HERE, "athena_emulator.py"), "--s3", moto_url])
        cls.url = f"http://127.0.0.1:{eport}"
        cls.athena = boto3.client("athena", endpoint_url=cls.url, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing",
                                  config=botocore.config.Config(retries={"total_max_attempts": 1}))
        cls.model = cls.athena.meta.service_model
        cls.raw = []
        cls.athena.meta.events.register(
            "before-parse.athena",
            lambda operation_model, response_dict, **_: cls.raw.append((operation_model, response_dict)))
        for sql in ("CREATE DATABASE IF NOT EXISTS defender", ATHENA_DDL):
            cls.wait(cls.athena.start_query_execution(QueryString=sql)["QueryExecutionId"])

    @classmethod
    def tearDownClass(cls):
        cls.emu.kill()
        cls.moto.kill()

    @classmethod
    def wait(cls, qid, states=("SUCCEEDED", "FAILED", "CANCELLED")):
        for _ in range(600):
            q = cls.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if q["Status"]["State"] in states:
                return q
            time.sleep(0.05)
        raise AssertionError(f"{qid} never finished")

    def tearDown(self):
        post(self.url + "/_emu/faults", [])
        for op, resp in self.raw:
            if resp["status_code"] == 200 and op.output_shape is not None:
                validate(op.output_shape, json.loads(resp["body"] or b"{}"), op.name)
        self.raw.clear()

    def select(self, sql, **kw):
        qid = self.athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": "defender"},
                                                ResultConfiguration={"OutputLocation": "s3://dd-athena/results/"},
                                                **kw)["QueryExecutionId"]
        q = self.wait(qid)
        self.assertEqual(q["Status"]["State"], "SUCCEEDED", q["Status"])
        rows = []
        for page in self.athena.get_paginator("get_query_results").paginate(
                QueryExecutionId=qid, PaginationConfig={"PageSize": 2}):
            rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        return q, rows

    def test_select_reads_only_the_partitions_asked_for(self):
        q, rows = self.select(
            "SELECT m.thing, sum(m.value.count) AS bytes, max(m.value.number) AS rssi "
            "FROM metrics_export CROSS JOIN UNNEST(metrics) AS t(m) "
            "WHERE datehour BETWEEN '2026/12/01/10' AND '2026/12/01/11' AND m.name <> 'x' "
            "GROUP BY m.thing ORDER BY m.thing")
        self.assertEqual(rows[0], ["thing", "bytes", "rssi"])
        self.assertEqual(rows[1:], [["cam-1", "200", "-77.5"], ["cam-2", "200", "-77.5"]])
        self.assertEqual(q["Statistics"]["DataScannedInBytes"],
                         self.sizes["2026/12/01/10"] + self.sizes["2026/12/01/11"])

    def test_a_rewritten_object_is_read_again(self):
        import gzip
        s3 = boto3.client("s3", endpoint_url=self.moto_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        sql = ("SELECT m.thing, sum(m.value.count) AS bytes FROM metrics_export "
               "CROSS JOIN UNNEST(metrics) AS t(m) WHERE datehour = '2026/12/01/13' "
               "GROUP BY m.thing ORDER BY m.thing")
        key = "exports/2026/12/01/13/dd-1-rewritten.gz"

        def put(count):
            s3.put_object(Bucket="dd-athena", Key=key, Body=gzip.compress(json.dumps(
                {"version": "1.0", "metrics": [{"name": "aws:all-bytes-out", "thing": "cam-9",
                                                "value": {"count": count}, "version": 1,
                                                "timestamp": 1764597600000}]}).encode()))
        try:
            put(5)
            self.assertEqual(self.select(sql)[1][1:], [["cam-9", "5"]])
            self.assertEqual(self.select(sql)[1][1:], [["cam-9", "5"]])  # from the shaped rows
            put(7)
            self.assertEqual(self.select(sql)[1][1:], [["cam-9", "7"]])
        finally:
            s3.delete_object(Bucket="dd-athena", Key=key)

    def test_nulls_arrays_doubles_and_paging(self):
        _, rows = self.select(
            "SELECT m.thing, m.value.ports AS ports, m.value.count AS c, "
            "CAST(m.timestamp AS double) * 1000 AS big "
            "FROM metrics_export CROSS JOIN UNNEST(metrics) AS t(m) "
            "WHERE datehour = '2026/12/01/12' AND m.name = 'aws:listening-tcp-ports'")
        self.assertEqual(rows, [["thing", "ports", "c", "big"], ["cam-3", "[22, 80]", None, "1.7645832E15"]])

    def test_device_reports_read_as_the_serde_reads_them(self):
        # Scalars a device writes into string columns come back as their JSON text; map keys keep
        # their case; a value that does not fit a numeric column fails the query (HIVE_BAD_DATA).
        s3 = boto3.client("s3", endpoint_url=self.moto_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        lines = [{"header": {"report_id": 1764583200}, "metrics": {"network_stats": {"bytes_out": 1e30}},
                  "custom_metrics": {"CPU": [{"number": 12.5}]}, "topic": "$aws/things/a/defender/metrics/json"},
                 {"HEADER": {"report_id": "x"}, "topic": "$aws/things/b/defender/metrics/json"}]
        s3.put_object(Bucket="dd-athena", Key="reports/2026/12/01/10/r.json",
                      Body="\n".join(json.dumps(x) for x in lines).encode())
        for sql in ("CREATE EXTERNAL TABLE defender.reports (header struct<report_id:string>, "
                    "metrics struct<network_stats:struct<bytes_out:string>>, "
                    "custom_metrics map<string, array<struct<number:string>>>, topic string) "
                    "PARTITIONED BY (datehour string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
                    "LOCATION 's3://dd-athena/reports/' TBLPROPERTIES ('storage.location.template' = "
                    "'s3://dd-athena/reports/${datehour}/')",
                    "CREATE EXTERNAL TABLE defender.strict (header struct<report_id:bigint>, topic string) "
                    "PARTITIONED BY (datehour string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
                    "LOCATION 's3://dd-athena/reports/' TBLPROPERTIES ('storage.location.template' = "
                    "'s3://dd-athena/reports/${datehour}/')"):
            self.assertEqual(self.wait(self.athena.start_query_execution(QueryString=sql)["QueryExecutionId"])
                             ["Status"]["State"], "SUCCEEDED")
        _, rows = self.select(
            "SELECT header.report_id AS rid, try_cast(metrics.network_stats.bytes_out AS double) AS b, "
            "k, element_at(element_at(custom_metrics, k), 1).number AS n FROM reports "
            "CROSS JOIN UNNEST(map_keys(custom_metrics)) AS c(k) WHERE datehour = '2026/12/01/10'")
        self.assertEqual(rows, [["rid", "b", "k", "n"], ["1764583200", "1.0E30", "CPU", "12.5"]])
        qid = self.athena.start_query_execution(
            QueryString="SELECT count(*) FROM strict WHERE datehour = '2026/12/01/10'",
            QueryExecutionContext={"Database": "defender"})["QueryExecutionId"]
        q = self.wait(qid)
        self.assertEqual(q["Status"]["State"], "FAILED")
        self.assertIn("HIVE_BAD_DATA", q["Status"]["StateChangeReason"])

    def test_a_bad_query_fails_with_its_reason(self):
        qid = self.athena.start_query_execution(QueryString="SELECT nope FROM metrics_export",
                                                QueryExecutionContext={"Database": "defender"})["QueryExecutionId"]
        q = self.wait(qid)
        self.assertEqual(q["Status"]["State"], "FAILED")
        self.assertIn("nope", q["Status"]["StateChangeReason"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.athena.get_query_results(QueryExecutionId=qid)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_stop_cancels_a_running_query(self):
        post(self.url + "/_emu/faults", [{"kind": "slow", "delay": 5}])
        qid = self.athena.start_query_execution(QueryString="SELECT 1",
                                                QueryExecutionContext={"Database": "defender"})["QueryExecutionId"]
        self.wait(qid, states=("RUNNING",))
        self.athena.stop_query_execution(QueryExecutionId=qid)
        self.assertEqual(self.wait(qid)["Status"]["State"], "CANCELLED")

    def test_a_retried_start_runs_once_and_reuse_scans_nothing(self):
        sql = "SELECT count(*) AS n FROM metrics_export WHERE datehour = '2026/12/01/10'"
        ctx = {"Database": "defender"}
        a = self.athena.start_query_execution(QueryString=sql, ClientRequestToken="t" * 32,
                                              QueryExecutionContext=ctx)["QueryExecutionId"]
        b = self.athena.start_query_execution(QueryString=sql, ClientRequestToken="t" * 32,
                                              QueryExecutionContext=ctx)["QueryExecutionId"]
        self.assertEqual(a, b)
        self.assertGreater(self.wait(a)["Statistics"]["DataScannedInBytes"], 0)
        q, rows = self.select(sql, ResultReuseConfiguration={
            "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 60}})
        self.assertEqual(rows, [["n"], ["2"]])
        self.assertTrue(q["Statistics"]["ResultReuseInformation"]["ReusedPreviousResult"])
        self.assertEqual(q["Statistics"]["DataScannedInBytes"], 0)

    def test_table_metadata_names_the_location(self):
        t = self.athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="defender",
                                           TableName="metrics_export")["TableMetadata"]
        self.assertEqual(t["Parameters"]["location"], "s3://dd-athena/exports/")
        self.assertEqual(t["PartitionKeys"], [{"Name": "datehour", "Type": "string"}])

    def test_json_1_1_is_served_as_the_rust_sdk_sends_it(self):
        def call(op, body):
            req = urllib.request.Request(self.url + "/", data=json.dumps(body).encode(), method="POST",
                                         headers={"X-Amz-Target": f"AmazonAthena.{op}",
                                                  "Content-Type": "application/x-amz-json-1.1"})
            return json.loads(urllib.request.urlopen(req).read())
        qid = call("StartQueryExecution", {"QueryString": "SELECT 41 + 1 AS x"})["QueryExecutionId"]
        self.wait(qid)
        out = call("GetQueryResults", {"QueryExecutionId": qid, "MaxResults": 1})
        validate(self.model.operation_model("GetQueryResults").output_shape, out)
        self.assertEqual(out["ResultSet"]["Rows"], [{"Data": [{"VarCharValue": "x"}]}])
        more = call("GetQueryResults", {"QueryExecutionId": qid, "NextToken": out["NextToken"]})
        self.assertEqual(more["ResultSet"]["Rows"], [{"Data": [{"VarCharValue": "42"}]}])


class SecurityHubEmulator(unittest.TestCase):
    """boto3's Security Hub client against the emulator: the corpus's findings imported, read
    back with Device Defender's filters, sorted and paged, updated by BatchUpdateFindings (which
    leaves UpdatedAt alone), throttled past 3 requests a second; every response validated
    against botocore's model."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
        import cli_corpus
        import securityhub_corpus
        cls.corpus = securityhub_corpus
        data = cli_corpus.dataset()
        cls.findings = (securityhub_corpus.detect_findings(data)
                        + securityhub_corpus.audit_findings(data) + [securityhub_corpus.guardduty()])
        cls.emu, port = start([os.path.join(HERE, "securityhub_emulator.py")])
        cls.url = f"http://127.0.0.1:{port}"
        cls.hub = boto3.client("securityhub", endpoint_url=cls.url, region_name="us-east-1",
                               aws_access_key_id="t", aws_secret_access_key="t",
                               config=botocore.config.Config(retries={"total_max_attempts": 1}))
        cls.raw = []
        cls.hub.meta.events.register(
            "before-parse.securityhub",
            lambda operation_model, response_dict, **_: cls.raw.append((operation_model, response_dict)))

    @classmethod
    def tearDownClass(cls):
        cls.emu.kill()

    def setUp(self):
        post(self.url + "/_emu/reset", {})
        r = self.hub.batch_import_findings(Findings=self.findings)
        self.assertEqual((r["FailedCount"], r["SuccessCount"]), (0, len(self.findings)))

    def tearDown(self):
        for op, resp in self.raw:
            if resp["status_code"] == 200 and op.output_shape is not None:
                validate(op.output_shape, json.loads(resp["body"] or b"{}"), op.name)
        self.raw.clear()
        time.sleep(2.1)  # the next test starts with a full burst

    def dd_filters(self, **extra):
        return {"ProductArn": [{"Value": self.corpus.DETECT, "Comparison": "EQUALS"},
                               {"Value": self.corpus.AUDIT, "Comparison": "EQUALS"}], **extra}

    def test_sts_on_the_same_endpoint(self):
        sts = boto3.client("sts", endpoint_url=self.url, region_name="us-east-1",
                           aws_access_key_id="t", aws_secret_access_key="t")
        me = sts.get_caller_identity()
        self.assertEqual(me["Account"], "123456789012")
        self.assertTrue(me["Arn"].startswith("arn:aws:iam::123456789012:"))

    def test_filters_sort_and_paging(self):
        pages = self.hub.get_paginator("get_findings").paginate(
            Filters=self.dd_filters(), SortCriteria=[{"Field": "UpdatedAt", "SortOrder": "asc"}],
            PaginationConfig={"PageSize": 3})
        got = [f for p in pages for f in p["Findings"]]
        self.assertEqual(len(got), len(self.findings) - 1, "GuardDuty's is filtered out")
        self.assertEqual([f["UpdatedAt"] for f in got], sorted(f["UpdatedAt"] for f in got))
        late = got[len(got) // 2]["UpdatedAt"]
        newer = self.hub.get_findings(Filters=self.dd_filters(
            UpdatedAt=[{"Start": late, "End": "2100-01-01T00:00:00Z"}]))["Findings"]
        self.assertTrue(newer and all(f["UpdatedAt"] >= late for f in newer))
        by_field = self.hub.get_findings(Filters={"ProductFields": [
            {"Key": "ThingName", "Value": "cam-002", "Comparison": "EQUALS"}]})["Findings"]
        self.assertEqual([f["Id"] for f in by_field], ["v-ml-cam-002"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.hub.get_findings(Filters={"NoteText": [{"Value": "x", "Comparison": "EQUALS"}]})
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidInputException")

    def test_batch_update_sets_workflow_and_note_not_updated_at(self):
        f = self.findings[0]
        before = self.hub.get_findings(Filters={"Id": [{"Value": f["Id"], "Comparison": "EQUALS"}]})["Findings"][0]
        r = self.hub.batch_update_findings(
            FindingIdentifiers=[{"Id": f["Id"], "ProductArn": f["ProductArn"]},
                                {"Id": "nope", "ProductArn": f["ProductArn"]}],
            Workflow={"Status": "NOTIFIED"}, Note={"Text": "investigating: bytes out", "UpdatedBy": "ana"})
        self.assertEqual(len(r["ProcessedFindings"]), 1)
        self.assertEqual(r["UnprocessedFindings"][0]["ErrorCode"], "FindingNotFound")
        after = self.hub.get_findings(Filters={"Id": [{"Value": f["Id"], "Comparison": "EQUALS"}]})["Findings"][0]
        self.assertEqual(after["Workflow"], {"Status": "NOTIFIED"})
        self.assertEqual(after["Note"]["UpdatedBy"], "ana")
        self.assertEqual(after["UpdatedAt"], before["UpdatedAt"])
        # The provider's next import keeps what the analyst set.
        self.hub.batch_import_findings(Findings=[f])
        again = self.hub.get_findings(Filters={"Id": [{"Value": f["Id"], "Comparison": "EQUALS"}]})["Findings"][0]
        self.assertEqual(again["Workflow"], {"Status": "NOTIFIED"})

    def test_history_names_who_changed_what(self):
        f = self.findings[0]
        ident = {"Id": f["Id"], "ProductArn": f["ProductArn"]}
        alice = boto3.client("securityhub", endpoint_url=self.url, region_name="us-east-1",
                             aws_access_key_id="alice", aws_secret_access_key="t")
        alice.meta.events.register(
            "before-parse.securityhub",
            lambda operation_model, response_dict, **_: self.raw.append((operation_model, response_dict)))
        alice.batch_update_findings(FindingIdentifiers=[ident], Workflow={"Status": "RESOLVED"},
                                    Note={"Text": "lab device, expected", "UpdatedBy": "alice"})
        noted = self.hub.get_findings(Filters=self.dd_filters(
            NoteUpdatedAt=[{"Start": "2000-01-01T00:00:00Z", "End": "2100-01-01T00:00:00Z"}]))["Findings"]
        self.assertEqual([x["Id"] for x in noted], [f["Id"]])
        records = self.hub.get_finding_history(FindingIdentifier=ident)["Records"]
        self.assertEqual([r["UpdateSource"]["Type"] for r in records],
                         ["BATCH_UPDATE_FINDINGS", "BATCH_IMPORT_FINDINGS"], "newest first")
        self.assertTrue(records[1]["FindingCreated"])
        update = records[0]
        self.assertEqual(update["UpdateSource"]["Identity"], "arn:aws:iam::123456789012:user/alice")
        fields = {u["UpdatedField"]: u for u in update["Updates"]}
        self.assertEqual(fields["Workflow.Status"], {"UpdatedField": "Workflow.Status",
                                                     "OldValue": "NEW", "NewValue": "RESOLVED"})
        self.assertEqual(fields["Note.Text"]["NewValue"], "lab device, expected")
        self.assertEqual(fields["Note.UpdatedBy"]["NewValue"], "alice")
        later = self.hub.get_finding_history(
            FindingIdentifier=ident, StartTime=update["UpdateTime"] + dt.timedelta(seconds=1))
        self.assertEqual(later["Records"], [])

    def test_throttled_past_the_rate(self):
        codes = []
        for _ in range(12):
            try:
                self.hub.get_findings(MaxResults=1)
                codes.append(200)
            except botocore.exceptions.ClientError as e:
                codes.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
        self.assertIn(429, codes)
        self.assertEqual(codes[:6], [200] * 6, "a burst of six passes")


class ClosedSetsMatchBotocore(unittest.TestCase):
    """The engine's closed sets (model/sets.rs) hold exactly the words of botocore's IoT enums."""

    SHAPES = {"Severity": "AuditFindingSeverity", "VerificationState": "VerificationState",
              "Confidence": "ConfidenceLevel"}

    def test_words(self):
        import re
        src = open(os.path.join(HERE, "..", "..", "crates", "engine", "src", "model", "sets.rs")).read()
        model = botocore.session.get_session().get_service_model("iot")
        found = {}
        for name, body in re.findall(r"closed_set! \{.*?\n    (\w+)\(\"[^\"]+\"\) \{(.*?)\n    \}", src, re.S):
            found[name] = re.findall(r'= "([^"]+)",', body)
        self.assertEqual(set(found), set(self.SHAPES))
        for name, shape in self.SHAPES.items():
            self.assertEqual(found[name], model.shape_for(shape).enum, name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
