-- Defender Desk cache, schema version 1.
-- Times are UTC epoch milliseconds (INTEGER). Names are interned; sets are content-addressed.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE thing (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE metric (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- One series per (thing, metric, dimension); dim is 'NAME:OP' or '' for none.
CREATE TABLE series (
    id        INTEGER PRIMARY KEY,
    thing_id  INTEGER NOT NULL REFERENCES thing(id),
    metric_id INTEGER NOT NULL REFERENCES metric(id),
    dim       TEXT NOT NULL DEFAULT '',
    first_ts  INTEGER,
    last_ts   INTEGER,
    UNIQUE (thing_id, metric_id, dim)
);

-- Distinct set values (ports, CIDRs, numbers, strings) stored once, keyed by a hash of their
-- JSON; a point whose set did not change costs one integer, not the whole list again.
CREATE TABLE set_value (
    id      INTEGER PRIMARY KEY,
    members TEXT NOT NULL
);

-- Datapoints, one chunk per (series, UTC day), encoded by store/chunk.rs: delta-encoded times,
-- varint versions and values, sorted by time, one point per timestamp (the highest version).
-- kind: 0 count, 1 number, 2 ports, 3 cidrs, 4 numbers, 5 strings; set kinds hold a set_value id.
-- A rowid table, not WITHOUT ROWID: blobs of a few KiB would spill into overflow pages there.
CREATE TABLE chunk (
    id       INTEGER PRIMARY KEY,
    series   INTEGER NOT NULL REFERENCES series(id),
    day      INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts  INTEGER NOT NULL,
    data     BLOB NOT NULL,
    UNIQUE (series, day)
);

-- What fleet-wide triage reads instead of the points (see chunk::Summary): hourly count,
-- mean and max for numbers; the distinct sets and when each was reported for set kinds.
-- Its own table, clustered by day: a triage scan reads a few hundred bytes per chunk, not
-- the chunks themselves.
CREATE TABLE chunk_summary (
    day     INTEGER NOT NULL,
    series  INTEGER NOT NULL REFERENCES series(id),
    summary BLOB NOT NULL,
    PRIMARY KEY (day, series)
) WITHOUT ROWID;

-- One record per violation id, folded from its events (and ListActiveViolations sightings).
CREATE TABLE violation (
    violation_id        TEXT PRIMARY KEY,
    thing_id            INTEGER NOT NULL REFERENCES thing(id),
    security_profile    TEXT NOT NULL,
    behavior            TEXT NOT NULL,
    metric              TEXT,
    behavior_json       TEXT NOT NULL,
    active_started      INTEGER,
    active_last         INTEGER,
    active_value        TEXT,
    active_verification TEXT,
    started             INTEGER,
    ended               INTEGER,
    last_event          TEXT,
    last_event_time     INTEGER,
    last_value          TEXT,
    verification_state  TEXT
);
CREATE INDEX violation_thing ON violation(thing_id);

CREATE TABLE violation_event (
    violation_id       TEXT NOT NULL REFERENCES violation(violation_id),
    time               INTEGER NOT NULL,
    event_type         TEXT NOT NULL,
    value              TEXT,
    verification_state TEXT,
    PRIMARY KEY (violation_id, time, event_type)
) WITHOUT ROWID;

CREATE TABLE audit_task (
    task_id        TEXT PRIMARY KEY,
    start          INTEGER,
    task_type      TEXT,
    status         TEXT,
    scheduled_name TEXT
);

CREATE TABLE audit_check (
    task_id       TEXT NOT NULL,
    check_name    TEXT NOT NULL,
    task_start    INTEGER,
    status        TEXT NOT NULL,
    non_compliant INTEGER,
    total         INTEGER,
    suppressed    INTEGER,
    error_code    TEXT,
    message       TEXT,
    PRIMARY KEY (task_id, check_name)
) WITHOUT ROWID;
CREATE INDEX audit_check_name ON audit_check(check_name);

CREATE TABLE finding (
    finding_id    TEXT PRIMARY KEY,
    task_id       TEXT,
    check_name    TEXT NOT NULL,
    severity      TEXT,
    resource_type TEXT,
    resource      TEXT NOT NULL,
    resource_json TEXT NOT NULL,
    reason        TEXT,
    reason_code   TEXT,
    suppressed    INTEGER NOT NULL,
    found         INTEGER,
    task_start    INTEGER
);
CREATE INDEX finding_check ON finding(check_name);
CREATE INDEX finding_resource ON finding(resource);

CREATE TABLE security_profile (
    name        TEXT PRIMARY KEY,
    arn         TEXT,
    description TEXT,
    version     INTEGER
);

-- Behaviors are the thresholds charts draw.
CREATE TABLE behavior (
    profile          TEXT NOT NULL REFERENCES security_profile(name),
    name             TEXT NOT NULL,
    metric           TEXT,
    dim              TEXT NOT NULL DEFAULT '',
    operator         TEXT,
    value            TEXT,
    statistic        TEXT,
    ml_confidence    TEXT,
    duration_seconds INTEGER,
    suppress_alerts  INTEGER NOT NULL,
    PRIMARY KEY (profile, name)
);
CREATE INDEX behavior_metric ON behavior(metric);
