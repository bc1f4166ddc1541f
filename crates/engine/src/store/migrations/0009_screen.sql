-- Athena sources: the source table's closed set of kinds gains 'athena' (SQLite cannot alter a
-- CHECK, so the table is rebuilt with its rows).
CREATE TABLE source_next (
    name      TEXT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('s3', 'splunk', 'defender', 'athena')),
    settings  TEXT NOT NULL,            -- JSON, kind-specific, no secrets
    created   INTEGER NOT NULL         -- epoch ms
) STRICT;
INSERT INTO source_next(name, kind, settings, created) SELECT name, kind, settings, created FROM source;
DROP TABLE source;
ALTER TABLE source_next RENAME TO source;

-- What a screen of the whole fleet where the data lies (an Athena source) found: per source its
-- window, the things it covered and what its queries cost; per candidate, the evidence (the
-- reason's words are triage's). A new screen of a source replaces its old one: the cache keeps
-- the candidates, never the fleet.
CREATE TABLE screen (
    source        TEXT PRIMARY KEY,
    window_from   INTEGER NOT NULL,
    window_to     INTEGER NOT NULL,
    screened_at   INTEGER NOT NULL,
    things        INTEGER NOT NULL,
    queries       INTEGER NOT NULL,
    bytes_scanned INTEGER NOT NULL,
    cost_usd      REAL NOT NULL
) STRICT;
-- kind: 'numeric' (a value far above its basis' median), 'new-member' (a set member not in the
-- thing's first sightings) or 'surface' (an attack-surface port listened on).
CREATE TABLE screen_reason (
    source  TEXT NOT NULL REFERENCES screen(source) ON DELETE CASCADE,
    thing   TEXT NOT NULL,
    metric  TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('numeric', 'new-member', 'surface')),
    member  TEXT,
    since   INTEGER NOT NULL,
    peak    REAL,
    median  REAL,
    ratio   REAL,
    hours   INTEGER,
    basis   TEXT,
    peers   INTEGER
) STRICT;
CREATE INDEX screen_reason_thing ON screen_reason(thing);
