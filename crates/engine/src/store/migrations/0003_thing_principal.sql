-- A thing's certificates as last read from AWS (ListThingPrincipals), so audit findings on a
-- certificate join the thing's timeline.
CREATE TABLE thing_principal (
    thing    TEXT NOT NULL,
    cert_id  TEXT NOT NULL,
    observed INTEGER NOT NULL,
    PRIMARY KEY (thing, cert_id)
) STRICT, WITHOUT ROWID;
