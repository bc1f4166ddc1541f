-- Which Security Hub finding each violation, audit finding or check result came from: its
-- identity there (what BatchUpdateFindings names), the account and region it belongs to, and
-- its workflow state as last read. The first step of accounts as scope (issue #32).
CREATE TABLE hub_finding (
    product_arn TEXT NOT NULL,
    id          TEXT NOT NULL,
    account     TEXT NOT NULL,
    region      TEXT,
    kind        TEXT NOT NULL CHECK (kind IN ('violation', 'finding', 'check')),
    record      TEXT NOT NULL,
    workflow    TEXT,
    updated     INTEGER,
    PRIMARY KEY (product_arn, id)
) STRICT;
CREATE INDEX hub_finding_record ON hub_finding(kind, record);
