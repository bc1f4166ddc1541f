#!/usr/bin/env python3
"""Regenerates tests/fixtures/real/cli/ with the AWS CLI and boto3 (not our reading of their docs).

Starts the Device Defender emulator (tests/emulators/defender_emulator.py) with the small
dataset below, then saves what an analyst's tools write to disk:

- the AWS CLI from PyPI (`awscli`, v1) with `cli_timestamp_format` `none` (the wire's epoch
  seconds) and `iso8601` (ISO 8601 in the local zone, run under TZ=America/New_York), whole
  responses, `--query violationEvents` (a top-level array) and one event per line
  (`jq -c '.violationEvents[]'`, written here by json.dumps of the CLI's own output);
- boto3 responses dumped with `json.dumps(response, default=str)` (datetimes become
  `2025-11-30 21:00:00.123000+00:00`).

Every raw response the emulator sent is validated against botocore's AWS IoT service model
(the same check as tests/emulators/test_emulators.py), so the bodies are shaped as AWS sends them.

    python3 -m venv /tmp/clivenv && /tmp/clivenv/bin/pip install 'awscli==1.46.3' 'boto3'
    /tmp/clivenv/bin/python scripts/cli_corpus.py
    python scripts/cli_corpus.py --dataset-only OUT.json --t0 EPOCH   # the dataset alone

Times are fixed (late November 2025) so the files are reproducible, except the mitigation
tasks, which the emulator starts at the current time.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "real" / "cli"
sys.path.insert(0, str(ROOT / "tests" / "emulators"))
import test_emulators  # noqa: E402  (the model validator and server helpers)

T0 = 1_764_540_000  # 2025-11-30T22:00:00Z
CERT = "a" * 63 + "1"
CERT2 = "b" * 63 + "2"
CERT3 = "c" * 63 + "3"
TASK = "5f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f"


def dataset(T0=T0):
    behaviors = [
        {"name": "BytesOut", "metric": "aws:all-bytes-out",
         "criteria": {"comparisonOperator": "greater-than", "value": {"count": 5000000},
                      "durationSeconds": 300, "consecutiveDatapointsToAlarm": 2,
                      "consecutiveDatapointsToClear": 3}, "exportMetric": True},
        {"name": "TelemetryMsgs", "metric": "aws:num-messages-sent",
         "metricDimension": {"dimensionName": "TelemetryTopics", "operator": "IN"},
         "criteria": {"comparisonOperator": "greater-than", "value": {"count": 40},
                      "durationSeconds": 300}},
        {"name": "MlBytesOut", "metric": "aws:all-bytes-out",
         "criteria": {"mlDetectionConfig": {"confidenceLevel": "HIGH"}}},
    ]
    profile = {"securityProfileName": "Cameras",
               "securityProfileArn": "arn:aws:iot:us-east-1:123456789012:securityprofile/Cameras",
               "securityProfileDescription": "cameras", "behaviors": behaviors, "version": 4,
               "creationDate": float(T0 - 90 * 86400), "lastModifiedDate": float(T0 - 86400)}
    events = [
        {"violationId": "v-bytes-cam-001", "thingName": "cam-001", "securityProfileName": "Cameras",
         "behavior": behaviors[0], "metricValue": {"count": 9000000},
         "violationEventType": "in-alarm", "violationEventTime": T0 - 3600 + 0.123,
         "verificationState": "TRUE_POSITIVE",
         "verificationStateDescription": "exfiltration confirmed by the SOC"},
        {"violationId": "v-bytes-cam-001", "thingName": "cam-001", "securityProfileName": "Cameras",
         "behavior": behaviors[0], "metricValue": {"count": 1000},
         "violationEventType": "alarm-cleared", "violationEventTime": T0 - 1800.5,
         "verificationState": "TRUE_POSITIVE",
         "verificationStateDescription": "exfiltration confirmed by the SOC"},
        {"violationId": "v-ml-cam-002", "thingName": "cam-002", "securityProfileName": "Cameras",
         "behavior": behaviors[2], "violationEventAdditionalInfo": {"confidenceLevel": "HIGH"},
         "violationEventType": "in-alarm", "violationEventTime": T0 - 900.25,
         "verificationState": "BENIGN_POSITIVE", "verificationStateDescription": "nightly backup"},
    ]
    active = [{"violationId": "v-ml-cam-002", "thingName": "cam-002", "securityProfileName": "Cameras",
               "behavior": behaviors[2], "lastViolationTime": T0 - 60.5,
               "violationStartTime": T0 - 900.25,
               "violationEventAdditionalInfo": {"confidenceLevel": "HIGH"},
               "verificationState": "BENIGN_POSITIVE", "verificationStateDescription": "nightly backup"}]
    values = []
    for k, t in enumerate((T0 - 600, T0 - 300)):
        values.append({"thingName": "cam-001", "metricName": "aws:num-messages-sent",
                       "timestamp": float(t), "value": {"count": 5 + k}})
        values.append({"thingName": "cam-001", "metricName": "aws:num-messages-sent",
                       "dimensionName": "TelemetryTopics", "dimensionValueOperator": "IN",
                       "timestamp": float(t), "value": {"count": 50 + 10 * k}})
    findings = [
        {"findingId": "f-shared-cert", "taskId": TASK, "checkName": "DEVICE_CERTIFICATE_SHARED_CHECK",
         "taskStartTime": T0 - 7200.5, "findingTime": T0 - 7100.75, "severity": "CRITICAL",
         "nonCompliantResource": {"resourceType": "DEVICE_CERTIFICATE",
                                  "resourceIdentifier": {"deviceCertificateId": CERT}},
         "relatedResources": [
             {"resourceType": "CLIENT_ID", "resourceIdentifier": {"clientId": "cam-001"},
              "additionalInfo": {"CONNECTION_TIME": str((T0 - 7300) * 1000)}},
             {"resourceType": "CLIENT_ID", "resourceIdentifier": {"clientId": "cam-002"},
              "additionalInfo": {"CONNECTION_TIME": str((T0 - 7250) * 1000)}}],
         "reasonForNonCompliance": "Certificate shared by one or more devices.",
         "reasonForNonComplianceCode": "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES", "isSuppressed": False},
        {"findingId": "f-conflicting-ids", "taskId": TASK, "checkName": "CONFLICTING_CLIENT_IDS_CHECK",
         "taskStartTime": T0 - 7200.5, "findingTime": T0 - 7100.5, "severity": "HIGH",
         "nonCompliantResource": {"resourceType": "CLIENT_ID", "resourceIdentifier": {"clientId": "cam-007"}},
         "relatedResources": [
             {"resourceType": "DEVICE_CERTIFICATE", "resourceIdentifier": {"deviceCertificateId": CERT2}},
             {"resourceType": "DEVICE_CERTIFICATE", "resourceIdentifier": {"deviceCertificateId": CERT3}}],
         "reasonForNonCompliance": "Multiple connections using the same client ID.",
         "reasonForNonComplianceCode": "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS", "isSuppressed": False},
    ]
    details = {
        "DEVICE_CERTIFICATE_SHARED_CHECK": {"checkRunStatus": "COMPLETED_NON_COMPLIANT",
                                            "checkCompliant": False, "totalResourcesCount": 40,
                                            "nonCompliantResourcesCount": 1},
        "CONFLICTING_CLIENT_IDS_CHECK": {"checkRunStatus": "COMPLETED_NON_COMPLIANT",
                                         "checkCompliant": False, "totalResourcesCount": 40,
                                         "nonCompliantResourcesCount": 1},
        "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK": {
            "checkRunStatus": "FAILED", "errorCode": "INSUFFICIENT_PERMISSIONS",
            "message": "The audit role cannot read Cognito identity pools."},
    }
    tasks = [{"taskId": TASK, "taskStatus": "COMPLETED", "taskType": "ON_DEMAND_AUDIT_TASK",
              "taskStartTime": T0 - 7200.5,
              "taskStatistics": {"totalChecks": 3, "inProgressChecks": 0,
                                 "waitingForDataCollectionChecks": 0, "compliantChecks": 0,
                                 "nonCompliantChecks": 2, "failedChecks": 1, "canceledChecks": 0},
              "auditDetails": details, "findings": findings}]
    actions = [{"actionName": name, "actionId": f"id-{name}",
                "actionArn": f"arn:aws:iot:us-east-1:123456789012:mitigationaction/{name}",
                "roleArn": "arn:aws:iam::123456789012:role/mitigation", "actionParams": params,
                "creationDate": float(T0 - 30 * 86400), "lastModifiedDate": float(T0 - 30 * 86400)}
               for name, params in [
                   ("quarantine-group", {"addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine"]}}),
                   ("deactivate-cert", {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})]]
    return {"securityProfiles": [profile], "violationEvents": events, "activeViolations": active,
            "auditTasks": tasks, "metricValues": values, "mitigationActions": actions}


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--dataset-only" and sys.argv[3] == "--t0":
        # The same dataset at another reference time, for the sync test (crates/cli/tests/it/sync.rs).
        pathlib.Path(sys.argv[2]).write_text(json.dumps(dataset(int(sys.argv[4]))))
        return
    cli = pathlib.Path(sys.executable).parent / "aws"
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "data.json"
        data.write_text(json.dumps(dataset()))
        emu, port = test_emulators.start(
            [str(ROOT / "tests" / "emulators" / "defender_emulator.py"), "--data", str(data)])
        url = f"http://127.0.0.1:{port}"
        try:
            run(cli, url, pathlib.Path(tmp))
        finally:
            emu.kill()


def run(cli, url, tmp):
    import boto3
    import botocore.config

    written = []
    for fmt in ("none", "iso8601"):
        (tmp / f"config-{fmt}").write_text(f"[default]\nregion = us-east-1\ncli_timestamp_format = {fmt}\n")

    def aws(fmt, *args, tz="UTC"):
        env = dict(os.environ, AWS_CONFIG_FILE=str(tmp / f"config-{fmt}"), TZ=tz,
                   AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp / "none"))
        out = subprocess.run([str(cli), "iot", *args, "--endpoint-url", url, "--output", "json"],
                             env=env, check=True, capture_output=True, text=True)
        return out.stdout

    def save(name, text):
        (OUT / name).write_text(text if text.endswith("\n") else text + "\n")
        written.append(name)

    window = ["--start-time", str(T0 - 86400), "--end-time", str(T0)]
    for fmt, tag, tz in (("none", "wire", "UTC"), ("iso8601", "iso-new-york", "America/New_York")):
        save(f"list-violation-events-{tag}.json", aws(fmt, "list-violation-events", *window, tz=tz))
        save(f"list-active-violations-{tag}.json", aws(fmt, "list-active-violations", tz=tz))
        save(f"list-audit-findings-{tag}.json", aws(fmt, "list-audit-findings", "--task-id", TASK, tz=tz))
        save(f"describe-audit-task-{tag}.json", aws(fmt, "describe-audit-task", "--task-id", TASK, tz=tz))
    save("list-violation-events-query.json",
         aws("none", "list-violation-events", *window, "--query", "violationEvents"))
    wire = json.loads(aws("none", "list-violation-events", *window))
    save("violation-events-per-line.ndjson",
         "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in wire["violationEvents"]))
    mv = ["--thing-name", "cam-001", "--metric-name", "aws:num-messages-sent", *window]
    save("list-metric-values-plain.json", aws("none", "list-metric-values", *mv))
    save("list-metric-values-telemetry-topics-in.json",
         aws("none", "list-metric-values", *mv, "--dimension-name", "TelemetryTopics",
             "--dimension-value-operator", "IN"))
    save("describe-audit-finding.json", aws("none", "describe-audit-finding", "--finding-id", "f-shared-cert"))
    save("describe-security-profile.json",
         aws("none", "describe-security-profile", "--security-profile-name", "Cameras"))

    # Mitigation history: started through the CLI, then listed as an analyst would save it.
    aws("none", "start-detect-mitigation-actions-task", "--task-id", "soc-quarantine-cam-001",
        "--target", "violationIds=v-bytes-cam-001", "--actions", "quarantine-group",
        "--client-request-token", "tok-detect")
    aws("none", "start-audit-mitigation-actions-task", "--task-id", "soc-deactivate-shared",
        "--target", "findingIds=f-shared-cert", "--audit-check-to-actions-mapping",
        "DEVICE_CERTIFICATE_SHARED_CHECK=deactivate-cert", "--client-request-token", "tok-audit")
    for _ in range(2):  # the emulator's tasks finish on the second look
        aws("none", "describe-detect-mitigation-actions-task", "--task-id", "soc-quarantine-cam-001")
        aws("none", "describe-audit-mitigation-actions-task", "--task-id", "soc-deactivate-shared")
    now = ["--start-time", str(int(time.time()) - 3600), "--end-time", str(int(time.time()) + 60)]
    save("list-detect-mitigation-actions-tasks.json", aws("none", "list-detect-mitigation-actions-tasks", *now))
    save("list-audit-mitigation-actions-tasks.json", aws("none", "list-audit-mitigation-actions-tasks", *now))
    save("list-detect-mitigation-actions-executions.json",
         aws("none", "list-detect-mitigation-actions-executions", "--task-id", "soc-quarantine-cam-001"))
    save("list-audit-mitigation-actions-executions.json",
         aws("none", "list-audit-mitigation-actions-executions", "--task-id", "soc-deactivate-shared",
             "--finding-id", "f-shared-cert"))

    # boto3, every raw response validated against the model as it arrives.
    iot = boto3.client("iot", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing",
                       config=botocore.config.Config(retries={"total_max_attempts": 1}))
    model = iot.meta.service_model
    checked = []

    def capture(operation_model, response_dict, **_):
        body = json.loads(response_dict["body"] or b"{}")
        test_emulators.validate(model.operation_model(operation_model.name).output_shape, body)
        checked.append(operation_model.name)

    iot.meta.events.register("before-parse.iot", capture)
    dump = lambda r: json.dumps({k: v for k, v in r.items() if k != "ResponseMetadata"},
                                default=str, indent=2)
    save("boto3-list-violation-events.json",
         dump(iot.list_violation_events(startTime=T0 - 86400, endTime=T0)))
    save("boto3-list-active-violations.json", dump(iot.list_active_violations()))
    save("boto3-list-audit-findings.json", dump(iot.list_audit_findings(taskId=TASK)))
    save("boto3-describe-audit-task.json", dump(iot.describe_audit_task(taskId=TASK)))
    iot.list_detect_mitigation_actions_tasks(startTime=time.time() - 3600, endTime=time.time() + 60)
    iot.list_audit_mitigation_actions_tasks(startTime=time.time() - 3600, endTime=time.time() + 60)
    iot.list_detect_mitigation_actions_executions(taskId="soc-quarantine-cam-001")
    iot.list_audit_mitigation_actions_executions(taskId="soc-deactivate-shared", findingId="f-shared-cert")
    iot.describe_audit_finding(findingId="f-shared-cert")
    iot.describe_security_profile(securityProfileName="Cameras")
    iot.list_metric_values(thingName="cam-001", metricName="aws:num-messages-sent",
                           startTime=T0 - 86400, endTime=T0, dimensionName="TelemetryTopics",
                           dimensionValueOperator="IN")
    print("shapes checked against botocore's model:", ", ".join(sorted(set(checked))))
    for w in written:
        print("wrote", OUT / w)


if __name__ == "__main__":
    main()
