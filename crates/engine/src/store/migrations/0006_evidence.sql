-- What the first schema dropped from real producers' documents: the analyst's note on a
-- verification state, ML Detect's confidence, a behavior's datapoint counts and export flag,
-- an audit finding's related resources, and the mitigation actions history.

ALTER TABLE violation ADD COLUMN verification_description TEXT;
ALTER TABLE violation ADD COLUMN confidence TEXT;
ALTER TABLE violation_event ADD COLUMN confidence TEXT;

ALTER TABLE behavior ADD COLUMN consecutive_to_alarm INTEGER;
ALTER TABLE behavior ADD COLUMN consecutive_to_clear INTEGER;
ALTER TABLE behavior ADD COLUMN export_metric INTEGER;

-- relatedResources as JSON ([{type, id, identifier, additional_info}]).
ALTER TABLE finding ADD COLUMN related_json TEXT NOT NULL DEFAULT '[]';

-- Every name a finding's resources carry (non-compliant and related: client ids, certificate
-- ids, policy names, …), matched exactly by `findings --resource` and the thing's timeline.
CREATE TABLE finding_name (
    name       TEXT NOT NULL,
    finding_id TEXT NOT NULL REFERENCES finding(finding_id),
    PRIMARY KEY (name, finding_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO finding_name(name, finding_id)
    SELECT resource, finding_id FROM finding WHERE resource <> '';

-- Mitigation actions tasks as AWS lists them (List{Audit,Detect}MitigationActionsTasks).
-- violation_ids and actions are JSON arrays of strings.
CREATE TABLE mitigation_task (
    task_id       TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    status        TEXT,
    start         INTEGER,
    end_time      INTEGER,
    violation_ids TEXT NOT NULL DEFAULT '[]',
    actions       TEXT NOT NULL DEFAULT '[]'
);

-- One action on one target (List{Audit,Detect}MitigationActionsExecutions); target is the
-- finding id (audit) or the violation id, else the thing (Detect).
CREATE TABLE mitigation_execution (
    task_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    finding_id   TEXT,
    violation_id TEXT,
    thing        TEXT,
    status       TEXT NOT NULL,
    start        INTEGER,
    end_time     INTEGER,
    error_code   TEXT,
    message      TEXT,
    PRIMARY KEY (task_id, action, target)
);
CREATE INDEX mitigation_execution_thing ON mitigation_execution(thing);
CREATE INDEX mitigation_execution_finding ON mitigation_execution(finding_id);
