#!/usr/bin/env python3
"""Regenerates tests/fixtures/real/securityhub/ — Device Defender's findings as Security Hub
holds them (ASFF), saved by the AWS CLI and boto3.

Device Defender itself cannot run here, so the findings are built from the same dataset as
tests/fixtures/real/cli/ (scripts/cli_corpus.py) by the field mapping AWS documents for the
integration (AWS IoT developer guide, `securityhub-integration.html`; the facts we rely on are in
../shared/research/scale-and-hub.md): a Detect finding per violation (`Id` the violation id,
`GeneratorId` the security profile ARN, `ProductFields` ViolationId, ThingName,
SecurityProfileName, BehaviorName, MetricName, ComparisonOperator, ViolationStartTime in epoch
ms, a cleared alarm `RecordState` ARCHIVED), an audit finding per non-compliant resource
(ReportType `AuditFinding`, FindingId the Device Defender finding id) and a check summary per
check (ReportType `CheckSummary`, its counts). One GuardDuty finding sits beside them, as an
aggregator's output would hold it. They are imported with boto3 (`BatchImportFindings`, each
checked against botocore's required members) into tests/emulators/securityhub_emulator.py and
read back by the tools an analyst uses:

- `aws securityhub get-findings` (awscli v1) — the whole answer, and `--query Findings`;
- boto3 `get_findings`, dumped with `json.dumps(response, default=str)` (ResponseMetadata kept);
- one bare finding; the EventBridge event "Security Hub Findings - Imported" of one; a Firehose
  object of such events, one per line (an EventBridge → Firehose → S3 pipeline).

    python3 -m venv /tmp/clivenv && /tmp/clivenv/bin/pip install 'awscli==1.46.3' 'boto3'
    /tmp/clivenv/bin/python scripts/securityhub_corpus.py
"""
import datetime as dt
import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "real" / "securityhub"
sys.path.insert(0, str(ROOT / "tests" / "emulators"))
sys.path.insert(0, str(ROOT / "scripts"))
import cli_corpus  # noqa: E402
import test_emulators  # noqa: E402

ACCOUNT, REGION = "123456789012", "us-east-1"
DETECT = f"arn:aws:securityhub:{REGION}::product/aws/iot-device-defender-detect"
AUDIT = f"arn:aws:securityhub:{REGION}::product/aws/iot-device-defender-audit"
SEVERITY = {"CRITICAL": 90, "HIGH": 70, "MEDIUM": 40, "LOW": 1}


def iso(epoch):
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def base(product, id_, generator, created, updated, title, severity):
    return {"SchemaVersion": "2018-10-08", "Id": id_, "ProductArn": product,
            "ProductName": "IoT Device Defender - " + ("Detect" if product == DETECT else "Audit"),
            "CompanyName": "AWS", "Region": REGION, "GeneratorId": generator,
            "AwsAccountId": ACCOUNT, "CreatedAt": iso(created), "UpdatedAt": iso(updated),
            "FirstObservedAt": iso(created), "Severity": {"Label": severity,
                                                           "Normalized": SEVERITY[severity]},
            "Title": title, "Description": title}


def thing_resource(thing):
    return {"Type": "AwsIotRegisteredThing", "Id": f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/{thing}",
            "Partition": "aws", "Region": REGION,
            "Details": {"Other": {"ThingArn": f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/{thing}",
                                  "ThingName": thing}}}


def detect_findings(data):
    by_id = {}
    for e in data["violationEvents"]:
        by_id.setdefault(e["violationId"], []).append(e)
    out = []
    for vid, events in by_id.items():
        start = min(e["violationEventTime"] for e in events if e["violationEventType"] == "in-alarm")
        cleared = [e["violationEventTime"] for e in events if e["violationEventType"] == "alarm-cleared"]
        e = events[0]
        b = e["behavior"]
        op = b.get("criteria", {}).get("comparisonOperator")
        f = base(DETECT, vid, f"arn:aws:iot:{REGION}:{ACCOUNT}:securityprofile/{e['securityProfileName']}",
                 start, cleared[0] if cleared else start,
                 f"Registered thing {e['thingName']} violated behavior {b['name']}", "MEDIUM")
        f["Types"] = ["Unusual Behaviors"]
        f["ProductFields"] = {"ViolationId": vid, "ThingName": e["thingName"],
                              "SecurityProfileName": e["securityProfileName"],
                              "BehaviorName": b["name"], "MetricName": b["metric"],
                              "ViolationStartTime": str(int(start * 1000))}
        if op:
            f["ProductFields"]["ComparisonOperator"] = op
        f["Resources"] = [thing_resource(e["thingName"])]
        if cleared:
            f["RecordState"] = "ARCHIVED"
        out.append(f)
    return out


def audit_findings(data):
    out = []
    for task in data["auditTasks"]:
        tid, start = task["taskId"], task["taskStartTime"]
        for x in task["findings"]:
            r = x["nonCompliantResource"]
            ident = next(iter(r["resourceIdentifier"].values()))
            if isinstance(ident, dict):
                ident = ":".join(str(v) for v in ident.values())
            f = base(AUDIT, f"{ACCOUNT}/{r['resourceType']}/{ident}/{x['checkName']}/"
                     f"{x.get('reasonForNonComplianceCode', 'NONE')}",
                     f"arn:aws:iot:{REGION}:{ACCOUNT}:audittask/{tid}", x["findingTime"],
                     x["findingTime"], x.get("reasonForNonCompliance", x["checkName"]), x["severity"])
            f["Types"] = ["Software and Configuration Checks/Vulnerabilities"]
            f["ProductFields"] = {"ReportType": "AuditFinding", "CheckName": x["checkName"],
                                  "TaskId": tid, "TaskType": task["taskType"],
                                  "FindingId": x["findingId"],
                                  "ReasonForNonComplianceCode": x.get("reasonForNonComplianceCode", ""),
                                  "IsSuppressed": str(x.get("isSuppressed", False)).lower(),
                                  "TaskStartTime": str(int(start * 1000))}
            # The resource types ASFF has for the integration: a policy, else the audit task.
            if r["resourceType"] == "IOT_POLICY":
                res = {"Type": "AwsIotPolicy",
                       "Id": f"arn:aws:iot:{REGION}:{ACCOUNT}:policy/{r['resourceIdentifier']['policyVersionIdentifier']['policyName']}"}
            else:
                res = {"Type": "AwsIotAuditTask", "Id": f"arn:aws:iot:{REGION}:{ACCOUNT}:audittask/{tid}"}
            f["Resources"] = [{**res, "Partition": "aws", "Region": REGION}]
            out.append(f)
        for check, d in task["auditDetails"].items():
            f = base(AUDIT, f"{ACCOUNT}/{task['taskType']}/{tid}/{check}",
                     f"arn:aws:iot:{REGION}:{ACCOUNT}:audittask/{tid}", start, start,
                     f"Audit check {check}: {d['checkRunStatus']}", "LOW")
            f["Types"] = ["Software and Configuration Checks/Vulnerabilities"]
            f["ProductFields"] = {"ReportType": "CheckSummary", "CheckName": check, "TaskId": tid,
                                  "TaskType": task["taskType"], "CheckRunStatus": d["checkRunStatus"],
                                  "TaskStartTime": str(int(start * 1000))}
            for k, name in (("totalResourcesCount", "TotalResourcesCount"),
                            ("nonCompliantResourcesCount", "NonCompliantResourcesCount"),
                            ("suppressedNonCompliantResourcesCount", "SuppressedNonCompliantResourcesCount")):
                if k in d:
                    f["ProductFields"][name] = str(d[k])
            f["Resources"] = [{"Type": "AwsIotAuditTask",
                               "Id": f"arn:aws:iot:{REGION}:{ACCOUNT}:audittask/{tid}",
                               "Partition": "aws", "Region": REGION}]
            if d["checkRunStatus"] == "COMPLETED_COMPLIANT":
                f["RecordState"] = "ARCHIVED"
            out.append(f)
    return out


def guardduty():
    f = base(f"arn:aws:securityhub:{REGION}::product/aws/guardduty", "gd-1",
             "arn:aws:guardduty:us-east-1:123456789012:detector/d1", cli_corpus.T0 - 600,
             cli_corpus.T0 - 600, "EC2 instance is communicating with a known C&C server", "HIGH")
    f["ProductName"] = "GuardDuty"
    f["Types"] = ["TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS"]
    f["Resources"] = [{"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:us-east-1:123456789012:instance/i-1"}]
    return f


def main():
    import boto3
    cli = pathlib.Path(sys.executable).parent / "aws"
    OUT.mkdir(parents=True, exist_ok=True)
    data = cli_corpus.dataset()
    findings = detect_findings(data) + audit_findings(data) + [guardduty()]
    emu, port = test_emulators.start([str(ROOT / "tests" / "emulators" / "securityhub_emulator.py")])
    url = f"http://127.0.0.1:{port}"
    env = {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION,
           "PATH": "/usr/bin:/bin", "TZ": "UTC"}
    try:
        hub = boto3.client("securityhub", endpoint_url=url, region_name=REGION,
                           aws_access_key_id="t", aws_secret_access_key="t")
        res = hub.batch_import_findings(Findings=findings)
        assert res["FailedCount"] == 0, res

        def aws(*args):
            out = subprocess.run([str(cli), "securityhub", *args, "--endpoint-url", url,
                                  "--output", "json"], env=env, capture_output=True, text=True)
            assert out.returncode == 0, out.stderr
            return out.stdout

        def save(name, text):
            (OUT / name).write_text(text if text.endswith("\n") else text + "\n")

        save("cli-get-findings.json", aws("get-findings"))
        save("cli-get-findings-query.json", aws("get-findings", "--query", "Findings"))
        resp = hub.get_findings(Filters={"ProductArn": [{"Value": DETECT, "Comparison": "EQUALS"},
                                                         {"Value": AUDIT, "Comparison": "EQUALS"}]})
        save("boto3-get-findings.json", json.dumps(resp, default=str, indent=2))
        one = json.loads(aws("get-findings", "--query", "Findings[0]"))
        save("finding.json", json.dumps(one, indent=2))
        every = json.loads(aws("get-findings", "--query", "Findings"))

        def event(f):
            digest = hashlib.sha256(f["Id"].encode()).hexdigest()
            return {"version": "0", "id": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
                    "detail-type": "Security Hub Findings - Imported", "source": "aws.securityhub",
                    "account": ACCOUNT, "time": f["UpdatedAt"], "region": REGION,
                    "resources": [f"{f['ProductArn']}/{f['Id']}"], "detail": {"findings": [f]}}

        save("eventbridge-imported.json", json.dumps(event(every[0]), indent=2))
        save("firehose-eventbridge.ndjson", "\n".join(json.dumps(event(f)) for f in every))
    finally:
        emu.kill()


if __name__ == "__main__":
    main()
