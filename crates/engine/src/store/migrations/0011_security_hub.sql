-- Security Hub sources: the source table's closed set of kinds gains 'security-hub' (SQLite
-- cannot alter a CHECK, so the table is rebuilt with its rows, as 0009 did).
CREATE TABLE source_next (
    name      TEXT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('s3', 'splunk', 'defender', 'athena', 'security-hub')),
    settings  TEXT NOT NULL,            -- JSON, kind-specific, no secrets
    created   INTEGER NOT NULL         -- epoch ms
) STRICT;
INSERT INTO source_next(name, kind, settings, created) SELECT name, kind, settings, created FROM source;
DROP TABLE source;
ALTER TABLE source_next RENAME TO source;
