-- Investigation state of things and audit findings: one row per event, never updated, so the
-- history (who set which state, who wrote which note, when) is the record. The current state of
-- a subject is its newest state event.
-- subject: 'thing:<name>' or 'finding:<id>'. A state event has `state` (and `owner`, and the
-- triage reasons it was decided on as JSON in `evidence`); a note event has `note`.
CREATE TABLE case_event (
    id       INTEGER PRIMARY KEY,
    subject  TEXT NOT NULL,
    at       INTEGER NOT NULL,
    who      TEXT NOT NULL,
    state    TEXT CHECK (state IN ('new', 'investigating', 'benign', 'compromised')),
    owner    TEXT,
    note     TEXT,
    evidence TEXT,
    CHECK ((state IS NULL) <> (note IS NULL))
) STRICT;
CREATE INDEX case_event_subject ON case_event(subject, id);
