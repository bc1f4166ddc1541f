#!/usr/bin/env python3
"""A faithful emulator of the AWS IoT Device Defender API (Detect, Audit, mitigation actions).

moto does not implement Device Defender, so this server does, from the AWS IoT model botocore
ships (`iot/2015-05-28/service-2.json`): requests are routed by the model's `requestUri`
templates, responses use the model's wire names and encodings (REST-JSON, timestamps as epoch
seconds, errors as `x-amzn-ErrorType` + `{"message": ...}` with the model's status codes,
opaque `nextToken` pagination). Every other IoT or S3 request is forwarded unchanged to a
`moto_server` (`--moto URL`), so one endpoint serves an SDK client as AWS would.

`tests/emulators/test_defender_emulator.py` proves it faithful: boto3's IoT client calls every
emulated operation and each parsed response is validated against the model's output shape.

Control endpoints (not AWS): `POST /_emu/data` (replace the dataset), `POST /_emu/faults`
(inject faults), `GET /_emu/calls` (call log), `POST /_emu/reset`.

Fault rules: `{"op": "<Operation>|*", "kind": K, "count": n, "delay": s}`, consumed in order
by matching requests. Kinds: `throttle` (400 ThrottlingException), `error500`
(InternalFailureException), `unavailable` (503 ServiceUnavailableException), `reset` (close the
connection before answering), `reset_after` (forward / handle the request, then close the
connection without answering), `truncate` (send half the body), `slow` (sleep `delay` before
the first byte), `expired` (403 ExpiredTokenException), `denied` (403 AccessDeniedException).
"""

import argparse
import base64
import datetime as dt
import gzip
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session

MODEL = botocore.session.get_session().get_service_model("iot")

# Error code -> HTTP status, from the model's error shapes.
ERROR_STATUS = {}
for _name in MODEL.shape_names:
    _shape = MODEL.shape_for(_name)
    if _shape.metadata.get("exception"):
        ERROR_STATUS[_name] = _shape.metadata.get("error", {}).get("httpStatusCode", 400)


def _route(uri):
    path = uri.split("?")[0]
    names = []

    def repl(m):
        names.append(m.group(1).rstrip("+"))
        return "(.+)" if m.group(1).endswith("+") else "([^/]+)"

    return re.compile("^" + re.sub(r"\{([^}]+)\}", repl, path) + "/?$"), names


ROUTES = []
for _op in MODEL.operation_names:
    _m = MODEL.operation_model(_op)
    _rx, _names = _route(_m.http["requestUri"])
    ROUTES.append((_m.http["method"], _rx, _names, _op))
# Literal paths first (/audit/findings before /audit/{x}), then longer templates.
ROUTES.sort(key=lambda r: (r[1].pattern.count("([^/]+)"), -len(r[1].pattern)))

EMULATED = {
    "ListActiveViolations", "ListViolationEvents", "ListMetricValues", "ListSecurityProfiles",
    "DescribeSecurityProfile", "ListAuditTasks", "DescribeAuditTask", "ListAuditFindings",
    "ListMitigationActions", "DescribeMitigationAction", "StartDetectMitigationActionsTask",
    "DescribeDetectMitigationActionsTask", "ListDetectMitigationActionsExecutions",
    "StartAuditMitigationActionsTask", "DescribeAuditMitigationActionsTask",
    "ListAuditMitigationActionsExecutions", "DescribeAuditFinding",
    "ListAuditMitigationActionsTasks", "ListDetectMitigationActionsTasks",
    "PutVerificationStateOnViolation",
}
DETECT = {"ListActiveViolations", "ListViolationEvents", "ListMetricValues",
          "ListSecurityProfiles", "DescribeSecurityProfile",
          "StartDetectMitigationActionsTask", "DescribeDetectMitigationActionsTask",
          "ListDetectMitigationActionsExecutions", "PutVerificationStateOnViolation"}


class ApiError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_time(value, name):
    """Query timestamps: ISO 8601 with or without fractions (botocore, the Rust SDK), or epoch."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        v = value.replace("Z", "+00:00")
        return dt.datetime.fromisoformat(v).timestamp()
    except ValueError:
        raise ApiError("InvalidRequestException", f"{name} is not a valid timestamp: {value}")


def token_for(offset):
    # Opaque and long, like the real ones.
    raw = json.dumps({"o": offset, "pad": "x" * 96}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def offset_of(token):
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except Exception:
        raise ApiError("InvalidRequestException", "The nextToken is invalid")


def page(items, params, key, default_max=25, cap=250):
    start = offset_of(params.get("nextToken"))
    try:
        n = int(params.get("maxResults") or default_max)
    except ValueError:
        raise ApiError("InvalidRequestException", "maxResults must be a number")
    if n < 1 or n > cap:
        raise ApiError("InvalidRequestException",
                       f"1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint")
    out = {key: items[start:start + n]}
    if start + n < len(items):
        out["nextToken"] = token_for(start + n)
    return out


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.data = {}
        self.faults = []
        self.calls = []
        self.detect_tasks = {}
        self.audit_mtasks = {}

    def reset(self):
        with self.lock:
            self.data, self.faults, self.calls = {}, [], []
            self.detect_tasks, self.audit_mtasks = {}, {}

    def take_fault(self, op):
        with self.lock:
            for f in self.faults:
                if f.get("count", 1) > 0 and f.get("op", "*") in ("*", op):
                    f["count"] = f.get("count", 1) - 1
                    return dict(f)
        return None


STATE = State()


def in_window(t, start, end):
    return (start is None or t >= start) and (end is None or t < end)


def handle(op, params, body):
    d = STATE.data
    if op in DETECT and d.get("detectDisabled"):
        raise ApiError("UnauthorizedException",
                       "This account is not subscribed to AWS IoT Device Defender Detect")
    if op == "ListSecurityProfiles":
        ids = [{"name": p["securityProfileName"], "arn": p["securityProfileArn"]}
               for p in d.get("securityProfiles", [])]
        return page(ids, params, "securityProfileIdentifiers")
    if op == "DescribeSecurityProfile":
        for p in d.get("securityProfiles", []):
            if p["securityProfileName"] == params["securityProfileName"]:
                return p
        raise ApiError("ResourceNotFoundException",
                       f"Security profile {params['securityProfileName']} does not exist")
    if op == "PutVerificationStateOnViolation":
        # The state goes on the violation wherever it is listed (active and its events), as
        # ListActiveViolations and ListViolationEvents then return it.
        state = body.get("verificationState")
        if state not in ("FALSE_POSITIVE", "BENIGN_POSITIVE", "TRUE_POSITIVE", "UNKNOWN"):
            raise ApiError("InvalidRequestException", f"invalid verificationState {state!r}")
        vid, found = params["violationId"], False
        for v in d.get("activeViolations", []) + d.get("violationEvents", []):
            if v.get("violationId") == vid:
                found = True
                v["verificationState"] = state
                if "verificationStateDescription" in body:
                    v["verificationStateDescription"] = body["verificationStateDescription"]
        if not found:
            raise ApiError("InvalidRequestException", f"violation {vid} does not exist")
        return {}
    if op == "ListActiveViolations":
        items = [v for v in d.get("activeViolations", [])
                 if params.get("thingName") in (None, v.get("thingName"))]
        return page(items, params, "activeViolations")
    if op == "ListViolationEvents":
        if "startTime" not in params or "endTime" not in params:
            raise ApiError("InvalidRequestException", "startTime and endTime are required")
        s, e = parse_time(params["startTime"], "startTime"), parse_time(params["endTime"], "endTime")
        items = [v for v in d.get("violationEvents", [])
                 if in_window(v["violationEventTime"], s, e)
                 and params.get("thingName") in (None, v.get("thingName"))]
        items.sort(key=lambda v: (v["violationEventTime"], v["violationId"]))
        return page(items, params, "violationEvents")
    if op == "ListMetricValues":
        for k in ("thingName", "metricName", "startTime", "endTime"):
            if k not in params:
                raise ApiError("InvalidRequestException", f"{k} is required")
        s, e = parse_time(params["startTime"], "startTime"), parse_time(params["endTime"], "endTime")
        # A dimensioned query returns only that dimension's values (and a plain one only the
        # plain values); the response does not say which.
        want = (params.get("dimensionName"),
                params.get("dimensionValueOperator", "IN") if params.get("dimensionName") else None)
        items = [{"timestamp": m["timestamp"], "value": m["value"]}
                 for m in d.get("metricValues", [])
                 if m["thingName"] == params["thingName"] and m["metricName"] == params["metricName"]
                 and (m.get("dimensionName"),
                      m.get("dimensionValueOperator", "IN") if m.get("dimensionName") else None) == want
                 and in_window(m["timestamp"], s, e)]
        return page(items, params, "metricDatumList")
    if op == "ListAuditTasks":
        if "startTime" not in params or "endTime" not in params:
            raise ApiError("InvalidRequestException", "startTime and endTime are required")
        s, e = parse_time(params["startTime"], "startTime"), parse_time(params["endTime"], "endTime")
        if s < time.time() - 90 * 86400 - 60:
            raise ApiError("InvalidRequestException",
                           "startTime cannot be more than 90 days in the past")
        items = [{"taskId": t["taskId"], "taskStatus": t["taskStatus"], "taskType": t["taskType"]}
                 for t in d.get("auditTasks", []) if in_window(t["taskStartTime"], s, e)]
        return page(items, params, "tasks")
    if op == "DescribeAuditTask":
        for t in d.get("auditTasks", []):
            if t["taskId"] == params["taskId"]:
                return {k: v for k, v in t.items() if k not in ("taskId", "findings")}
        raise ApiError("ResourceNotFoundException", f"Audit task {params['taskId']} not found")
    if op == "ListAuditFindings":
        task = body.get("taskId")
        if task and ("startTime" in body or "endTime" in body):
            raise ApiError("InvalidRequestException",
                           "taskId and startTime/endTime are mutually exclusive")
        items = []
        for t in d.get("auditTasks", []):
            if task and t["taskId"] != task:
                continue
            if not task and not in_window(t["taskStartTime"], body.get("startTime"), body.get("endTime")):
                continue
            for f in t.get("findings", []):
                if body.get("checkName") in (None, f["checkName"]):
                    items.append(f)
        return page(items, body, "findings")
    if op == "DescribeAuditFinding":
        for t in d.get("auditTasks", []):
            for f in t.get("findings", []):
                if f["findingId"] == params["findingId"]:
                    return {"finding": f}
        raise ApiError("ResourceNotFoundException", f"Finding {params['findingId']} not found")
    if op in ("ListAuditMitigationActionsTasks", "ListDetectMitigationActionsTasks"):
        if "startTime" not in params or "endTime" not in params:
            raise ApiError("InvalidRequestException", "startTime and endTime are required")
        s, e = parse_time(params["startTime"], "startTime"), parse_time(params["endTime"], "endTime")
        detect = op == "ListDetectMitigationActionsTasks"
        tasks = STATE.detect_tasks if detect else STATE.audit_mtasks
        items = []
        for t in sorted(tasks.values(), key=lambda t: t["start"]):
            if not in_window(t["start"], s, e):
                continue
            if detect:
                items.append({"taskId": t["taskId"], "taskStatus": t["status"],
                              "taskStartTime": t["start"],
                              **({"taskEndTime": t["end"]} if "end" in t else {}),
                              "target": t["body"]["target"],
                              "actionsDefinition": [describe_action(n) for n in t["body"]["actions"]],
                              "onlyActiveViolationsIncluded": bool(t["body"].get("includeOnlyActiveViolations")),
                              "suppressedAlertsIncluded": bool(t["body"].get("includeSuppressedAlerts")),
                              "taskStatistics": {"actionsExecuted": t["executed"], "actionsSkipped": 0,
                                                 "actionsFailed": t["failed"]}})
            elif params.get("taskStatus") in (None, t["status"]):
                items.append({"taskId": t["taskId"], "startTime": t["start"], "taskStatus": t["status"]})
        return page(items, params, "tasks")
    if op == "ListMitigationActions":
        items = [{"actionName": a["actionName"], "actionArn": a["actionArn"],
                  "creationDate": a["creationDate"]}
                 for a in d.get("mitigationActions", [])
                 if params.get("actionType") in (None, action_type(a))]
        return page(items, params, "actionIdentifiers")
    if op == "DescribeMitigationAction":
        for a in d.get("mitigationActions", []):
            if a["actionName"] == params["actionName"]:
                return {"actionName": a["actionName"], "actionType": action_type(a),
                        "actionArn": a["actionArn"], "actionId": a["actionId"],
                        "roleArn": a["roleArn"], "actionParams": a["actionParams"],
                        "creationDate": a["creationDate"], "lastModifiedDate": a["lastModifiedDate"]}
        raise ApiError("ResourceNotFoundException", f"Mitigation action {params['actionName']} not found")
    if op == "StartDetectMitigationActionsTask":
        return start_task(STATE.detect_tasks, params["taskId"], body, detect=True)
    if op == "StartAuditMitigationActionsTask":
        return start_task(STATE.audit_mtasks, params["taskId"], body, detect=False)
    if op == "DescribeDetectMitigationActionsTask":
        t = advance(STATE.detect_tasks, params["taskId"])
        return {"taskSummary": {
            "taskId": t["taskId"], "taskStatus": t["status"], "taskStartTime": t["start"],
            **({"taskEndTime": t["end"]} if "end" in t else {}),
            "target": t["body"]["target"],
            "actionsDefinition": [describe_action(n) for n in t["body"]["actions"]],
            "onlyActiveViolationsIncluded": bool(t["body"].get("includeOnlyActiveViolations")),
            "suppressedAlertsIncluded": bool(t["body"].get("includeSuppressedAlerts")),
            "taskStatistics": {"actionsExecuted": t["executed"], "actionsSkipped": 0,
                               "actionsFailed": t["failed"]}}}
    if op == "DescribeAuditMitigationActionsTask":
        t = advance(STATE.audit_mtasks, params["taskId"])
        mapping = t["body"]["auditCheckToActionsMapping"]
        names = sorted({n for v in mapping.values() for n in v})
        return {"taskStatus": t["status"], "startTime": t["start"],
                **({"endTime": t["end"]} if "end" in t else {}),
                "taskStatistics": {c: {"totalFindingsCount": len(t["targets"]),
                                       "failedFindingsCount": t["failed"],
                                       "succeededFindingsCount": t["executed"],
                                       "skippedFindingsCount": 0, "canceledFindingsCount": 0}
                                   for c in mapping},
                "target": t["body"]["target"], "auditCheckToActionsMapping": mapping,
                "actionsDefinition": [describe_action(n) for n in names]}
    if op == "ListDetectMitigationActionsExecutions":
        t = STATE.detect_tasks.get(params.get("taskId"))
        items = t["executions"] if t and t["status"] != "IN_PROGRESS" else []
        return page(items, params, "actionsExecutions")
    if op == "ListAuditMitigationActionsExecutions":
        if not params.get("taskId") or not params.get("findingId"):
            raise ApiError("InvalidRequestException", "taskId and findingId are required")
        t = STATE.audit_mtasks.get(params["taskId"])
        if not t:
            raise ApiError("ResourceNotFoundException", f"Task {params['taskId']} not found")
        items = [e for e in (t["executions"] if t["status"] != "IN_PROGRESS" else [])
                 if params["findingId"] == e["findingId"]]
        return page(items, params, "actionsExecutions")
    raise ApiError("InvalidRequestException", f"{op} is not emulated")


def action_type(a):
    return {"updateDeviceCertificateParams": "UPDATE_DEVICE_CERTIFICATE",
            "updateCACertificateParams": "UPDATE_CA_CERTIFICATE",
            "addThingsToThingGroupParams": "ADD_THINGS_TO_THING_GROUP",
            "replaceDefaultPolicyVersionParams": "REPLACE_DEFAULT_POLICY_VERSION",
            "enableIoTLoggingParams": "ENABLE_IOT_LOGGING",
            "publishFindingToSnsParams": "PUBLISH_FINDING_TO_SNS"}[next(iter(a["actionParams"]))]


def describe_action(name):
    for a in STATE.data.get("mitigationActions", []):
        if a["actionName"] == name:
            return {"name": a["actionName"], "id": a["actionId"], "roleArn": a["roleArn"],
                    "actionParams": a["actionParams"]}
    raise ApiError("InvalidRequestException", f"Mitigation action {name} does not exist")


def start_task(tasks, task_id, body, detect):
    if not re.fullmatch(r"[a-zA-Z0-9_-]{1,128}", task_id):
        raise ApiError("InvalidRequestException", "taskId is invalid")
    token = body.get("clientRequestToken")
    if not token:
        raise ApiError("InvalidRequestException", "clientRequestToken is required")
    with STATE.lock:
        if task_id in tasks:
            if tasks[task_id]["token"] == token:
                return {"taskId": task_id}  # idempotent retry
            raise ApiError("TaskAlreadyExistsException", f"Task {task_id} already exists")
        names = body["actions"] if detect else sorted(
            {n for v in body["auditCheckToActionsMapping"].values() for n in v})
        for n in names:
            describe_action(n)
        target = body.get("target") or {}
        if detect:
            ids = target.get("violationIds") or []
            events = [v for v in STATE.data.get("violationEvents", []) if v["violationId"] in ids]
            things = {v["violationId"]: v["thingName"] for v in events}
            targets = [(vid, things.get(vid, "unknown")) for vid in ids]
        else:
            targets = [(f, None) for f in target.get("findingIds") or []]
        now = time.time()
        execs, failed = [], 0
        for tid, thing in targets:
            for n in names:
                bad = n.startswith("fail")
                failed += bad
                e = {"taskId": task_id, "actionName": n,
                     "status": "FAILED" if bad else ("SUCCESSFUL" if detect else "COMPLETED"),
                     "executionStartDate": now, "executionEndDate": now}
                if detect:
                    e.update({"violationId": tid, "thingName": thing, "actionName": n})
                    e["executionStartDate"], e["executionEndDate"] = now, now
                else:
                    e.update({"findingId": tid, "actionId": describe_action(n)["id"],
                              "startTime": now, "endTime": now})
                    del e["executionStartDate"], e["executionEndDate"]
                if bad:
                    e["errorCode"] = "AccessDeniedException"
                    e["message"] = "The role cannot perform this action"
                execs.append(e)
        tasks[task_id] = {"taskId": task_id, "token": token, "body": body, "start": now,
                          "status": "IN_PROGRESS", "polls": 0, "targets": targets,
                          "executions": execs, "executed": len(execs) - failed, "failed": failed}
        return {"taskId": task_id}


def advance(tasks, task_id):
    with STATE.lock:
        t = tasks.get(task_id)
        if not t:
            raise ApiError("ResourceNotFoundException", f"Task {task_id} not found")
        t["polls"] += 1
        if t["status"] == "IN_PROGRESS" and t["polls"] >= 2:
            t["status"] = "FAILED" if t["failed"] else "COMPLETED" if tasks is STATE.audit_mtasks else "SUCCESSFUL"
            t["end"] = time.time()
        return t


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    moto = None

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("emu: " + fmt % args + "\n")

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, payload, headers=None, fault=None):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if fault and fault["kind"] == "slow":
            time.sleep(float(fault.get("delay", 1)))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault and fault["kind"] == "truncate":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def _error(self, code, message):
        self._send(ERROR_STATUS.get(code, 400), {"message": message},
                   {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazonaws.iot/"})

    def _cut(self):
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def _control(self, method, path, body):
        if path == "/_emu/data" and method == "POST":
            with STATE.lock:
                STATE.data = json.loads(body or b"{}")
        elif path == "/_emu/faults" and method == "POST":
            with STATE.lock:
                STATE.faults = json.loads(body or b"[]")
        elif path == "/_emu/reset" and method == "POST":
            STATE.reset()
        elif path == "/_emu/calls" and method == "GET":
            with STATE.lock:
                return self._send(200, STATE.calls)
        else:
            return self._send(404, {"message": "unknown control path"})
        self._send(200, {"ok": True})

    def _dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        body = self._body()
        if url.path.startswith("/_emu/"):
            return self._control(method, url.path, body)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        op, params = None, {}
        for m, rx, names, name in ROUTES:
            if m != method:
                continue
            hit = rx.match(url.path)
            if hit:
                op = name
                params = {n: urllib.parse.unquote(v) for n, v in zip(names, hit.groups())}
                break
        op_name = op or "S3"
        with STATE.lock:
            STATE.calls.append({"op": op_name, "t": time.time(), "path": url.path,
                                "query": query, "auth": "Authorization" in self.headers})
        fault = STATE.take_fault(op_name)
        if fault:
            kind = fault["kind"]
            simple = {"throttle": ("ThrottlingException", "Rate exceeded"),
                      "error500": ("InternalFailureException", "Internal failure"),
                      "unavailable": ("ServiceUnavailableException", "Service unavailable"),
                      "expired": ("ExpiredTokenException", "The security token included in the request is expired"),
                      "denied": ("AccessDeniedException", "User is not authorized to perform this action")}
            if kind in simple:
                code, msg = simple[kind]
                status = {"expired": 403, "denied": 403}.get(kind)
                if status:
                    return self._send(status, {"message": msg}, {"x-amzn-ErrorType": code})
                return self._error(code, msg)
            if kind == "reset":
                return self._cut()
        if op in EMULATED:
            params.update(query)
            try:
                payload = json.loads(body) if body else {}
            except ValueError:
                return self._error("InvalidRequestException", "body is not JSON")
            try:
                result = handle(op, params, payload)
            except ApiError as e:
                return self._error(e.code, e.message)
            if fault and fault["kind"] == "reset_after":
                return self._cut()
            return self._send(200, result, fault=fault)
        return self._proxy(method, body, fault)

    def _proxy(self, method, body, fault):
        if not self.moto:
            return self._error("InvalidRequestException", "no backend for this request")
        req = urllib.request.Request(self.moto + self.path, data=body if body else None,
                                     method=method)
        for k, v in self.headers.items():
            if k.lower() not in ("host", "content-length", "connection", "transfer-encoding"):
                req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, headers, data = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, data = e.code, e.headers, e.read()
        if fault and fault["kind"] == "reset_after":
            return self._cut()
        if fault and fault["kind"] == "slow":
            time.sleep(float(fault.get("delay", 1)))
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault and fault["kind"] == "truncate":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if method != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_HEAD(self):
        self._dispatch("HEAD")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--moto", help="moto_server base URL for everything not emulated")
    ap.add_argument("--data", help="dataset JSON file")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    if a.data:
        opener = gzip.open if a.data.endswith(".gz") else open
        with opener(a.data, "rt") as f:
            STATE.data = json.load(f)
    Handler.moto = a.moto.rstrip("/") if a.moto else None
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.verbose = a.verbose
    print(f"listening on {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
