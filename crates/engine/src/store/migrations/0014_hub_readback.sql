-- Case state both ways (issue #32): colleagues' changes made in Security Hub come back into the
-- case history. BatchUpdateFindings leaves a finding's UpdatedAt alone, so the incremental pull
-- cannot see them: the read-back compares what it last saw of each finding (seen_*) with the
-- hub's worked and noted findings and reads the history (GetFindingHistory) of those that moved,
-- from history_to on. pushed_* is what this cache itself set last (so its own push is not read
-- back as a colleague's).
ALTER TABLE hub_finding ADD COLUMN seen_workflow TEXT;
ALTER TABLE hub_finding ADD COLUMN seen_note_at INTEGER;
ALTER TABLE hub_finding ADD COLUMN history_to INTEGER;
ALTER TABLE hub_finding ADD COLUMN pushed_at INTEGER;
ALTER TABLE hub_finding ADD COLUMN pushed_workflow TEXT;
ALTER TABLE hub_finding ADD COLUMN pushed_note TEXT;
-- A case event read from Security Hub says so (origin) and is written once (origin_ref: the
-- subject, the change's time, field and value; one BatchUpdateFindings over a thing's several
-- findings is one event). Events of this cache have neither.
ALTER TABLE case_event ADD COLUMN origin TEXT CHECK (origin IN ('security-hub'));
ALTER TABLE case_event ADD COLUMN origin_ref TEXT;
CREATE UNIQUE INDEX case_event_origin ON case_event(origin_ref) WHERE origin_ref IS NOT NULL;
