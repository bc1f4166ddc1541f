-- Sources, sync bookkeeping and the action log. Secrets never live here: a source row holds
-- settings only; a Splunk token is in the OS keychain under the source's name.

CREATE TABLE source (
    name      TEXT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('s3', 'splunk', 'defender')),
    settings  TEXT NOT NULL,            -- JSON, kind-specific, no secrets
    created   INTEGER NOT NULL         -- epoch ms
) STRICT;

-- S3 objects already ingested (or rejected as corrupt): a second sync skips them. Written in the
-- same transaction as the object's data, so a crash can never record an object without its data.
CREATE TABLE sync_object (
    source    TEXT NOT NULL,
    key       TEXT NOT NULL,
    etag      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    outcome   TEXT NOT NULL CHECK (outcome IN ('ingested', 'rejected', 'skipped')),
    detail    TEXT,
    PRIMARY KEY (source, key)
) STRICT, WITHOUT ROWID;

-- How far a source's stream has been read, advanced in the same transaction as the data it covers.
CREATE TABLE sync_watermark (
    source    TEXT NOT NULL,
    stream    TEXT NOT NULL,           -- 'violation-events', 'audit-tasks', 'splunk-events', ...
    covered_from INTEGER NOT NULL,     -- epoch ms, inclusive
    covered_to   INTEGER NOT NULL,     -- epoch ms, exclusive
    PRIMARY KEY (source, stream, covered_from)
) STRICT, WITHOUT ROWID;

-- Last outcome per source, for "last sync and errors per source, said plainly".
CREATE TABLE sync_run (
    source    TEXT PRIMARY KEY,
    finished  INTEGER NOT NULL,
    ok        INTEGER NOT NULL,
    summary   TEXT NOT NULL            -- JSON
) STRICT;

-- Response actions: append-only and hash-chained. A record is inserted as 'pending' before the
-- AWS call; the outcome is a separate appended record pointing at it, never an update.
CREATE TABLE action_log (
    seq       INTEGER PRIMARY KEY,     -- 1, 2, 3, ... no gaps
    at        INTEGER NOT NULL,        -- epoch ms
    record    TEXT NOT NULL,           -- canonical JSON of the record
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;

CREATE TRIGGER action_log_no_update BEFORE UPDATE ON action_log
BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;
CREATE TRIGGER action_log_no_delete BEFORE DELETE ON action_log
BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;

-- A thing's thing groups as last read from AWS (ListThingGroupsForThing), replaced whole per thing.
CREATE TABLE thing_group (
    thing      TEXT NOT NULL,
    group_name TEXT NOT NULL,
    group_arn  TEXT,
    observed   INTEGER NOT NULL,
    PRIMARY KEY (thing, group_name)
) STRICT, WITHOUT ROWID;
