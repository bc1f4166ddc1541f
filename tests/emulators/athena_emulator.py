#!/usr/bin/env python3
"""An emulator of Amazon Athena that executes its queries with a real engine.

No Athena can run here and moto's runs no SQL (canned results, no paging, no header row), so
this server does: it speaks the Athena API as botocore's model (`athena/2017-05-18`) defines
it — REST-JSON (`POST /query-executions`, what boto3 sends) and JSON 1.1 (`POST /` with
`X-Amz-Target: AmazonAthena.<Operation>`, what `aws-sdk-athena` sends) —, keeps databases and
tables from their DDL, and runs every SELECT through DuckDB after transpiling it from
Athena's Trino SQL with `sqlglot` (`read="athena"`). A table's rows are the JSON lines of the
S3 objects (from `moto_server`, `--s3 URL`) under the partitions the query's `datehour`
predicate selects, read as the OpenX JSON SerDe reads them (keys case-insensitive, one object
per line, a malformed line fails the query unless `ignore.malformed.json` is set);
`DataScannedInBytes` is those objects' stored bytes.

An UNNEST of an array of rows yields the row as one column (`CROSS JOIN UNNEST(metrics) AS
t(m)`, `m.value.count`), as Athena documents and DuckDB does (upstream Trino would expand it into
one column per field). What it does not reproduce, and the tests work around: Trino's approximate
percentiles (`approx_percentile`, a q-digest in Trino, runs as DuckDB's `approx_quantile`, a
t-digest: both approximate, differently — tests compare medians with a tolerance, and the screen
judges by ratios far from any such error), the order of elements in `array_distinct` /
`array_agg` results, and Trino's stricter typing (DuckDB accepts select aliases in WHERE and
comparisons of varchar with numbers; the engine's SQL is parsed as Trino in a test instead).

Operations: GetTableMetadata (the table's LOCATION and properties), StartQueryExecution
(ClientRequestToken idempotent, ResultReuseConfiguration by
age), GetQueryExecution (QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED, with
Statistics and AthenaError), GetQueryResults (values as Trino's text, NULL as an absent
VarCharValue, the first row of a SELECT's first page the column names, MaxResults ≤ 1000,
opaque NextToken), StopQueryExecution.

Control (not AWS): `POST /_emu/faults` — `[{"kind": "slow", "delay": s}]` (each query runs
`delay` seconds longer), `{"kind": "fail", "count": n}` (the next n queries FAIL with
HIVE_CURSOR_ERROR); `GET /_emu/queries` (every query as submitted, for tests), `GET /_emu/executions` (each
execution's query, state and engine milliseconds); `POST /_emu/reset`.
"""

import argparse
import atexit
import base64
import datetime as dt
import gzip
import json
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
import re
import shutil
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import duckdb
import sqlglot
from sqlglot import exp

LOCK = threading.Lock()
STATE = {"databases": {"default"}, "tables": {}, "queries": {}, "tokens": {}, "faults": [],
         "log": []}
S3 = None  # boto3 S3 client of the moto server


class AthenaError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def __reduce__(self):  # raised in a worker process, re-raised here
        return AthenaError, (self.code, self.message, self.status)


# --- DDL --------------------------------------------------------------------------------------

def split_top(text, sep=","):
    """Split on `sep` outside <> and ()."""
    out, depth, cur = [], 0, []
    for c in text:
        if c in "<(":
            depth += 1
        elif c in ">)":
            depth -= 1
        if c == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if "".join(cur).strip():
        out.append("".join(cur))
    return [x.strip() for x in out]


def parse_hive(t):
    """A Hive column type as a tree: ("array", elem) | ("struct", [(name, type)]) |
    ("map", key, value) | ("scalar", name)."""
    t = t.strip()
    low = t.lower()
    if low.startswith("array<") and low.endswith(">"):
        return ("array", parse_hive(t[6:-1]))
    if low.startswith("map<") and low.endswith(">"):
        parts = split_top(t[4:-1])
        if len(parts) != 2:
            fail("InvalidRequestException", f"map type {t} needs a key and a value type")
        return ("map", parse_hive(parts[0]), parse_hive(parts[1]))
    if low.startswith("struct<") and low.endswith(">"):
        fields = []
        for f in split_top(t[7:-1]):
            name, _, ty = f.partition(":")
            fields.append((name.strip().lower(), parse_hive(ty)))
        return ("struct", fields)
    if low in SCALARS:
        return ("scalar", low)
    fail("InvalidRequestException", f"unsupported type {t}")


SCALARS = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "integer": "INTEGER",
           "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP"}


def duck_type(h):
    """A parsed Hive type as DuckDB's."""
    if h[0] == "array":
        return duck_type(h[1]) + "[]"
    if h[0] == "map":
        return f"MAP({duck_type(h[1])}, {duck_type(h[2])})"
    if h[0] == "struct":
        return "STRUCT(" + ", ".join(f'"{n}" {duck_type(ty)}' for n, ty in h[1]) + ")"
    return SCALARS[h[1]]


def hive_type(t):
    """A Hive column type as DuckDB's."""
    return duck_type(parse_hive(t))


def shape(v, h):
    """A JSON value as the OpenX SerDe reads it into a column of type `h`: struct fields matched
    case-insensitively (unknown keys dropped), map keys kept as written."""
    if v is None:
        return None
    if h[0] == "struct":
        if not isinstance(v, dict):
            return None
        low = {str(k).lower(): x for k, x in v.items()}
        return {n: shape(low.get(n), ty) for n, ty in h[1]}
    if h[0] == "array":
        return [shape(x, h[1]) for x in v] if isinstance(v, list) else None
    if h[0] == "map":
        return {str(k): shape(x, h[2]) for k, x in v.items()} if isinstance(v, dict) else None
    if h[1] == "string":
        # A number or an object read into a string column is its JSON text.
        if isinstance(v, bool):
            return "true" if v else "false"
        return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
    if isinstance(v, bool) and h[1] != "boolean" \
            or h[1] in ("bigint", "int", "integer") and not (isinstance(v, int) and -2**63 <= v < 2**63) \
            or h[1] in ("double", "float") and not isinstance(v, (int, float)):
        raise AthenaError("HIVE_BAD_DATA",
                          f"HIVE_BAD_DATA: Error parsing field value '{v}' as {h[1]}")
    return v


def fail(code, message):
    raise AthenaError(code, message)


def matching_paren(text, start):
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    fail("InvalidRequestException", "line 1:1: mismatched input: unbalanced parentheses")


def strip_comments(sql):
    return "\n".join(l for l in sql.splitlines() if not l.strip().startswith("--"))


def create_table(sql, database):
    m = re.match(r"\s*CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([`\w.]+)\s*\(", sql, re.I)
    if not m:
        fail("InvalidRequestException", "only CREATE EXTERNAL TABLE is supported")
    name = m.group(2).replace("`", "").lower()
    db, _, table = name.rpartition(".")
    db = db or database
    if db not in STATE["databases"]:
        fail("InvalidRequestException", f"Database {db} does not exist")
    close = matching_paren(sql, m.end() - 1)
    columns, hive = [], {}
    for col in split_top(sql[m.end():close]):
        cname, ty = col.split(None, 1)
        columns.append((cname.strip("`").lower(), hive_type(ty)))
        hive[cname.strip("`").lower()] = parse_hive(ty)
    rest = sql[close + 1:]
    part = re.search(r"PARTITIONED\s+BY\s*\(\s*`?(\w+)`?\s+string\s*\)", rest, re.I)
    serde = re.search(r"ROW\s+FORMAT\s+SERDE\s+'([^']+)'", rest, re.I)
    if not serde or serde.group(1) != "org.openx.data.jsonserde.JsonSerDe":
        fail("InvalidRequestException", "only the OpenX JSON SerDe is emulated")
    serde_props = {}
    sp = re.search(r"WITH\s+SERDEPROPERTIES\s*\(", rest, re.I)
    if sp:
        end = matching_paren(rest, sp.end() - 1)
        serde_props = dict(re.findall(r"'([^']+)'\s*=\s*'([^']*)'", rest[sp.end():end]))
    loc = re.search(r"LOCATION\s+'(s3://[^']+)'", rest, re.I)
    if not loc:
        fail("InvalidRequestException", "LOCATION is required")
    props = {}
    tp = re.search(r"TBLPROPERTIES\s*\(", rest, re.I)
    if tp:
        end = matching_paren(rest, tp.end() - 1)
        props = dict(re.findall(r"'([^']+)'\s*=\s*'([^']*)'", rest[tp.end():end]))
    key = f"{db}.{table}"
    with LOCK:
        if key in STATE["tables"] and not m.group(1):
            fail("InvalidRequestException", f"Table {key} already exists")
        STATE["tables"][key] = {
            "columns": columns, "partition": part.group(1).lower() if part else None,
            "location": loc.group(1), "props": props, "serde": serde_props, "hive": hive,
        }


# --- reading a table's objects ----------------------------------------------------------------

def hours_between(lo, hi):
    """Every yyyy/MM/dd/HH partition value from lo to hi inclusive."""
    fmt = "%Y/%m/%d/%H"
    a, b = dt.datetime.strptime(lo, fmt), dt.datetime.strptime(hi, fmt)
    if (b - a).total_seconds() > 400 * 86400:
        fail("InvalidRequestException", "partition range too large for the emulator")
    out = []
    while a <= b:
        out.append(a.strftime(fmt))
        a += dt.timedelta(hours=1)
    return out


def partition_range(tree, column):
    """The literal range the query's predicates put on the partition column (None: all)."""
    lo = hi = None
    for node in tree.find_all(exp.Between):
        if isinstance(node.this, exp.Column) and node.this.name.lower() == column:
            lo, hi = node.args["low"].name, node.args["high"].name
    for cls, side in ((exp.GTE, "lo"), (exp.GT, "lo"), (exp.LTE, "hi"), (exp.LT, "hi"),
                      (exp.EQ, "eq")):
        for node in tree.find_all(cls):
            if isinstance(node.this, exp.Column) and node.this.name.lower() == column \
                    and isinstance(node.expression, exp.Literal):
                v = node.expression.name
                if side in ("lo", "eq"):
                    lo = v
                if side in ("hi", "eq"):
                    hi = v
    return lo, hi


def objects_under(url):
    bucket, _, prefix = url[len("s3://"):].partition("/")
    keys = []
    for page in S3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [(bucket, o["Key"], o["Size"], o.get("ETag", "")) for o in page.get("Contents", [])]
    return keys


# An object's rows as the SerDe reads them, shaped once per (table, object version): a screen
# runs several queries over the same partitions, and shaping in Python is the emulator's cost.
# Keyed by the object's ETag, so a rewritten object is read again; a failing object is never kept.
SHAPED = {}
SHAPE_DIR = []
# A Firehose record is at most 1,000 KiB; the shaped line of one is a few times that.
MAX_LINE = 64 << 20
atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in SHAPE_DIR])


def remove_stale_shapes():
    """Tests stop the emulator with SIGKILL, which skips atexit: a later start removes the shaped
    rows of emulators that are gone."""
    base = tempfile.gettempdir()
    for d in os.listdir(base):
        m = re.fullmatch(r"athena-emu-(\d+)-\w+", d)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(base, d), ignore_errors=True)
        except PermissionError:
            pass


def shape_object(body, where, hive, names, partition, value, malformed_ok, path):
    """Writes one object's rows, shaped, as JSON lines to `path` (runs in a worker process)."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    with open(path, "w") as out:
        for n, line in enumerate(body.decode("utf-8", "replace").splitlines()):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
            except ValueError as e:
                if not malformed_ok:
                    raise AthenaError(
                        "HIVE_BAD_DATA",
                        f"HIVE_BAD_DATA: Error parsing field value for field 0: {e} "
                        f"(file {where}, line {n + 1})")
                row = {}
            low = {str(k).lower(): x for k, x in row.items()}
            rec = {c: shape(low.get(c), hive[c]) for c in names}
            if partition:
                rec[partition] = value
            out.write(json.dumps(rec) + "\n")
    return path


def load_table(con, key, table, tree, workdir):
    """Creates a DuckDB table of the rows the query's partitions hold; returns bytes scanned."""
    partition = table["partition"]
    template = table["props"].get("storage.location.template")
    lo = hi = None
    if partition:
        lo, hi = partition_range(tree, partition)
    listings = []
    if partition and template and lo and hi:
        for h in hours_between(lo, hi):
            listings.append((h, template.replace("${" + partition + "}", h)))
    else:
        listings.append((None, table["location"]))
    malformed_ok = table["serde"].get("ignore.malformed.json", "false").lower() == "true"
    names = [c for c, _ in table["columns"]]
    schema = json.dumps([key, table["columns"], partition, malformed_ok])
    scanned = 0
    files, todo = [], []
    for h, url in listings:
        for bucket, k, size, etag in objects_under(url):
            scanned += size
            value = h
            if h is None and partition:
                rel = k[len(url[len("s3://"):].partition("/")[2]):]
                value = "/".join(rel.split("/")[:4])
            ident = (schema, bucket, k, etag, value)
            with LOCK:
                done = SHAPED.get(ident)
            if done is None:
                with LOCK:
                    if not SHAPE_DIR:
                        SHAPE_DIR.append(tempfile.mkdtemp(prefix=f"athena-emu-{os.getpid()}-"))
                done = f"{SHAPE_DIR[0]}/{uuid.uuid4().hex}.json"
                todo.append((ident, bucket, k, value, done))
            files.append(done)
    if todo:
        args = [(S3.get_object(Bucket=b, Key=k)["Body"].read(), f"s3://{b}/{k}", table["hive"],
                 names, partition, v, malformed_ok, path) for _, b, k, v, path in todo]
        if len(args) > 1:
            # spawn, not fork: this server is threaded, a forked child could inherit a held lock
            with ProcessPoolExecutor(max_workers=min(len(args), os.cpu_count() or 1),
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                list(pool.map(shape_object, *zip(*args)))
        else:
            shape_object(*args[0])
        with LOCK:
            for ident, *_, path in todo:
                SHAPED[ident] = path
    cols = dict(table["columns"])
    if partition:
        cols[partition] = "VARCHAR"
    spec = "{" + ", ".join(f"'{c}': '{t}'" for c, t in cols.items()) + "}"
    db, _, name = key.partition(".")
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
    if not files:
        empty = f"{workdir}/{key.replace('.', '_')}.json"
        open(empty, "w").close()
        files = [empty]
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    con.execute(f'CREATE TABLE "{db}"."{name}" AS SELECT * FROM read_json({listed}, '
                f"format='newline_delimited', columns={spec}, ignore_errors=false, "
                f"maximum_object_size={MAX_LINE})")
    return scanned


# --- results as Trino writes them -------------------------------------------------------------

def java_double(x):
    """A double as Java's Double.toString writes it (Trino's text of a double)."""
    if x is None:
        return None
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0.0"
    if 1e-3 <= abs(x) < 1e7:
        return repr(float(x))
    d = Decimal(repr(float(x)))
    sign, digits, exponent = d.as_tuple()
    all_digits = "".join(map(str, digits))
    e = len(all_digits) + exponent - 1
    shown = all_digits.rstrip("0") or "0"
    return ("-" if sign else "") + shown[0] + "." + (shown[1:] or "0") + f"E{e}"


def trino_type(t):
    t = str(t).upper()
    if t.endswith("[]"):
        return "array"
    if t.startswith("STRUCT"):
        return "row"
    return {"VARCHAR": "varchar", "BIGINT": "bigint", "INTEGER": "integer", "DOUBLE": "double",
            "FLOAT": "real", "BOOLEAN": "boolean", "HUGEINT": "bigint", "DATE": "date",
            "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
            "SMALLINT": "smallint", "TINYINT": "tinyint"}.get(t, "varchar" if "DECIMAL" not in t
                                                           else "decimal")


def text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return java_double(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.") + f"{v.microsecond // 1000:03d}" + \
            (" UTC" if v.tzinfo else "")
    if isinstance(v, list):
        return "[" + ", ".join("null" if x is None else text(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={'null' if x is None else text(x)}" for k, x in v.items()) + "}"
    return str(v)


# --- executing --------------------------------------------------------------------------------

def now():
    return dt.datetime.now(dt.timezone.utc)


def run(qid):
    q = STATE["queries"][qid]
    q["Status"] = {"State": "RUNNING", "SubmissionDateTime": q["Status"]["SubmissionDateTime"]}
    started = time.time()
    try:
        delay = sum(f.get("delay", 0) for f in STATE["faults"] if f.get("kind") == "slow")
        end = time.time() + delay
        while time.time() < end:
            if q.get("stop"):
                return
            time.sleep(0.05)
        with LOCK:
            failing = next((f for f in STATE["faults"]
                            if f.get("kind") == "fail" and f.get("count", 1) > 0), None)
            if failing:
                failing["count"] = failing.get("count", 1) - 1
        if failing:
            raise AthenaError("HIVE_CURSOR_ERROR", "HIVE_CURSOR_ERROR: injected failure")
        rows, columns, scanned, statement = execute(q["Query"], q["QueryExecutionContext"])
        if q.get("stop"):
            return
        q["rows"], q["columns"] = rows, columns
        q["StatementType"] = statement
        q["Statistics"] = {"DataScannedInBytes": scanned,
                           "EngineExecutionTimeInMillis": int((time.time() - started) * 1000),
                           "TotalExecutionTimeInMillis": int((time.time() - started) * 1000),
                           "ResultReuseInformation": {"ReusedPreviousResult": False}}
        q["Status"] = {**q["Status"], "State": "SUCCEEDED", "CompletionDateTime": now()}
    except AthenaError as e:
        q["Status"] = {**q["Status"], "State": "FAILED", "CompletionDateTime": now(),
                       "StateChangeReason": e.message,
                       "AthenaError": {"ErrorCategory": 2, "ErrorType": 1006,
                                       "Retryable": False, "ErrorMessage": e.message}}
        q["Statistics"] = {"DataScannedInBytes": 0}
    except Exception as e:  # the engine's own failure: FAILED as Athena's system errors are
        message = f"INTERNAL_ERROR_QUERY_ENGINE: {type(e).__name__}: {e}"[:1024]
        q["Status"] = {**q["Status"], "State": "FAILED", "CompletionDateTime": now(),
                       "StateChangeReason": message,
                       "AthenaError": {"ErrorCategory": 1, "ErrorType": 401,
                                       "Retryable": True, "ErrorMessage": message}}
        q["Statistics"] = {"DataScannedInBytes": 0}


def execute(sql, context):
    database = (context or {}).get("Database", "default").lower()
    body = strip_comments(sql).strip().rstrip(";")
    if re.match(r"CREATE\s+DATABASE", body, re.I):
        m = re.match(r"CREATE\s+DATABASE\s+(IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?", body, re.I)
        with LOCK:
            if m.group(2).lower() in STATE["databases"] and not m.group(1):
                raise AthenaError("InvalidRequestException", f"Database {m.group(2)} already exists")
            STATE["databases"].add(m.group(2).lower())
        return [], [], 0, "DDL"
    if re.match(r"CREATE\s+EXTERNAL\s+TABLE", body, re.I):
        create_table(body, database)
        return [], [], 0, "DDL"
    if not re.match(r"(SELECT|WITH)\b", body, re.I):
        raise AthenaError("InvalidRequestException", "the emulator runs SELECT and DDL only")
    try:
        tree = sqlglot.parse_one(body, read="athena")
    except sqlglot.errors.ParseError as e:
        raise AthenaError("SYNTAX_ERROR", f"line 1:1: {e}")
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    scanned = 0
    with tempfile.TemporaryDirectory() as workdir:
        # DuckDB spills to `.tmp` in the working directory unless told: the query's own one.
        con = duckdb.connect(config={"temp_directory": workdir})
        for t in tree.find_all(exp.Table):
            name = t.name.lower()
            if name in ctes and not t.db:
                continue
            key = f"{(t.db or database).lower()}.{name}"
            table = STATE["tables"].get(key)
            if table is None:
                raise AthenaError("SYNTAX_ERROR",
                                  f"line 1:1: Table 'awsdatacatalog.{key}' does not exist")
            if not con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = ? "
                               "AND table_name = ?", key.split(".")).fetchall():
                scanned += load_table(con, key, table, tree, workdir)
            t.set("db", exp.to_identifier(key.split(".")[0]))
        duck = tree.sql(dialect="duckdb")
        try:
            cur = con.execute(duck)
        except duckdb.Error as e:
            raise AthenaError("SYNTAX_ERROR", f"line 1:1: {e}")
        columns = [(d[0], trino_type(d[1])) for d in cur.description]
        rows = [[text(v) for v in r] for r in cur.fetchall()]
    return rows, columns, max(scanned, 0), "DML"


def start(params):
    sql = params.get("QueryString")
    if not sql or len(sql) > 262144:
        raise AthenaError("InvalidRequestException", "QueryString must be 1 to 262144 characters")
    token = params.get("ClientRequestToken")
    with LOCK:
        if token and token in STATE["tokens"]:
            return {"QueryExecutionId": STATE["tokens"][token]}
        reuse = (params.get("ResultReuseConfiguration") or {}).get("ResultReuseByAgeConfiguration") or {}
        qid = str(uuid.uuid4())
        q = {"QueryExecutionId": qid, "Query": sql,
             "QueryExecutionContext": params.get("QueryExecutionContext") or {},
             "ResultConfiguration": params.get("ResultConfiguration") or {},
             "WorkGroup": params.get("WorkGroup", "primary"),
             "EngineVersion": {"SelectedEngineVersion": "AUTO",
                               "EffectiveEngineVersion": "Athena engine version 3"},
             "Status": {"State": "QUEUED", "SubmissionDateTime": now()}}
        if reuse.get("Enabled"):
            age = reuse.get("MaxAgeInMinutes", 60) * 60
            for old in reversed(list(STATE["queries"].values())):
                if old["Query"] == sql and old["Status"]["State"] == "SUCCEEDED" and \
                        (now() - old["Status"]["CompletionDateTime"]).total_seconds() <= age:
                    q.update(rows=old["rows"], columns=old["columns"],
                             StatementType=old.get("StatementType", "DML"),
                             Statistics={"DataScannedInBytes": 0,
                                         "ResultReuseInformation": {"ReusedPreviousResult": True}},
                             Status={"State": "SUCCEEDED", "SubmissionDateTime": now(),
                                     "CompletionDateTime": now()})
                    break
        STATE["queries"][qid] = q
        STATE["log"].append(sql)
        if token:
            STATE["tokens"][token] = qid
    if q["Status"]["State"] == "QUEUED":
        threading.Thread(target=run, args=(qid,), daemon=True).start()
    return {"QueryExecutionId": qid}


def query(params):
    q = STATE["queries"].get(params.get("QueryExecutionId"))
    if q is None:
        raise AthenaError("InvalidRequestException",
                          f"QueryExecution {params.get('QueryExecutionId')} was not found")
    return q


def wire_time(v):
    return v.timestamp() if isinstance(v, dt.datetime) else v


def describe(q):
    keep = ("QueryExecutionId", "Query", "StatementType", "ResultConfiguration",
            "QueryExecutionContext", "Status", "Statistics", "WorkGroup", "EngineVersion")
    out = {k: q[k] for k in keep if k in q}
    out["Status"] = {k: wire_time(v) for k, v in q["Status"].items()}
    return {"QueryExecution": out}


def results(params):
    q = query(params)
    state = q["Status"]["State"]
    if state != "SUCCEEDED":
        raise AthenaError("InvalidRequestException", f"Query has not yet finished. Current state: {state}")
    limit = int(params.get("MaxResults") or 1000)
    if not 1 <= limit <= 1000:
        raise AthenaError("InvalidRequestException", "MaxResults must be between 1 and 1000")
    rows = q.get("rows", [])
    header = [[c for c, _ in q.get("columns", [])]] if q.get("columns") else []
    every = header + rows
    token = params.get("NextToken")
    offset = int(base64.b64decode(token).decode()) if token else 0
    page = every[offset:offset + limit]
    out = {"UpdateCount": 0, "ResultSet": {
        "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in page],
        "ResultSetMetadata": {"ColumnInfo": [
            {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": c, "Label": c,
             "Type": t, "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN",
             "CaseSensitive": t == "varchar"} for c, t in q.get("columns", [])]}}}
    if offset + limit < len(every):
        out["NextToken"] = base64.b64encode(str(offset + limit).encode()).decode()
    return out


def stop(params):
    q = query(params)
    if q["Status"]["State"] in ("QUEUED", "RUNNING"):
        q["stop"] = True
        q["Status"] = {**q["Status"], "State": "CANCELLED", "CompletionDateTime": now(),
                       "StateChangeReason": "Query was cancelled by user"}
    return {}


def table_metadata(params):
    key = f"{params.get('DatabaseName', '').lower()}.{params.get('TableName', '').lower()}"
    t = STATE["tables"].get(key)
    if t is None:
        raise AthenaError("MetadataException", f"Table {params.get('TableName')} not found")
    return {"TableMetadata": {
        "Name": key.split(".")[1], "TableType": "EXTERNAL_TABLE",
        "Columns": [{"Name": c, "Type": ty.lower()} for c, ty in t["columns"]],
        "PartitionKeys": [{"Name": t["partition"], "Type": "string"}] if t["partition"] else [],
        "Parameters": {"EXTERNAL": "TRUE", "location": t["location"], **t["props"]}}}


OPS = {"StartQueryExecution": start, "GetTableMetadata": table_metadata, "GetQueryExecution": lambda p: describe(query(p)),
       "GetQueryResults": results, "StopQueryExecution": stop}

REST = [("POST", re.compile(r"^/query-executions/?$"), "StartQueryExecution"),
        ("GET", re.compile(r"^/data-catalogs/([^/]+)/databases/([^/]+)/tables/([^/]+)/?$"),
         "GetTableMetadata"),
        ("GET", re.compile(r"^/query-executions/([^/]+)/results/?$"), "GetQueryResults"),
        ("POST", re.compile(r"^/query-executions/([^/]+)/stop/?$"), "StopQueryExecution"),
        ("GET", re.compile(r"^/query-executions/([^/]+)/?$"), "GetQueryExecution")]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, json11):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1" if json11 else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if status >= 400:
            self.send_header("x-amzn-ErrorType", body.get("__type", ""))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path, _, qs = self.path.partition("?")
        if path.startswith("/_emu/"):
            return self.control(method, path, raw)
        target = self.headers.get("X-Amz-Target", "")
        json11 = target.startswith("AmazonAthena.")
        try:
            params = json.loads(raw or b"{}")
            if json11:
                op = target.split(".", 1)[1]
            else:
                op = None
                for m, rx, name in REST:
                    hit = rx.match(path)
                    if m == method and hit:
                        op = name
                        if name == "GetTableMetadata":
                            params.update(CatalogName=hit.group(1), DatabaseName=hit.group(2),
                                          TableName=hit.group(3))
                        elif hit.groups():
                            params["QueryExecutionId"] = hit.group(1)
                        break
                for k, v in (kv.split("=", 1) for kv in qs.split("&") if "=" in kv):
                    from urllib.parse import unquote
                    params[{"NextToken": "NextToken", "MaxResults": "MaxResults"}.get(k, k)] = unquote(v)
            if op not in OPS:
                raise AthenaError("UnknownOperationException", f"unknown operation {op or path}")
            self.reply(200, OPS[op](params), json11)
        except AthenaError as e:
            self.reply(e.status, {"__type": e.code, "message": e.message, "Message": e.message}, json11)

    def control(self, method, path, raw):
        if path == "/_emu/faults" and method == "POST":
            STATE["faults"] = json.loads(raw or b"[]")
            return self.reply(200, {}, False)
        if path == "/_emu/queries":
            return self.reply(200, STATE["log"], False)
        if path == "/_emu/executions":
            return self.reply(200, [{"query": q["Query"], "state": q["Status"]["State"],
                                     "ms": q.get("Statistics", {}).get("EngineExecutionTimeInMillis")}
                                    for q in STATE["queries"].values()], False)
        if path == "/_emu/reset":
            with LOCK:
                STATE.update(databases={"default"}, tables={}, queries={}, tokens={}, faults=[],
                             log=[])
            return self.reply(200, {}, False)
        self.reply(404, {"__type": "NotFound", "message": path}, False)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


def main():
    global S3
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--s3", required=True, help="moto_server base URL holding the export")
    a = ap.parse_args()
    remove_stale_shapes()
    S3 = boto3.client("s3", endpoint_url=a.s3, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print(f"listening on {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
