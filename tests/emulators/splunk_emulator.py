#!/usr/bin/env python3
"""A faithful emulator of the Splunk REST search API for Defender Desk's tests.

Built from the documented wire formats (`../shared/research/splunk-rest.md` §2, §5, §7):
`/services` and `/servicesNS/{owner}/{app}` prefixes, v2 and v1 export paths, form bodies with
or without `Content-Type`, `output_mode` in query or body, Bearer and Splunk auth with Splunk's
401 texts, `server/info` in Atom XML (and JSON), and the export stream as newline-delimited
compact JSON, one object per line, flushed per line: rows `{"preview":false,"offset":N,
"result":{...}}`, `"lastrow":true` on the last, `{"preview":false,"lastrow":true}` when empty,
every value a string (multivalue: an array), `_raw` the event JSON, `_time` as
`YYYY-MM-DD HH:MM:SS.mmm UTC`. The other output modes answer with one document: `xml` (the
default, read by splunk-sdk's `ResultsReader`), `csv`, `json_rows`, `json_cols`, `_time` in
ISO 8601 with an offset.

It evaluates only the SPL Defender Desk emits (`search index=... sourcetype="..."`, `where
field="..."`, `where isnotnull(f)`, `eval epoch_time=_time`, `table ...`, `head N`), with the
quoting rules of §4.1, and answers 400 FATAL for anything else, so drift in the app's queries
is caught. `test_splunk_emulator.py` reads its stream with `splunk-sdk`'s `JSONResultsReader`.

Events come from `--data FILE`: `[{"index", "sourcetype", "_time": epoch, "event": {...}}]`.
Control: `POST /_emu/data`, `POST /_emu/faults` (list of `{"kind", "count", "delay"}`; kinds
`refuse` (503 Search not executed), `cut` (stream cut mid-line), `slow` (delay before the first
byte), `warn` and `fatal` (messages lines), `v1only` (404 on v2)), `POST /_emu/token`
(`{"token": ..., "revoked": bool}`), `GET /_emu/calls`.

HTTP Event Collector (on the same port here; port 8088 on a real Splunk):
`POST /services/collector[/event[/1.0]]` with `Authorization: Splunk <hec-token>`, a body of
JSON event objects run together (`{"time", "host", "source", "sourcetype", "index", "event"}`,
`event` an object or a string), answered as HEC does: `{"text":"Success","code":0}`, 401 code 2
"Token is required", 403 code 4 "Invalid token", 400 code 5 "No data", 6 "Invalid data format",
7 "Incorrect index", 12/13 for a missing/blank `event` (with `invalid-event-number`; the events
before it are indexed, as HEC does), 400 code 10 "Data channel is missing" for a token with
indexer acknowledgement and no `X-Splunk-Request-Channel`, 503 code 9 "Server is busy" (fault
`hec_busy`). Indexed events are searchable (`source="..."` too, `_indextime` set).
HEC tokens: `--hec-token`, or `POST /_emu/hec` (`{token: {"indexes": [...], "ack": bool}}`).
"""

import argparse
import csv
import datetime as dt
import io
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"events": [], "faults": [], "calls": [], "token": "test-token", "revoked": False,
         "version": "9.1.2", "hec_tokens": {}}


def take_fault(kind):
    with LOCK:
        for f in STATE["faults"]:
            if f["kind"] == kind and f.get("count", 1) > 0:
                f["count"] = f.get("count", 1) - 1
                return f
    return None


class SplError(Exception):
    pass


def tokenize(text):
    """Split SPL into tokens: double-quoted literals (with \\ and \" escapes), pipes, words."""
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "|":
            tokens.append(("pipe", "|"))
            i += 1
        elif c == '"':
            j, out = i + 1, []
            while True:
                if j >= len(text):
                    raise SplError("Unbalanced quotes.")
                if text[j] == "\\" and j + 1 < len(text):
                    out.append(text[j + 1])
                    j += 2
                elif text[j] == '"':
                    break
                else:
                    out.append(text[j])
                    j += 1
            tokens.append(("str", "".join(out)))
            i = j + 1
        elif c in "[]`":
            raise SplError(f"Subsearches and macros are not supported by this emulator ({c}).")
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in '|"':
                j += 1
            word = text[i:j]
            # key="value" glued together
            if j < len(text) and text[j] == '"' and word.endswith("="):
                tokens.append(("word", word))
            else:
                tokens.append(("word", word))
            i = j
    return tokens


def commands(tokens):
    cmds, cur = [], []
    for t in tokens:
        if t[0] == "pipe":
            cmds.append(cur)
            cur = []
        else:
            cur.append(t)
    cmds.append(cur)
    return cmds


def field(ev, name):
    if name == "_time":
        return ev["_time"]
    v = ev["event"]
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return None
    for part in name.split("."):
        if isinstance(v, dict) and part in v:
            v = v[part]
        else:
            return None
    return v


def compile_search(spl):
    """Returns (index, sourcetype, pipeline) or raises SplError with Splunk's wording."""
    spl = spl.strip()
    if spl.startswith("|"):
        raise SplError("Generating commands are not supported by this emulator.")
    cmds = commands(tokenize(spl))
    first = cmds[0]
    if not first or first[0] != ("word", "search"):
        word = first[0][1] if first else ""
        raise SplError(f"Unknown search command '{word.split('=')[0]}'.")
    index = sourcetype = source = None
    terms = first[1:]
    k = 0
    while k < len(terms):
        kind, val = terms[k]
        if kind == "word" and val.startswith("index="):
            index = val[len("index="):]
        elif kind == "word" and val == "sourcetype=" and k + 1 < len(terms) and terms[k + 1][0] == "str":
            sourcetype = terms[k + 1][1]
            k += 1
        elif kind == "word" and val.startswith("sourcetype="):
            sourcetype = val[len("sourcetype="):]
        elif kind == "word" and val == "source=" and k + 1 < len(terms) and terms[k + 1][0] == "str":
            source = terms[k + 1][1]
            k += 1
        else:
            raise SplError(f"Search term not supported by this emulator: {val!r}")
        k += 1
    if not index:
        raise SplError("The emulator requires index=... in the base search.")
    pipeline = []
    for cmd in cmds[1:]:
        if not cmd or cmd[0][0] != "word":
            raise SplError("Empty command.")
        name, args = cmd[0][1], cmd[1:]
        if name == "where":
            if len(args) == 2 and args[0][0] == "word" and args[0][1].endswith("=") and args[1][0] == "str":
                pipeline.append(("where_eq", args[0][1][:-1], args[1][1]))
            elif len(args) == 1 and re.fullmatch(r"isnotnull\(([\w.]+)\)", args[0][1]):
                pipeline.append(("where_notnull", re.fullmatch(r"isnotnull\(([\w.]+)\)", args[0][1]).group(1)))
            else:
                raise SplError("Unsupported where clause.")
        elif name == "eval" and len(args) == 1 and args[0][1] == "epoch_time=_time":
            pipeline.append(("eval_epoch",))
        elif name == "table" and all(a[0] == "word" for a in args) and args:
            pipeline.append(("table", [a[1] for a in args]))
        elif name == "head" and len(args) == 1 and args[0][1].isdigit():
            pipeline.append(("head", int(args[0][1])))
        else:
            raise SplError(f"Unknown search command '{name}'.")
    return index, sourcetype, source, pipeline


def parse_bound(v, now):
    if v is None or v == "":
        return None
    if v == "now":
        return now
    try:
        return float(v)
    except ValueError:
        pass
    m = re.fullmatch(r"-(\d+)([smhdw])(?:@([smhdw]))?", v)
    if m:
        mult = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
        t = now - int(m.group(1)) * mult[m.group(2)]
        if m.group(3):
            unit = mult[m.group(3)]
            t -= t % unit
        return t
    try:
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise SplError(f"Invalid time bound: {v}")


def fmt_time(t):
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.strftime("%Y-%m-%d %H:%M:%S.") + f"{d.microsecond // 1000:03d} UTC"


def fmt_time_iso(t):
    """`_time` as Splunk writes it in XML and CSV results: ISO 8601 with the server's offset."""
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}+00:00"


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;").replace('"', "&quot;")


def field_order(rows):
    order = []
    for r in rows:
        for k in r:
            if k not in order:
                order.append(k)
    return order


def values(v):
    return v if isinstance(v, list) else [v]


def results_xml(rows):
    """Results as the REST API writes them without an output_mode (splunklib's ResultsReader
    reads them): `_raw` in `<v xml:space='preserve' trunc='0'>`, other fields as
    `<value><text>` (one per value of a multivalue field), indented with tabs."""
    out = ["<?xml version='1.0' encoding='UTF-8'?>", "<results preview='0'>", "<meta>", "<fieldOrder>"]
    out += [f"<field>{xml_escape(f)}</field>" for f in field_order(rows)]
    out += ["</fieldOrder>", "</meta>"]
    for i, row in enumerate(rows):
        out.append(f"\t<result offset='{i}'>")
        for k, v in row.items():
            out.append(f"\t\t<field k='{xml_escape(k)}'>")
            if k == "_raw":
                out.append(f"\t\t\t<v xml:space='preserve' trunc='0'>{xml_escape(v)}</v>")
            else:
                out.append("\t\t\t" + "".join(f"<value><text>{xml_escape(x)}</text></value>" for x in values(v)))
            out.append("\t\t</field>")
        out.append("\t</result>")
    out.append("</results>")
    return "\n".join(out) + "\n"


def results_csv(rows):
    """`output_mode=csv`: a header of the field names, one line per row, multivalues joined
    by newlines in one cell, quoted where needed (RFC 4180)."""
    buf = io.StringIO()
    fields = field_order(rows)
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields)
    for r in rows:
        w.writerow(["\n".join(values(r[f])) if f in r else "" for f in fields])
    return buf.getvalue()


def results_json_rows(rows, cols=False):
    """`output_mode=json_rows` (`fields` + `rows`) or `json_cols` (`fields` + `columns`)."""
    fields = field_order(rows)
    doc = {"preview": False, "init_offset": 0, "messages": [], "fields": fields}
    table = [[r.get(f) for f in fields] for r in rows]
    if cols:
        doc["columns"] = [[t[i] for t in table] for i in range(len(fields))]
    else:
        doc["rows"] = table
    return json.dumps(doc, separators=(",", ":"))


def stringify(v):
    if isinstance(v, list):
        vals = [stringify(x) for x in v]
        return vals[0] if len(vals) == 1 else vals
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict,)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def parse_row_time(text):
    return dt.datetime.strptime(text.replace(" UTC", "+0000"), "%Y-%m-%d %H:%M:%S.%f%z").timestamp()


def run_search(spl, earliest, latest):
    index, sourcetype, source, pipeline = compile_search(spl)
    now = time.time()
    lo, hi = parse_bound(earliest, now), parse_bound(latest, now)
    with LOCK:
        events = list(STATE["events"])
    rows = []
    for ev in sorted(events, key=lambda e: -e["_time"]):  # newest first, as raw searches
        if ev["index"] != index:
            continue
        if sourcetype is not None and ev["sourcetype"].lower() != sourcetype.lower():
            continue
        if source is not None and ev.get("source", "http:firehose").lower() != source.lower():
            continue
        if (lo is not None and ev["_time"] < lo) or (hi is not None and ev["_time"] >= hi):
            continue
        raw = ev["event"] if isinstance(ev["event"], str) else json.dumps(ev["event"], separators=(",", ":"))
        row = {"_raw": raw, "_time": fmt_time(ev["_time"]),
               "index": ev["index"], "sourcetype": ev["sourcetype"], "host": ev.get("host", "firehose"),
               "source": ev.get("source", "http:firehose"),
               "_indextime": str(int(ev.get("_indextime", ev["_time"])))}
        keep, extra = True, {}
        for step in pipeline:
            if step[0] == "where_eq":
                v = field(ev, step[1])
                keep = keep and v is not None and stringify(v) == step[2]
            elif step[0] == "where_notnull":
                keep = keep and field(ev, step[1]) is not None
            elif step[0] == "eval_epoch":
                extra["epoch_time"] = f"{ev['_time']:.3f}"
            elif step[0] == "table":
                out = {}
                for name in step[1]:
                    if name in extra:
                        out[name] = extra[name]
                    elif name in row:
                        out[name] = row[name]
                    else:
                        v = field(ev, name)
                        if v is not None:
                            out[name] = stringify(v)
                row = out
        if keep:
            row.update({k: v for k, v in extra.items() if k not in row and not any(s[0] == "table" for s in pipeline)})
            rows.append(row)
    for step in pipeline:
        if step[0] == "head":
            rows = rows[: step[1]]
    return rows


SERVER_INFO_XML = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest">
  <title>server-info</title>
  <entry><title>server-info</title>
    <content type="text/xml"><s:dict>
      <s:key name="version">{version}</s:key><s:key name="build">emu</s:key><s:key name="serverName">emu</s:key>
      <s:key name="instance_type">download</s:key>
    </s:dict></content></entry>
</feed>
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Splunkd"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("splunk-emu: " + fmt % args + "\n")

    def _send(self, status, body, ctype="application/json; charset=UTF-8", headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        # Splunkd keeps connections alive and says so; splunklib reads the body only then.
        self.send_header("Connection", "Keep-Alive")
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _messages(self, status, kind, text, mode, headers=None):
        if mode == "json":
            self._send(status, json.dumps({"messages": [{"type": kind, "text": text}]}), headers=headers)
        else:
            xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<response><messages><msg type="{kind}">{text}</msg></messages></response>\n'
            self._send(status, xml, "text/xml; charset=UTF-8", headers)

    def _params(self):
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        params.update(dict(urllib.parse.parse_qsl(body, keep_blank_values=True)))  # body wins
        return url.path, params

    def _auth(self, mode):
        h = self.headers.get("Authorization", "")
        scheme, _, value = h.partition(" ")
        if scheme.lower() in ("bearer", "splunk") and value:
            with LOCK:
                ok = value == STATE["token"] and not STATE["revoked"]
            if ok:
                return True
            self._messages(401, "WARN", "call not properly authenticated", mode)
            return False
        self._messages(401, "ERROR", "Unauthorized", mode, {"WWW-Authenticate": 'Basic realm="/splunk"'})
        return False

    def _dispatch(self, method):
        path, params = self._params()
        if path.startswith("/_emu/"):
            return self._control(method, path, params)
        with LOCK:
            STATE["calls"].append({"method": method, "path": path, "params": params})
        mode = params.get("output_mode", "xml")
        m = re.fullmatch(r"/(?:services|servicesNS/[^/]+/[^/]+)/(.*?)/?", path)
        if not m:
            return self._messages(404, "ERROR", "Not Found", mode)
        rest = m.group(1)
        if not self._auth(mode):
            return
        if rest == "server/info" and method == "GET":
            with LOCK:
                version = STATE["version"]
            if mode == "json":
                return self._send(200, json.dumps({"entry": [{"name": "server-info", "content": {
                    "version": version, "build": "emu", "serverName": "emu"}}]}))
            return self._send(200, SERVER_INFO_XML.format(version=version), "text/xml; charset=UTF-8")
        if rest in ("search/v2/jobs/export", "search/jobs/export", "search/v1/jobs/export"):
            if rest == "search/v2/jobs/export" and (method != "POST" or take_fault("v1only")):
                return self._messages(404, "ERROR", "Not Found", mode)
            return self._export(params, mode)
        return self._messages(404, "ERROR", f"Not Found: {rest}", mode)

    def _hec_answer(self, status, text, code, **extra):
        self._send(status, json.dumps({"text": text, "code": code, **extra}, separators=(",", ":")))

    def _collector(self, body):
        with LOCK:
            STATE["calls"].append({"method": "POST", "path": urllib.parse.urlsplit(self.path).path,
                                   "params": {}, "bytes": len(body)})
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme != "Splunk" or not value:
            return self._hec_answer(401, "Token is required", 2)
        with LOCK:
            tok = STATE["hec_tokens"].get(value)
        if tok is None:
            return self._hec_answer(403, "Invalid token", 4)
        if tok.get("ack") and not self.headers.get("X-Splunk-Request-Channel"):
            return self._hec_answer(400, "Data channel is missing", 10)
        if take_fault("hec_busy"):
            return self._hec_answer(503, "Server is busy", 9)
        text = body.decode("utf-8", "replace")
        dec, pos, n, accepted = json.JSONDecoder(), 0, 0, []

        def index_accepted():
            now = time.time()
            with LOCK:
                for e in accepted:
                    STATE["events"].append(e)
            return now

        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            try:
                obj, pos = dec.raw_decode(text, pos)
            except ValueError:
                index_accepted()
                return self._hec_answer(400, "Invalid data format", 6, **{"invalid-event-number": n})
            if not isinstance(obj, dict) or "event" not in obj:
                index_accepted()
                return self._hec_answer(400, "Event field is required", 12, **{"invalid-event-number": n})
            if obj["event"] in ("", None):
                index_accepted()
                return self._hec_answer(400, "Event field cannot be blank", 13, **{"invalid-event-number": n})
            index = obj.get("index") or tok.get("default_index", "main")
            if tok.get("indexes") is not None and index not in tok["indexes"]:
                index_accepted()
                return self._hec_answer(400, "Incorrect index", 7, **{"invalid-event-number": n})
            now = time.time()
            try:
                t = float(obj["time"]) if "time" in obj else now
            except (TypeError, ValueError):
                index_accepted()
                return self._hec_answer(400, "Invalid data format", 6, **{"invalid-event-number": n})
            accepted.append({"index": index, "sourcetype": obj.get("sourcetype", "httpevent"),
                             "source": obj.get("source", "http:" + tok.get("name", "hec")),
                             "host": obj.get("host", "emu"), "_time": t, "_indextime": now,
                             "event": obj["event"]})
            n += 1
        if n == 0:
            return self._hec_answer(400, "No data", 5)
        index_accepted()
        if tok.get("ack"):
            with LOCK:
                STATE["ack_id"] = STATE.get("ack_id", -1) + 1
                ack = STATE["ack_id"]
            return self._hec_answer(200, "Success", 0, ackId=ack)
        return self._hec_answer(200, "Success", 0)

    def _export(self, params, mode):
        if "search" not in params:
            return self._messages(400, "FATAL", "The required 'search' parameter for the Splunk platform REST API search/jobs endpoint is not specified. Specify the required 'search' parameter for the POST request on the endpoint and then retry your request.", mode)
        if take_fault("refuse"):
            return self._messages(503, "WARN", 'Search not executed: The maximum number of concurrent historical searches for this user based on their role quota has been reached., concurrency_category="historical", concurrency_context="user_instance-wide", current_concurrency=3, concurrency_limit=3', mode)
        try:
            rows = run_search(params["search"], params.get("earliest_time"), params.get("latest_time"))
        except SplError as e:
            return self._messages(400, "FATAL", str(e), mode)
        if mode != "json":
            # The other output modes, each as one document (Splunk streams them in preview
            # blocks; a finished search ends with the whole final one).
            for row in rows:
                if "_time" in row:
                    row["_time"] = fmt_time_iso(parse_row_time(row["_time"]))
            if mode == "xml":
                return self._send(200, results_xml(rows), "text/xml; charset=UTF-8")
            if mode == "csv":
                return self._send(200, results_csv(rows), "text/csv; charset=UTF-8")
            if mode in ("json_rows", "json_cols"):
                return self._send(200, results_json_rows(rows, mode == "json_cols"))
            return self._messages(400, "FATAL", f"Invalid output_mode: {mode}", "xml")
        slow = take_fault("slow")
        if slow:
            time.sleep(float(slow.get("delay", 1)))
        self.send_response(200)
        self.send_header("Connection", "Keep-Alive")
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(line):
            data = (line + "\n").encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        # Faults that act mid-stream wait for a search that has rows to cut.
        cut = take_fault("cut") if rows else None
        warn = take_fault("warn")
        fatal = take_fault("fatal") if rows else None
        if warn:
            chunk(json.dumps({"preview": False, "messages": [{"type": "WARN", "text": warn.get("text", "Partial results: a search peer was unavailable")}]}, separators=(",", ":")))
        for i, row in enumerate(rows):
            if cut and i >= len(rows) // 2:
                line = json.dumps({"preview": False, "offset": i, "result": row}, separators=(",", ":"))
                part = line[: len(line) // 2].encode()
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fatal and i >= len(rows) // 2:
                chunk(json.dumps({"preview": False, "messages": [{"type": "FATAL", "text": "Search auto-canceled"}]}, separators=(",", ":")))
                break
            line = {"preview": False, "offset": i}
            if i == len(rows) - 1:
                line["lastrow"] = True
            line["result"] = row
            chunk(json.dumps(line, separators=(",", ":")))
        if not rows:
            chunk(json.dumps({"preview": False, "lastrow": True}, separators=(",", ":")))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _control(self, method, path, params):
        if path == "/_emu/data":
            with LOCK:
                STATE["events"] = json.loads(self._raw_body)
        elif path == "/_emu/faults":
            with LOCK:
                STATE["faults"] = json.loads(self._raw_body)
        elif path == "/_emu/hec":
            with LOCK:
                STATE["hec_tokens"] = json.loads(self._raw_body)
        elif path == "/_emu/events":
            with LOCK:
                return self._send(200, json.dumps(STATE["events"]))
        elif path == "/_emu/token":
            with LOCK:
                STATE.update(json.loads(self._raw_body))
        elif path == "/_emu/calls":
            with LOCK:
                return self._send(200, json.dumps(STATE["calls"]))
        else:
            return self._send(404, "{}")
        self._send(200, '{"ok":true}')

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        if re.fullmatch(r"/services/collector(?:/event(?:/1\.0)?)?/?", urllib.parse.urlsplit(self.path).path):
            n = int(self.headers.get("Content-Length") or 0)
            return self._collector(self.rfile.read(n) if n else b"")
        if self.path.startswith("/_emu/"):
            n = int(self.headers.get("Content-Length") or 0)
            self._raw_body = self.rfile.read(n) if n else b"null"
            return self._control("POST", self.path, {})
        self._dispatch("POST")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--data", help="events JSON file")
    ap.add_argument("--token", default="test-token")
    ap.add_argument("--hec-token", action="append", default=[],
                    help="an HEC token (any index); repeatable")
    ap.add_argument("--version", default="9.1.2")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    ap.add_argument("--tls-key", help="private key of --tls-cert")
    a = ap.parse_args()
    STATE["token"], STATE["version"] = a.token, a.version
    STATE["hec_tokens"] = {t: {"name": f"hec{i}"} for i, t in enumerate(a.hec_token)}
    if a.data:
        with open(a.data) as f:
            STATE["events"] = json.load(f)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.verbose = a.verbose
    if a.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(f"listening on {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
