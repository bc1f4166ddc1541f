#!/usr/bin/env python3
"""A deterministic Device Defender dataset for the emulators, in the API's wire shapes.

`python dataset.py defender --out d.json [--now EPOCH]` writes what the Device Defender emulator
serves; `python dataset.py splunk --out s.json` writes Splunk events as the AWS Firehose→Splunk
sample indexes them (one metric entry or one audit-check item per event). Sizes are chosen to
force several pages of every list (maxResults 250) and several Splunk export batches.
"""

import argparse
import json
import random
import time

HOUR = 3600
DAY = 86400
THINGS = [f"cam-{i:03d}" for i in range(40)] + ["gw-plant-03", "hvac-ctl-07"]
CHECKS = ["DEVICE_CERTIFICATE_EXPIRING_CHECK", "CONFLICTING_CLIENT_IDS_CHECK",
          "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"]


def behaviors():
    return [
        {"name": "BytesOut", "metric": "aws:all-bytes-out",
         "criteria": {"comparisonOperator": "greater-than", "value": {"count": 5000000},
                      "durationSeconds": 300, "consecutiveDatapointsToAlarm": 1,
                      "consecutiveDatapointsToClear": 1}, "suppressAlerts": False},
        {"name": "TcpPorts", "metric": "aws:listening-tcp-ports",
         "criteria": {"comparisonOperator": "in-port-set", "value": {"ports": [443, 8883]}}},
        {"name": "AuthFailures", "metric": "aws:num-authorization-failures",
         "criteria": {"comparisonOperator": "greater-than", "value": {"count": 10},
                      "durationSeconds": 300}},
        {"name": "MsgSizeP90", "metric": "aws:message-byte-size",
         "criteria": {"comparisonOperator": "greater-than", "durationSeconds": 300,
                      "statisticalThreshold": {"statistic": "p90"}}},
    ]


def defender(now):
    rng = random.Random(7)
    profiles = [{
        "securityProfileName": name,
        "securityProfileArn": f"arn:aws:iot:us-east-1:123456789012:securityprofile/{name}",
        "securityProfileDescription": f"{name} profile",
        "behaviors": behaviors(),
        "alertTargets": {"SNS": {"alertTargetArn": "arn:aws:sns:us-east-1:123456789012:dd",
                                 "roleArn": "arn:aws:iam::123456789012:role/dd"}},
        "additionalMetricsToRetainV2": [{"metric": "aws:num-established-tcp-connections"}],
        "version": 3, "creationDate": now - 60 * DAY, "lastModifiedDate": now - 5 * DAY,
    } for name in ("Baseline", "Cameras")]
    events, active = [], []
    for i in range(620):
        thing = THINGS[i % len(THINGS)]
        b = behaviors()[i % 3]
        vid = f"{i:032x}"
        t0 = now - 29 * DAY + i * 3600 + rng.randint(0, 600)
        value = ({"count": 9000000 + i} if b["metric"] == "aws:all-bytes-out"
                 else {"ports": [21, 443, 8883]} if b["metric"] == "aws:listening-tcp-ports"
                 else {"count": 14})
        events.append({"violationId": vid, "thingName": thing, "securityProfileName": "Baseline",
                       "behavior": b, "metricValue": value, "violationEventType": "in-alarm",
                       "violationEventTime": float(t0)})
        if i % 5 or t0 <= now - 2 * DAY:
            events.append({"violationId": vid, "thingName": thing,
                           "securityProfileName": "Baseline", "behavior": b,
                           "violationEventType": "alarm-cleared" if i % 7 else "alarm-invalidated",
                           "violationEventTime": float(t0 + 1800)})
        else:
            active.append({"violationId": vid, "thingName": thing,
                           "securityProfileName": "Baseline", "behavior": b,
                           "lastViolationValue": value, "lastViolationTime": float(t0 + 300),
                           "violationStartTime": float(t0), "verificationState": "UNKNOWN"})
    tasks = []
    for d in range(12):
        start = now - (85 - d * 7) * DAY
        tid = f"{d:02d}" + "c" * 30
        details, findings = {}, []
        for ci, check in enumerate(CHECKS):
            nc = (d * 3 + ci * 11) % 9 if check != CHECKS[3] else 0
            details[check] = {"checkRunStatus": "COMPLETED_NON_COMPLIANT" if nc else "COMPLETED_COMPLIANT",
                              "checkCompliant": nc == 0, "totalResourcesCount": 300,
                              "nonCompliantResourcesCount": nc,
                              "suppressedNonCompliantResourcesCount": 0}
            for k in range(nc * (30 if d == 11 else 1)):
                fid = f"f{d:02d}{ci}{k:04d}"
                res = ({"resourceType": "DEVICE_CERTIFICATE",
                        "resourceIdentifier": {"deviceCertificateId": f"{(d * 1000 + k):064x}"},
                        "additionalInfo": {"EXPIRATION_TIME": str(int(start + 5 * DAY) * 1000)}}
                       if ci != 2 else
                       {"resourceType": "IOT_POLICY",
                        "resourceIdentifier": {"policyVersionIdentifier": {"policyName": f"p{k}", "policyVersionId": "1"}}})
                findings.append({"findingId": fid, "taskId": tid, "checkName": check,
                                 "taskStartTime": float(start), "findingTime": float(start + 30),
                                 "severity": ["CRITICAL", "HIGH", "MEDIUM", "LOW"][k % 4],
                                 "nonCompliantResource": res,
                                 "reasonForNonCompliance": "Certificate is expiring" if ci != 2 else "Policy allows iot:*",
                                 "reasonForNonComplianceCode": "CERTIFICATE_EXPIRING" if ci != 2 else "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
                                 "isSuppressed": k % 13 == 5})
        non = sum(1 for c in details.values() if not c["checkCompliant"])
        tasks.append({"taskId": tid, "taskStatus": "COMPLETED" if d < 11 else "IN_PROGRESS",
                      "taskType": "SCHEDULED_AUDIT_TASK", "taskStartTime": float(start),
                      "scheduledAuditName": "daily",
                      "taskStatistics": {"totalChecks": len(CHECKS), "inProgressChecks": 0,
                                         "waitingForDataCollectionChecks": 0,
                                         "compliantChecks": len(CHECKS) - non,
                                         "nonCompliantChecks": non, "failedChecks": 0,
                                         "canceledChecks": 0},
                      "auditDetails": details, "findings": findings})
    metric_values = []
    for thing in THINGS[:3]:
        for k in range(14 * 24):
            t = now - 14 * DAY + k * HOUR
            metric_values.append({"thingName": thing, "metricName": "aws:all-bytes-out",
                                  "timestamp": float(t), "value": {"count": 1000 + k}})
            metric_values.append({"thingName": thing, "metricName": "aws:listening-tcp-ports",
                                  "timestamp": float(t), "value": {"ports": [443] + ([21] if k > 300 else [])}})
    actions = []
    for name, params in [
        ("quarantine-group", {"addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine"],
                                                              "overrideDynamicGroups": True}}),
        ("deactivate-cert", {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}),
        ("fail-logging", {"enableIoTLoggingParams": {"roleArnForLogging": "arn:aws:iam::123456789012:role/log",
                                                     "logLevel": "ERROR"}}),
    ]:
        actions.append({"actionName": name, "actionId": f"id-{name}",
                        "actionArn": f"arn:aws:iot:us-east-1:123456789012:mitigationaction/{name}",
                        "roleArn": "arn:aws:iam::123456789012:role/mitigation",
                        "actionParams": params, "creationDate": float(now - 30 * DAY),
                        "lastModifiedDate": float(now - 30 * DAY)})
    return {"securityProfiles": profiles, "violationEvents": events, "activeViolations": active,
            "auditTasks": tasks, "metricValues": metric_values, "mitigationActions": actions}


def splunk(now, index="iot", sourcetype="aws-iot-device-defender"):
    rng = random.Random(11)
    out = []
    for h in range(3 * 24):
        arrival = now - 3 * DAY + h * HOUR
        for thing in THINGS[:12]:
            ts_ms = int((arrival - 120) * 1000)
            metrics = [
                {"name": "aws:all-bytes-out", "value": {"count": 1000 + rng.randint(0, 500)}},
                {"name": "aws:listening-tcp-ports", "value": {"ports": [443, 8883] + ([21] if thing == "cam-003" and h > 40 else [])}},
                {"name": "aws:num-authorization-failures", "value": {"count": rng.randint(0, 2)}},
            ]
            for m in metrics:
                ev = {"name": m["name"], "thing": thing, "value": m["value"],
                      "version": 1 + (h % 3), "timestamp": ts_ms}
                out.append({"index": index, "sourcetype": sourcetype, "_time": float(arrival), "event": ev})
    # a duplicate delivery (Firehose retries): same entry, same version
    out.append(dict(out[5]))
    for d in range(3):
        for ci, check in enumerate(CHECKS):
            out.append({"index": index, "sourcetype": sourcetype, "_time": float(now - (2 - d) * DAY - 600),
                        "event": {"checkName": check, "checkRunStatus": "COMPLETED_COMPLIANT" if ci % 2 else "COMPLETED_NON_COMPLIANT",
                                  "nonCompliantResourcesCount": 0 if ci % 2 else 2 + d,
                                  "totalResourcesCount": 300, "suppressedNonCompliantResourcesCount": 0}})
    # noise in another index and sourcetype that must never be read
    out.append({"index": "other", "sourcetype": sourcetype, "_time": float(now - HOUR),
                "event": {"name": "aws:all-bytes-out", "thing": "intruder", "value": {"count": 1},
                          "version": 1, "timestamp": int((now - HOUR) * 1000)}})
    out.append({"index": index, "sourcetype": "syslog", "_time": float(now - HOUR),
                "event": {"name": "aws:all-bytes-out", "thing": "intruder2", "value": {"count": 1},
                          "version": 1, "timestamp": int((now - HOUR) * 1000)}})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["defender", "splunk"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--now", type=float, default=None)
    a = ap.parse_args()
    now = float(int(a.now if a.now is not None else time.time()))
    data = defender(now) if a.kind == "defender" else splunk(now)
    with open(a.out, "w") as f:
        json.dump(data, f)


if __name__ == "__main__":
    main()
