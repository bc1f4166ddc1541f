-- Every thing's thing type as the registry (ListThings) last said: triage's peers are the
-- things of the same thing group or type before name families and the fleet. NULL: no type.
CREATE TABLE thing_type (
    thing     TEXT PRIMARY KEY,
    type_name TEXT,
    observed  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
