#!/usr/bin/env python3
"""An emulator of AWS Security Hub's findings API, for what moto cannot do.

moto's Security Hub ignores `Filters` and `SortCriteria` and has no `BatchUpdateFindings`, so a
sync that asks only for Device Defender's findings, newest-updated last, from a watermark,
would be tested against a server that returns everything. This one speaks REST-JSON as
botocore's model (`securityhub/2018-10-26`) defines it and keeps findings in memory:

- `BatchImportFindings` (`POST /findings/import`, at most 100): a finding is keyed by
  (`ProductArn`, `Id`); importing it again replaces what the provider owns and keeps what
  analysts set (`Workflow`, `Note`, `VerificationState`, `UserDefinedFields`), as Security Hub
  does. Each finding is checked against the model's required members.
- `GetFindings` (`POST /findings`): `Filters` on the string fields `ProductArn`,
  `AwsAccountId`, `Id`, `GeneratorId`, `Region`, `RecordState`, `WorkflowStatus`,
  `ResourceType`, `ResourceId`, `ComplianceStatus`, `Type`; the date fields `CreatedAt`,
  `UpdatedAt`, `FirstObservedAt`, `LastObservedAt`, `NoteUpdatedAt` (`Start`/`End` or
  `DateRange`); the map
  `ProductFields` — EQUALS / PREFIX / CONTAINS OR-ed, NOT_EQUALS / PREFIX_NOT_EQUALS /
  NOT_CONTAINS AND-ed, as the API documents. A filter it does not implement is refused with
  InvalidInputException, never ignored. `SortCriteria` on any top-level field; `MaxResults` 1-100
  (default 100), an opaque `NextToken`.
- `BatchUpdateFindings` (`PATCH /findings/batchupdate`): `Workflow.Status`, `Note` (Text and
  UpdatedBy, at most 512 characters, stamped with `UpdatedAt`), `VerificationState`; it does
  not change a finding's `UpdatedAt`, as Security Hub documents; unknown identifiers come back
  in `UnprocessedFindings`.
- `GetFindingHistory` (`POST /findingHistory/get`): the finding's change records, newest first
  (as the CLI's documented example lists them), `StartTime`/`EndTime` on `UpdateTime`,
  `MaxResults` 1-100, `NextToken`. An import records `BATCH_IMPORT_FINDINGS` by the product's
  ARN (`FindingCreated` on the first); a `BatchUpdateFindings` records `BATCH_UPDATE_FINDINGS`
  by the caller's identity with one update per changed field, named by its ASFF path as the
  documented example names fields (`Workflow.Status`, `Note.Text`, `Note.UpdatedBy`,
  `VerificationState`). The caller is `arn:aws:iam::<account>:user/<access key id>`, the key
  read from the request's SigV4 `Authorization` header: a test plays a colleague by signing
  with another key.
- Rate: 3 requests a second with a burst of 6 (GetFindings' quota), past it 429
  `LimitExceededException`, the model's error for a throttling limit.

- STS `GetCallerIdentity` on the same endpoint (an SDK given one `--endpoint-url` sends STS
  there too, as it would moto): the account `--account` names (default 123456789012), in
  the query protocol's XML or the JSON protocol, whichever the client speaks.

Control (not AWS): `POST /_emu/faults` (`[{"kind": "throttle"|"error500", "count": n}]`, or
`{"kind": "slow", "delay": s, "count": n}`: the next n calls answer s seconds late),
`GET /_emu/calls` (every call with its body), `GET /_emu/findings`, `POST /_emu/reset`.
"""

import argparse
import base64
import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session

MODEL = botocore.session.get_session().get_service_model("securityhub")
REQUIRED = MODEL.shape_for("AwsSecurityFinding").required_members
LOCK = threading.Lock()
STATE = {"findings": {}, "history": {}, "calls": [], "faults": [], "buckets": {}}
ANALYST_OWNED = ("Workflow", "WorkflowState", "Note", "VerificationState", "UserDefinedFields")
STRING_FIELDS = {
    "ProductArn": lambda f: [f.get("ProductArn")],
    "AwsAccountId": lambda f: [f.get("AwsAccountId")],
    "Id": lambda f: [f.get("Id")],
    "GeneratorId": lambda f: [f.get("GeneratorId")],
    "Region": lambda f: [f.get("Region")],
    "RecordState": lambda f: [f.get("RecordState")],
    "WorkflowStatus": lambda f: [(f.get("Workflow") or {}).get("Status")],
    "ResourceType": lambda f: [r.get("Type") for r in f.get("Resources", [])],
    "ResourceId": lambda f: [r.get("Id") for r in f.get("Resources", [])],
    "ComplianceStatus": lambda f: [(f.get("Compliance") or {}).get("Status")],
    "Type": lambda f: f.get("Types", []),
}
DATE_FIELDS = {
    "CreatedAt": lambda f: f.get("CreatedAt"),
    "UpdatedAt": lambda f: f.get("UpdatedAt"),
    "FirstObservedAt": lambda f: f.get("FirstObservedAt"),
    "LastObservedAt": lambda f: f.get("LastObservedAt"),
    "NoteUpdatedAt": lambda f: (f.get("Note") or {}).get("UpdatedAt"),
}
RATE, BURST = 3.0, 6.0


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def when(text):
    """An ASFF timestamp (ISO 8601, `Z` or an offset) as a UTC datetime."""
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise ApiError(400, "InvalidInputException", f"invalid timestamp {text!r}")
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def now():
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def string_match(values, filters):
    values = [v for v in values if v is not None]
    pos = [f for f in filters if f.get("Comparison", "EQUALS") in ("EQUALS", "PREFIX", "CONTAINS",
                                                                   "CONTAINS_WORD")]
    neg = [f for f in filters if f not in pos]

    def hit(v, f):
        c, x = f.get("Comparison", "EQUALS"), f.get("Value", "")
        if c in ("EQUALS", "NOT_EQUALS"):
            return v == x
        if c in ("PREFIX", "PREFIX_NOT_EQUALS"):
            return v.startswith(x)
        if c == "CONTAINS_WORD":
            return x in v.split()
        return x in v

    if pos and not any(hit(v, f) for f in pos for v in values):
        return False
    return not any(hit(v, f) for f in neg for v in values)


def date_match(value, filters):
    if value is None:
        return False
    t = when(value)
    for f in filters:
        if "DateRange" in f:
            r = f["DateRange"]
            unit = {"DAYS": 86400}.get(r.get("Unit"), 86400)
            if t < dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=r["Value"] * unit):
                return False
            continue
        if "Start" in f and t < when(f["Start"]):
            return False
        if "End" in f and t > when(f["End"]):
            return False
    return True


def matches(finding, filters):
    for name, flist in (filters or {}).items():
        if not flist:
            continue
        if name in STRING_FIELDS:
            if not string_match(STRING_FIELDS[name](finding), flist):
                return False
        elif name in DATE_FIELDS:
            if not date_match(DATE_FIELDS[name](finding), flist):
                return False
        elif name == "ProductFields":
            fields = finding.get("ProductFields") or {}
            for f in flist:
                if not string_match([fields.get(f.get("Key"))], [f]):
                    return False
        else:
            raise ApiError(400, "InvalidInputException",
                           f"the emulator does not implement the filter {name!r}")
    return True


def take(kind):
    for f in STATE["faults"]:
        if f.get("kind") == kind and f.get("count", 1) > 0:
            f["count"] = f.get("count", 1) - 1
            return True
    return False


def throttle(op):
    t = time.monotonic()
    tokens, last = STATE["buckets"].get(op, (BURST, t))
    tokens = min(BURST, tokens + (t - last) * RATE)
    if tokens < 1 or take("throttle"):
        STATE["buckets"][op] = (tokens, t)
        raise ApiError(429, "LimitExceededException", "Rate exceeded")
    STATE["buckets"][op] = (tokens - 1, t)


def record(key, source_type, identity, updates, created=False):
    """One change record of a finding's history (GetFindingHistory's FindingHistoryRecord)."""
    STATE["history"].setdefault(key, []).append({
        "FindingIdentifier": {"ProductArn": key[0], "Id": key[1]},
        "UpdateTime": now(), "FindingCreated": created,
        "UpdateSource": {"Type": source_type, "Identity": identity},
        "Updates": [{"UpdatedField": field, **({"OldValue": old} if old else {}),
                     **({"NewValue": new} if new else {})}
                    for field, old, new in updates if old != new],
    })


def import_findings(body, caller=None):
    findings = body.get("Findings") or []
    if not 1 <= len(findings) <= 100:
        raise ApiError(400, "InvalidInputException", "Findings must hold 1 to 100 findings")
    failed = []
    for f in findings:
        missing = [k for k in REQUIRED if k not in f]
        if missing:
            failed.append({"Id": f.get("Id", ""), "ErrorCode": "InvalidInput",
                           "ErrorMessage": f"missing required members {missing}"})
            continue
        key = (f["ProductArn"], f["Id"])
        old = STATE["findings"].get(key, {})
        new = dict(f)
        for k in ANALYST_OWNED:
            if k in old:
                new[k] = old[k]
        new.setdefault("RecordState", "ACTIVE")
        new.setdefault("Workflow", {"Status": "NEW"})
        new.setdefault("WorkflowState", "NEW")
        new["ProcessedAt"] = now()
        STATE["findings"][key] = new
        changed = [(k, json.dumps(old.get(k), sort_keys=True), json.dumps(new.get(k), sort_keys=True))
                   for k in sorted(set(old) | set(new))
                   if k not in ANALYST_OWNED + ("ProcessedAt", "UpdatedAt", "CreatedAt")] if old else []
        record(key, "BATCH_IMPORT_FINDINGS", f["ProductArn"], changed, created=not old)
    return {"FailedCount": len(failed), "SuccessCount": len(findings) - len(failed),
            "FailedFindings": failed}


def get_findings(body, caller=None):
    size = body.get("MaxResults", 100)
    if not isinstance(size, int) or not 1 <= size <= 100:
        raise ApiError(400, "InvalidInputException", "MaxResults must be 1 to 100")
    rows = [f for f in STATE["findings"].values() if matches(f, body.get("Filters"))]
    for s in reversed(body.get("SortCriteria") or []):
        field = s.get("Field", "")
        rows.sort(key=lambda f: (f.get(field) is None, str(f.get(field) or "")),
                  reverse=s.get("SortOrder", "asc") == "desc")
    return page(rows, body, size, "Findings")


def page(rows, body, size, key):
    """One page of `rows` under `key`, from the request's opaque NextToken; the next token when
    more remain."""
    start = 0
    if body.get("NextToken"):
        try:
            start = int(base64.urlsafe_b64decode(body["NextToken"]).decode())
        except ValueError:
            raise ApiError(400, "InvalidInputException", "invalid NextToken")
    out = {key: rows[start:start + size]}
    if start + size < len(rows):
        out["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return out


def update_findings(body, caller=None):
    ids = body.get("FindingIdentifiers") or []
    if not 1 <= len(ids) <= 100:
        raise ApiError(400, "InvalidInputException", "FindingIdentifiers must hold 1 to 100")
    note = body.get("Note")
    if note is not None and (not note.get("Text") or not note.get("UpdatedBy")
                             or len(note["Text"]) > 512):
        raise ApiError(400, "InvalidInputException", "Note needs Text (1-512) and UpdatedBy")
    status = (body.get("Workflow") or {}).get("Status")
    if status is not None and status not in ("NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"):
        raise ApiError(400, "InvalidInputException", f"invalid Workflow.Status {status!r}")
    done, undone = [], []
    for i in ids:
        f = STATE["findings"].get((i.get("ProductArn"), i.get("Id")))
        if f is None:
            undone.append({"FindingIdentifier": i, "ErrorCode": "FindingNotFound",
                           "ErrorMessage": "Finding Not Found"})
            continue
        before = {"Workflow.Status": (f.get("Workflow") or {}).get("Status"),
                  "Note.Text": (f.get("Note") or {}).get("Text"),
                  "Note.UpdatedBy": (f.get("Note") or {}).get("UpdatedBy"),
                  "VerificationState": f.get("VerificationState")}
        if status:
            f["Workflow"] = {"Status": status}
            f["WorkflowState"] = {"NEW": "NEW", "NOTIFIED": "ASSIGNED", "RESOLVED": "RESOLVED",
                                  "SUPPRESSED": "DEFERRED"}[status]
        if note:
            f["Note"] = {"Text": note["Text"], "UpdatedBy": note["UpdatedBy"], "UpdatedAt": now()}
        if body.get("VerificationState"):
            f["VerificationState"] = body["VerificationState"]
        after = {"Workflow.Status": (f.get("Workflow") or {}).get("Status"),
                 "Note.Text": (f.get("Note") or {}).get("Text"),
                 "Note.UpdatedBy": (f.get("Note") or {}).get("UpdatedBy"),
                 "VerificationState": f.get("VerificationState")}
        record((i["ProductArn"], i["Id"]), "BATCH_UPDATE_FINDINGS", caller,
               [(k, before[k], after[k]) for k in before])
        done.append(i)
    return {"ProcessedFindings": done, "UnprocessedFindings": undone}


def finding_history(body, caller=None):
    ident = body.get("FindingIdentifier") or {}
    key = (ident.get("ProductArn"), ident.get("Id"))
    if not key[0] or not key[1]:
        raise ApiError(400, "InvalidInputException", "FindingIdentifier needs Id and ProductArn")
    if key not in STATE["findings"]:
        raise ApiError(400, "InvalidInputException", "Finding not found")
    size = body.get("MaxResults", 100)
    if not isinstance(size, int) or not 1 <= size <= 100:
        raise ApiError(400, "InvalidInputException", "MaxResults must be 1 to 100")
    rows = list(reversed(STATE["history"].get(key, [])))
    # The model's `Timestamp` is ISO 8601 (`timestampFormat`), in requests and responses.
    if body.get("StartTime"):
        rows = [r for r in rows if when(r["UpdateTime"]) >= when(body["StartTime"])]
    if body.get("EndTime"):
        rows = [r for r in rows if when(r["UpdateTime"]) <= when(body["EndTime"])]
    return page(rows, body, size, "Records")


ROUTES = {("POST", "/findings/import"): ("BatchImportFindings", import_findings),
          ("POST", "/findingHistory/get"): ("GetFindingHistory", finding_history),
          ("POST", "/findings"): ("GetFindings", get_findings),
          ("PATCH", "/findings/batchupdate"): ("BatchUpdateFindings", update_findings)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, payload, code=None):
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("x-amzn-RequestId", "emu-" + str(time.monotonic_ns()))
        if code:
            self.send_header("x-amzn-ErrorType", code)
        self.end_headers()
        self.wfile.write(raw)

    account = "123456789012"

    def caller(self):
        """The caller's identity: an IAM user named by the access key id it signed with."""
        auth = self.headers.get("Authorization") or ""
        key = auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else "anonymous"
        return f"arn:aws:iam::{self.account}:user/{key}"

    def caller_identity(self, raw):
        """STS GetCallerIdentity, answered as botocore's `sts` model shapes it."""
        arn = f"arn:aws:iam::{self.account}:user/securityhub-emulator"
        if "json" in (self.headers.get("Content-Type") or ""):
            return self.reply(200, {"Account": self.account, "Arn": arn, "UserId": "AIDAEMULATOR"})
        xml = ('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
               f"<GetCallerIdentityResult><Arn>{arn}</Arn><UserId>AIDAEMULATOR</UserId>"
               f"<Account>{self.account}</Account></GetCallerIdentityResult>"
               "<ResponseMetadata><RequestId>emu-sts</RequestId></ResponseMetadata>"
               "</GetCallerIdentityResponse>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(xml)))
        self.end_headers()
        self.wfile.write(xml)

    def handle_any(self, method):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        target = self.headers.get("X-Amz-Target") or ""
        if method == "POST" and path == "/" and (b"Action=GetCallerIdentity" in raw
                                                 or target.endswith(".GetCallerIdentity")):
            return self.caller_identity(raw)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.reply(400, {"Code": "InvalidInputException", "Message": "not JSON"},
                              "InvalidInputException")
        if path.startswith("/_emu/"):
            return self.control(method, path, body)
        route = ROUTES.get((method, path))
        if route is None:
            return self.reply(404, {"Code": "InvalidInputException",
                                    "Message": f"{method} {path} is not emulated"},
                              "InvalidInputException")
        op, fn = route
        with LOCK:
            slow = next((f for f in STATE["faults"]
                         if f.get("kind") == "slow" and f.get("count", 1) > 0), None)
            if slow:
                slow["count"] = slow.get("count", 1) - 1
        if slow:
            time.sleep(slow.get("delay", 1))
        with LOCK:
            STATE["calls"].append({"op": op, "body": body})
            try:
                if op in ("GetFindings", "GetFindingHistory"):
                    throttle(op)
                if take("error500"):
                    raise ApiError(500, "InternalException", "Internal service error")
                out = fn(body, self.caller())
            except ApiError as e:
                return self.reply(e.status, {"Code": e.code, "Message": e.message}, e.code)
        self.reply(200, out)

    def control(self, method, path, body):
        with LOCK:
            if path == "/_emu/faults":
                STATE["faults"] = list(body)
                return self.reply(200, {})
            if path == "/_emu/calls":
                return self.reply(200, STATE["calls"])
            if path == "/_emu/findings":
                return self.reply(200, list(STATE["findings"].values()))
            if path == "/_emu/reset":
                STATE.update(findings={}, history={}, calls=[], faults=[], buckets={})
                return self.reply(200, {})
        self.reply(404, {"Message": path})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--account", default="123456789012", help="the account STS answers with")
    a = ap.parse_args()
    Handler.account = a.account
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print(f"listening on {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
